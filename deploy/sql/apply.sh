#!/usr/bin/env bash
# Brings a MariaDB/MySQL database up to Switchboard's schema: applies each numbered migration (NNN-*.sql, in
# order) that the table sb_schema_version does not list yet, and records it there once it succeeded.
# Usage: deploy/sql/apply.sh DATABASE [mariadb client options...]
#   e.g. deploy/sql/apply.sh switchboard --host=127.0.0.1 --port=3306 --user=switchboard --password=...
#        deploy/sql/apply.sh switchboard --socket=/tmp/db/mysqld.sock --user=root
# Creates the database when missing. Needs the mariadb (or mysql) command-line client (the grain-storage
# procedures need its DELIMITER). Safe to run again: applied migrations are skipped, and each migration is
# itself idempotent, so a run that stopped half way (DDL commits as it goes) completes on the next run.
# A database made before versioning (01-/02-*.sql, no sb_schema_version) upgrades the same way: 001 and 002
# are those scripts unchanged. Run one apply.sh at a time per database.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
database="${1:?usage: apply.sh DATABASE [client options...]}"
shift
client=$(command -v mariadb || command -v mysql || true)
if [ -z "$client" ]; then
  echo "apply.sh: the mariadb (or mysql) client is required (apt-get install mariadb-client)" >&2
  exit 2
fi
run() { "$client" --no-defaults "$@"; }

run "$@" -e "CREATE DATABASE IF NOT EXISTS \`$database\` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"
run "$@" "$database" -e "CREATE TABLE IF NOT EXISTS sb_schema_version (
    version    INT NOT NULL PRIMARY KEY,
    name       VARCHAR(200) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    applied_at DATETIME(6) NOT NULL
) ENGINE = InnoDB"
applied=$(run "$@" -N -B "$database" -e "SELECT version FROM sb_schema_version")

latest=0
for file in "$here"/[0-9][0-9][0-9]-*.sql; do
  name=$(basename "$file" .sql)
  version=$((10#${name%%-*}))
  latest=$version
  if grep -qx "$version" <<<"$applied"; then
    continue
  fi
  echo "apply.sh: $name -> $database"
  # The version row goes in the same client run, after the script: the client stops at the first error, so a
  # failed migration is never recorded. autocommit on: a server running with it off would drop the rows at exit.
  { echo "SET SESSION autocommit = 1;"; cat "$file"; printf '\nINSERT IGNORE INTO sb_schema_version (version, name, applied_at) VALUES (%d, '"'%s'"', UTC_TIMESTAMP(6));\n' "$version" "$name"; } |
    run "$@" "$database"
done

current=$(run "$@" -N -B "$database" -e "SELECT IFNULL(MAX(version), 0) FROM sb_schema_version")
if ((current > latest)); then
  echo "apply.sh: $database is at schema version $current, newer than these scripts ($latest); nothing to do"
else
  echo "apply.sh: $database is at schema version $current"
fi
