#!/usr/bin/env bash
# Fills the local cluster's message log with stored conversations straight through SQL, in the product's schema
# (deploy/sql), far faster than sending them: for measuring a start on a full log (docs/performance.md, "Cold start").
#
# Usage: tools/Bench/seed-log.sh [CONVERSATIONS] [CLIENTS]     (defaults 1000000 and 1000; run after `cluster.sh up`)
#
# Every pair of the bench's users u0..u(CLIENTS-1) on different silos (client i is on silo i mod 2, as W1 places them)
# gets a conversation, so each such user owns a list of CLIENTS/2 conversations and every W1 send continues one; the
# rest are between users s<k>a and s<k>b whom no bench run uses. Each conversation holds one message (seq 1), both
# users' list rows and the sender's read marker (the schema's trigger), as a first send leaves them. Uses the same
# SB_DATA_DIR as cluster.sh (root through MariaDB's socket); run it on a test cluster only.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
DATA_DIR="${SB_DATA_DIR:-$here/../../deploy/local/.data}"
SOCKET="$DATA_DIR/mariadb/mysqld.sock"
TOTAL="${1:-1000000}"
CLIENTS="${2:-1000}"
CHUNK=50000
[ -S "$SOCKET" ] || { echo "seed-log: no MariaDB socket at $SOCKET (run deploy/local/cluster.sh up first, same SB_DATA_DIR)" >&2; exit 1; }
sql() { mariadb --no-defaults --socket="$SOCKET" -uroot switchboard "$@"; }

half=$((CLIENTS / 2))
pairs=$((half * half))
((pairs <= TOTAL)) || pairs=$TOTAL
rest=$((TOTAL - pairs))
body='{"p":"seeded-seeded-seeded-seeded-seeded-seeded-seeded-seeded-seeded-","t":0}'
started=$SECONDS

# insert_chunk FROM TO: conversations FROM..TO (numbered from 0: the bench pairs first, then the others), their first
# message and both users' list rows, in one transaction. A conversation the log already has (a bench run before the
# seed) is left as it is: INSERT IGNORE skips its seq 1.
insert_chunk() {
  local users="IF(seq < $pairs, CONCAT('u', 2 * (seq DIV $half)), CONCAT('s', seq, 'a')) a,
               IF(seq < $pairs, CONCAT('u', 2 * (seq MOD $half) + 1), CONCAT('s', seq, 'b')) b, seq n"
  sql <<SQL
START TRANSACTION;
INSERT IGNORE INTO sb_messages (conversation, seq, sender, recipient, request_id, body, created_at)
  SELECT CONCAT('dm:', LEAST(a, b), ':', GREATEST(a, b)), 1, a, CONCAT('user:', b), CONCAT('seed-', n), '$body', UTC_TIMESTAMP(6)
  FROM (SELECT $users FROM seq_${1}_to_${2}) p;
INSERT IGNORE INTO sb_user_conversations (user_id, conversation)
  SELECT a, CONCAT('dm:', LEAST(a, b), ':', GREATEST(a, b)) FROM (SELECT $users FROM seq_${1}_to_${2}) p
  UNION ALL
  SELECT b, CONCAT('dm:', LEAST(a, b), ':', GREATEST(a, b)) FROM (SELECT $users FROM seq_${1}_to_${2}) p;
COMMIT;
SQL
}

echo "seed-log: $TOTAL conversations ($pairs between the bench's u0..u$((CLIENTS - 1)) across silos, $rest others) into $DATA_DIR"
for ((from = 0; from < TOTAL; from += CHUNK)); do
  to=$((from + CHUNK - 1))
  ((to < TOTAL)) || to=$((TOTAL - 1))
  insert_chunk "$from" "$to"
  echo "seed-log: $((to + 1)) of $TOTAL stored ($((SECONDS - started)) s)"
done
echo "seed-log: done in $((SECONDS - started)) s; the log now holds $(sql -N -e 'SELECT COUNT(*) FROM sb_messages') messages"
