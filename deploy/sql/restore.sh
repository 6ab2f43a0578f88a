#!/usr/bin/env bash
# Restores a Switchboard database from a dump made by mariadb-dump (docs/operations.md, "Backup and restore"), brings
# its schema up to date, and gives the log a new epoch: the restore rewinds every conversation's seq, and the new
# epoch in `welcome` is how clients learn to drop the seqs they hold and resume from 0.
# Usage: deploy/sql/restore.sh DUMP_FILE DATABASE [mariadb client options...]
#   e.g. deploy/sql/restore.sh /backups/switchboard.sql switchboard --host=10.0.1.10 --user=root --password=...
# Stop every silo first; start them again once it has finished. The dump must hold DATABASE (--databases DATABASE).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
dump="${1:?usage: restore.sh DUMP_FILE DATABASE [client options...]}"
database="${2:?usage: restore.sh DUMP_FILE DATABASE [client options...]}"
shift 2
say() { printf 'restore.sh: %s\n' "$*"; }
client=$(command -v mariadb || command -v mysql || true)
if [ -z "$client" ]; then
  echo "restore.sh: the mariadb (or mysql) client is required (apt-get install mariadb-client)" >&2
  exit 2
fi
[ -r "$dump" ] || { echo "restore.sh: cannot read $dump" >&2; exit 2; }
grep -q "^CREATE DATABASE .*\`$database\`" "$dump" ||
  { echo "restore.sh: $dump does not create database '$database' (dump it with --databases $database)" >&2; exit 2; }

say "dropping $database and loading $dump"
"$client" --no-defaults "$@" -e "DROP DATABASE IF EXISTS \`$database\`"
"$client" --no-defaults "$@" < "$dump"
say "bringing the schema up to date"
bash "$here/apply.sh" "$database" "$@"
say "giving the log a new epoch (clients drop the seqs they hold and resume from 0)"
"$client" --no-defaults "$@" "$database" -e \
  "SET autocommit = 1; UPDATE sb_log_epoch SET epoch = REPLACE(UUID(), '-', ''), since = UTC_TIMESTAMP(6) WHERE id = 1; SELECT CONCAT('restore.sh: epoch ', epoch) FROM sb_log_epoch WHERE id = 1" --skip-column-names
say "done: start the silos"
