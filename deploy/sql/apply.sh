#!/usr/bin/env bash
# Applies Switchboard's schema (grain storage and message log) to a MariaDB/MySQL database, idempotently.
# Usage: deploy/sql/apply.sh DATABASE [mariadb client options...]
#   e.g. deploy/sql/apply.sh switchboard --host=127.0.0.1 --port=3306 --user=switchboard --password=...
#        deploy/sql/apply.sh switchboard --socket=/tmp/db/mysqld.sock --user=root
# Creates the database when missing. Needs the mariadb (or mysql) command-line client.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
database="${1:?usage: apply.sh DATABASE [client options...]}"
shift
client=$(command -v mariadb || command -v mysql || true)
if [ -z "$client" ]; then
  echo "apply.sh: the mariadb (or mysql) client is required (apt-get install mariadb-client)" >&2
  exit 2
fi
"$client" --no-defaults "$@" -e "CREATE DATABASE IF NOT EXISTS \`$database\` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"
for file in "$here"/[0-9][0-9]-*.sql; do
  echo "apply.sh: $(basename "$file") -> $database"
  "$client" --no-defaults "$@" "$database" < "$file"
done
