#!/usr/bin/env bash
# A local durable Switchboard cluster on 127.0.0.1: Redis (membership, AOF on), MariaDB (grain state and
# message log) and two silos, without systemd or Docker. Data, secrets, logs and pid files live under
# deploy/local/.data/ (git-ignored). See deploy/local/README.md.
#
#   deploy/local/cluster.sh up [--secure]  install what is missing (as root), start what is not running;
#                                          --secure (or SB_SECURE=1): as the reference deployment is documented
#                                          (tokens from a local issuer's JWKS, internal TLS, dev tokens off)
#   deploy/local/cluster.sh status         one line per process: NAME PID URL, or NAME - stopped
#   deploy/local/cluster.sh down [--purge] stop everything `up` started; --purge also deletes .data/
#   deploy/local/cluster.sh stop NAME...   stop some processes (SIGTERM, then SIGKILL after their grace), data kept;
#                                          `up` starts them again (the fault drills of tools/Bench use both)
#
# Adding a managed process (e.g. the gateway): `register` it in define_processes (name, URL, what its
# command line contains, stop stage, grace period, readiness URL, ports), then start it in cmd_up with
# start_process NAME CMD... and wait_ready NAME. `status` and `down` pick it up from the registry.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
PATH="$PATH:/usr/sbin:/sbin"

DATA_DIR="${SB_DATA_DIR:-$here/.data}"
REDIS_PORT="${SB_REDIS_PORT:-6379}"
MARIADB_PORT="${SB_MARIADB_PORT:-3306}"
HTTP_PORT_BASE="${SB_HTTP_PORT_BASE:-5001}"         # silo-1 5001, silo-2 5002
SILO_PORT_BASE="${SB_SILO_PORT_BASE:-11111}"        # silo-1 11111, silo-2 11112
GATEWAY_PORT_BASE="${SB_GATEWAY_PORT_BASE:-30000}"  # silo-1 30000, silo-2 30001
READY_TIMEOUT="${SB_READY_TIMEOUT:-180}"            # seconds `up` waits for /health/ready
# InnoDB buffer pool (see start_mariadb): default half of this machine's memory, at least 1 GiB.
MARIADB_BUFFER_POOL="${SB_MARIADB_BUFFER_POOL:-$(awk '/^MemTotal:/ { m = int($2 * 0.5 / 1048576); print (m < 1 ? 1 : m) "G" }' /proc/meminfo)}"
SILO_COUNT=2

LOG_DIR="$DATA_DIR/logs"
PID_DIR="$DATA_DIR/pids"
SECRET_DIR="$DATA_DIR/secrets"
MARIADB_DIR="$DATA_DIR/mariadb"
MARIADB_SOCKET="$MARIADB_DIR/mysqld.sock"
# SB_READY_TO_RUN=1: the silos and the gateway run from a ReadyToRun publish, code compiled ahead of time, as the
# reference deployment runs them (a fresh process spends less of its first seconds in the JIT); measure starts with it.
# Default 0: a plain build, since the publish recompiles every project for linux-x64 and costs about a minute more.
READY_TO_RUN="${SB_READY_TO_RUN:-0}"
if [ "$READY_TO_RUN" = 1 ]; then
  SILO_DLL="$repo/Silo/bin/Release/net10.0/linux-x64/publish/Switchboard.Silo.dll"
  GATEWAY_DLL="$repo/Gateway/bin/Release/net10.0/linux-x64/publish/Switchboard.Gateway.dll"
else
  SILO_DLL="$repo/Silo/bin/Release/net10.0/Switchboard.Silo.dll"
  GATEWAY_DLL="$repo/Gateway/bin/Release/net10.0/Switchboard.Gateway.dll"
fi
GATEWAY_PORT="${SB_GATEWAY_HTTPS_PORT:-8443}"
ENV_DIR="$DATA_DIR/env"
TLS_DIR="$DATA_DIR/tls"
# 1: Orleans traffic between the silos and from the gateway is mutual TLS with a local internal CA (the
# reference deployment's "Internal TLS"); anything else: plain, as before.
INTERNAL_TLS="${SB_INTERNAL_TLS:-0}"
INTERNAL_TLS_DIR="$TLS_DIR/internal"
# 1 (or `up --secure`): the reference deployment's security settings, remembered in .data/mode until `down`.
SECURE="${SB_SECURE:-0}"
MODE_FILE="$DATA_DIR/mode"
ISSUER_PORT="${SB_ISSUER_PORT:-5990}"
ISSUER_URL="http://127.0.0.1:$ISSUER_PORT"
ISSUER_DLL="$repo/tools/Issuer/bin/Release/net10.0/Switchboard.Issuer.dll"
ISSUER_KEY="$SECRET_DIR/issuer-key.pem"
# The command the systemd units run (deploy/reference/systemd): the local cluster runs it too.
RUN="$repo/deploy/reference/bin/switchboard-run"
DATABASE=switchboard
DB_USER=switchboard

say() { printf '[%3ds] %s\n' "$SECONDS" "$*"; }
die() { printf 'cluster.sh: %s\n' "$*" >&2; exit 1; }
rel() { printf '%s' "${1#"$repo"/}"; }

# ---------------------------------------------------------------- registry of managed processes

PROCS=()
declare -A PROC_URL=() PROC_MATCH=() PROC_STAGE=() PROC_GRACE=() PROC_READY=() PROC_PORTS=()

# register NAME URL MATCH STAGE GRACE READY_URL PORT...
#   MATCH: a string the process's command line contains (guards against a reused pid);
#   STAGE: `down` stops the highest stage first, a stage's processes together;
#   GRACE: seconds between SIGTERM and SIGKILL; READY_URL: polled until 200 ("-" for none).
register() {
  local name=$1
  PROCS+=("$name")
  PROC_URL[$name]=$2
  PROC_MATCH[$name]=$3
  PROC_STAGE[$name]=$4
  PROC_GRACE[$name]=$5
  PROC_READY[$name]=$6
  shift 6
  PROC_PORTS[$name]="$*"
}

silo_http_port() { echo $((HTTP_PORT_BASE + $1 - 1)); }
silo_port() { echo $((SILO_PORT_BASE + $1 - 1)); }
silo_gateway_port() { echo $((GATEWAY_PORT_BASE + $1 - 1)); }

define_processes() {
  register redis "redis://127.0.0.1:$REDIS_PORT" redis-server 1 30 - "$REDIS_PORT"
  register mariadb "mysql://127.0.0.1:$MARIADB_PORT" mariadbd 2 60 - "$MARIADB_PORT"
  local i http
  for ((i = 1; i <= SILO_COUNT; i++)); do
    http=$(silo_http_port "$i")
    register "silo-$i" "http://127.0.0.1:$http" "Switchboard.Silo.dll|switchboard-run silo" 3 10 "http://127.0.0.1:$http/health/ready" \
      "$http" "$(silo_port "$i")" "$(silo_gateway_port "$i")"
  done
  # Stage 4: the gateway stops before the silos.
  register gateway "https://127.0.0.1:$GATEWAY_PORT" "Switchboard.Gateway.dll|switchboard-run gateway" 4 10 "https://127.0.0.1:$GATEWAY_PORT/health/ready" "$GATEWAY_PORT"
  # Secure mode only (or a pid file left from it): the token issuer stops after the silos, which fetch its keys.
  if [ "$SECURE" = 1 ] || [ "$(remembered_mode)" = secure ] || [ -s "$(pid_file issuer)" ]; then
    register issuer "$ISSUER_URL" "Switchboard.Issuer.dll" 2 10 "$ISSUER_URL/.well-known/openid-configuration" "$ISSUER_PORT"
  fi
}

# The mode of the last `up` on this data folder: secure or plain.
remembered_mode() { if [ -s "$MODE_FILE" ]; then cat "$MODE_FILE"; else echo plain; fi; }

pid_file() { printf '%s/%s.pid' "$PID_DIR" "$1"; }

# Prints the pid of NAME and succeeds when its pid file names a live process whose command line matches.
pid_of() {
  local name=$1 file pid cmdline alternatives
  file=$(pid_file "$name")
  [ -s "$file" ] || return 1
  pid=$(<"$file")
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  [ -r "/proc/$pid/cmdline" ] || return 1
  cmdline=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || return 1
  # MATCH may list alternatives separated by '|' (a process started through switchboard-run is that
  # script for a moment before it becomes dotnet).
  local alternative
  IFS='|' read -r -a alternatives <<<"${PROC_MATCH[$name]}"
  for alternative in "${alternatives[@]}"; do
    if [[ $cmdline == *"$alternative"* ]]; then
      printf '%s\n' "$pid"
      return 0
    fi
  done
  return 1
}

is_running() { pid_of "$1" >/dev/null; }

# Whether a process just started still runs. While it execs (switchboard-run becoming dotnet) its command line
# reads empty for a moment: CI once called a healthy gateway dead here. Dead means not matching for a whole second.
still_running() {
  local tries=0
  until is_running "$1"; do
    ((++tries > 5)) && return 1
    sleep 0.2
  done
}

port_busy() {
  if command -v ss >/dev/null; then
    [ -n "$(ss -Hltn "sport = :$1" 2>/dev/null)" ]
  else
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
  fi
}

# Fails with a clear message when a port NAME needs is taken by something this script did not start.
ensure_ports_free() {
  local name=$1 port who
  for port in ${PROC_PORTS[$name]}; do
    if port_busy "$port"; then
      who=$(ss -Hltnp "sport = :$port" 2>/dev/null | grep -o 'users:.*' | head -n 1 || true)
      die "port $port (for $name) is already in use${who:+ by $who}, not by a process this script started.
Stop that process, or pick other ports (SB_REDIS_PORT, SB_MARIADB_PORT, SB_HTTP_PORT_BASE, SB_SILO_PORT_BASE,
SB_GATEWAY_PORT_BASE; see deploy/local/README.md)."
    fi
  done
}

# start_process NAME CMD...: runs CMD detached (own session, no stdin), appending to logs/NAME.log.
start_process() {
  local name=$1 log
  shift
  log="$LOG_DIR/$name.log"
  printf '\n=== %s starting %s\n' "$(date -u +%FT%TZ)" "$name" >>"$log"
  setsid nohup "$@" >>"$log" 2>&1 </dev/null 9>&- &
  local pid=$! deadline=$((SECONDS + 5))
  echo "$pid" >"$(pid_file "$name")"
  # Until the child has exec'd, its command line is this script's, and is_running would call it dead (the
  # readiness wait did, now and then, right after a start): wait for the command line to match first.
  until pid_of "$name" >/dev/null || ((SECONDS >= deadline)) || [ ! -d "/proc/$pid" ]; do
    sleep 0.05
  done
  say "started $name (pid $pid), log $(rel "$log")"
}

fail_with_log() {
  local name=$1
  printf 'cluster.sh: %s is not running; last lines of %s:\n' "$name" "$(rel "$LOG_DIR/$name.log")" >&2
  tail -n 25 "$LOG_DIR/$name.log" >&2 || true
  exit 1
}

# wait_for NAME SECONDS CHECK...: polls CHECK every 0.2 s while NAME stays alive.
wait_for() {
  local name=$1 seconds=$2 deadline
  shift 2
  deadline=$((SECONDS + seconds))
  until "$@"; do
    is_running "$name" || fail_with_log "$name"
    ((SECONDS < deadline)) || die "$name did not become ready in ${seconds}s; see $(rel "$LOG_DIR/$name.log")"
    sleep 0.2
  done
}

# wait_ready NAME...: polls each READY_URL until it answers 200, printing progress every 5 s.
wait_ready() {
  local deadline=$((SECONDS + READY_TIMEOUT)) next_report=$((SECONDS + 5)) pending=("$@") still name code waiting
  say "waiting up to ${READY_TIMEOUT}s for $* to be ready (GET /${PROC_READY[$1]#*://*/} = 200)"
  while ((${#pending[@]} > 0)); do
    still=()
    waiting=""
    for name in "${pending[@]}"; do
      still_running "$name" || fail_with_log "$name"
      code=$(curl -sk -o /dev/null -m 2 -w '%{http_code}' "${PROC_READY[$name]}" 2>/dev/null || true)
      if [ "$code" = 200 ]; then
        say "$name is ready"
      else
        still+=("$name")
        waiting+=" $name (HTTP ${code:-000})"
      fi
    done
    pending=("${still[@]+"${still[@]}"}")
    ((${#pending[@]} > 0)) || break
    if ((SECONDS >= deadline)); then
      die "not ready after ${READY_TIMEOUT}s:$waiting; see $(rel "$LOG_DIR")/<name>.log"
    fi
    if ((SECONDS >= next_report)); then
      say "  still waiting for$waiting"
      next_report=$((SECONDS + 5))
    fi
    sleep 0.5
  done
}

# stop_processes NAME...: SIGTERM to all, then SIGKILL to any still alive after its grace period.
stop_processes() {
  local name pid deadline
  local -A pids=() deadlines=()
  for name in "$@"; do
    if pid=$(pid_of "$name"); then
      say "stopping $name (pid $pid, SIGTERM, up to ${PROC_GRACE[$name]}s)"
      kill -TERM "$pid" 2>/dev/null || true
      pids[$name]=$pid
      deadlines[$name]=$((SECONDS + ${PROC_GRACE[$name]}))
    fi
  done
  while ((${#pids[@]} > 0)); do
    for name in "${!pids[@]}"; do
      if ! is_running "$name"; then
        say "$name stopped"
        unset "pids[$name]"
      elif ((SECONDS >= ${deadlines[$name]})); then
        say "$name did not stop in ${PROC_GRACE[$name]}s: SIGKILL"
        kill -KILL "${pids[$name]}" 2>/dev/null || true
        deadlines[$name]=$((SECONDS + 5))
      fi
    done
    ((${#pids[@]} == 0)) || sleep 0.2
  done
  for name in "$@"; do
    rm -f "$(pid_file "$name")"
  done
}

# ---------------------------------------------------------------- helpers for up

lock() {
  mkdir -p "$DATA_DIR"
  exec 9>"$DATA_DIR/.lock"
  flock -n 9 || die "another cluster.sh up/down is running on $(rel "$DATA_DIR")"
}

# secret NAME: prints .data/secrets/NAME, made once from 32 random bytes (hex).
secret() {
  local file="$SECRET_DIR/$1"
  if [ ! -s "$file" ]; then
    (umask 077 && mkdir -p "$SECRET_DIR" && od -An -tx1 -N32 /dev/urandom | tr -d ' \n' >"$file")
    say "generated $(rel "$file")" >&2
  fi
  cat "$file"
}

ensure_packages() {
  local missing=()
  command -v redis-server >/dev/null && command -v redis-cli >/dev/null || missing+=(redis-server)
  command -v mariadbd >/dev/null && command -v mariadb-install-db >/dev/null || missing+=(mariadb-server)
  command -v mariadb >/dev/null && command -v mariadb-admin >/dev/null || missing+=(mariadb-client)
  command -v curl >/dev/null || missing+=(curl)
  command -v flock >/dev/null && command -v setsid >/dev/null || missing+=(util-linux)
  if ((${#missing[@]} > 0)); then
    [ "$(id -u)" = 0 ] || die "missing ${missing[*]}: run as root, or install them: sudo apt-get install ${missing[*]}"
    command -v apt-get >/dev/null || die "missing ${missing[*]} and no apt-get to install them"
    say "installing ${missing[*]} with apt-get (about 20 s)"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
  command -v dotnet >/dev/null || die "the .NET 10 SDK (dotnet) is required to build and run the silos"
}

start_redis() {
  local pid
  if pid=$(pid_of redis); then
    say "redis already running (pid $pid)"
    return
  fi
  ensure_ports_free redis
  mkdir -p "$DATA_DIR/redis"
  # AOF: a Redis restart keeps the membership table (without it the membership provider breaks).
  start_process redis redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --dir "$DATA_DIR/redis" \
    --appendonly yes --appendfsync everysec --save '' --daemonize no
  wait_for redis 30 redis_ready
  say "redis is ready on 127.0.0.1:$REDIS_PORT (AOF in $(rel "$DATA_DIR/redis"))"
}

redis_ready() { [ "$(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null)" = PONG ]; }

mariadb_user_option() {
  # mariadbd refuses to run as root without --user=root; as another user the option is not needed.
  if [ "$(id -u)" = 0 ]; then echo --user=root; else echo "--user=$(id -un)"; fi
}

start_mariadb() {
  local pid user_option
  if pid=$(pid_of mariadb); then
    say "mariadb already running (pid $pid)"
    return
  fi
  ensure_ports_free mariadb
  ((${#MARIADB_SOCKET} < 100)) || die "socket path too long for a Unix socket: $MARIADB_SOCKET (set SB_DATA_DIR to a shorter path)"
  user_option=$(mariadb_user_option)
  # Owner only: root has no password and is reachable through the socket in this folder alone.
  mkdir -p "$MARIADB_DIR"
  chmod 700 "$MARIADB_DIR"
  if [ ! -d "$MARIADB_DIR/data" ]; then
    say "initialising the MariaDB data directory (first run): mariadb-install-db"
    rm -rf "$MARIADB_DIR/data.init"
    mariadb-install-db --no-defaults --datadir="$MARIADB_DIR/data.init" "$user_option" \
      --auth-root-authentication-method=normal --skip-test-db >"$LOG_DIR/mariadb-install.log" 2>&1 ||
      die "mariadb-install-db failed; see $(rel "$LOG_DIR/mariadb-install.log")"
    mv "$MARIADB_DIR/data.init" "$MARIADB_DIR/data"
  fi
  # innodb_flush_log_at_trx_commit stays at its default (1): a commit survives a crash. --skip-name-resolve:
  # a TCP client from 127.0.0.1 must not pass for root@localhost (socket only). --max-connections: room
  # for every silo's pool (Maximum Pool Size below) with a margin; the default 151 is less than two pools.
  # --innodb-buffer-pool-size: an append writes its conversation's last page of the log (16 KiB; the log is
  # clustered by conversation), so the pool should hold one page per conversation in use, or appends read evicted
  # pages back and write dirty ones out (W1 measured: 128 MiB -> 2 GiB on a 1.9 GB log, 230 -> 170 us of MariaDB CPU
  # per message; 2 -> 10 GiB on a 13 GB log whose W1 pages need ~9 GiB, 223-227 -> 164-214 us). The pool takes
  # memory only as pages are used. --innodb-log-file-size, --innodb-io-capacity: the 96 MiB redo log default
  # filled within seconds at W3's rates, and InnoDB then flushed dirty pages synchronously to advance its
  # checkpoint (an append dirties its conversation's page, so about one 16 KiB page written per message); with 1 GiB
  # of redo and background flushing sized for an SSD, a page takes many appends before it is written (measured W3:
  # 5,000 msg/s at 300 us -> 8,000 at 186 us per message; W1: 0.4-1.0 -> 0.01-0.02 pages written per message).
  # Crash recovery replays up to that much redo.
  start_process mariadb mariadbd --no-defaults --datadir="$MARIADB_DIR/data" --socket="$MARIADB_SOCKET" \
    --pid-file="$MARIADB_DIR/mysqld.pid" --port="$MARIADB_PORT" --bind-address=127.0.0.1 "$user_option" \
    --skip-log-bin --skip-name-resolve --max-connections=500 --innodb-buffer-pool-size="$MARIADB_BUFFER_POOL" \
    --innodb-log-file-size=1G --innodb-io-capacity=1000 \
    ${SWITCHBOARD_MARIADB_OPTIONS:-}
  wait_for mariadb 60 mariadb_ready
  say "mariadb is ready on 127.0.0.1:$MARIADB_PORT (data in $(rel "$MARIADB_DIR/data"))"
}

mariadb_ready() { mariadb-admin --no-defaults --socket="$MARIADB_SOCKET" -uroot ping >/dev/null 2>&1; }

root_sql() { mariadb --no-defaults --socket="$MARIADB_SOCKET" -uroot "$@"; }

setup_database() {
  local password=$1 host
  # mariadb-install-db also makes password-less root accounts for TCP (127.0.0.1, ::1, the host name).
  for host in $(root_sql -N -e "SELECT Host FROM mysql.global_priv WHERE User = 'root' AND Host <> 'localhost'"); do
    say "dropping the password-less TCP account root@$host (root is reachable through the socket only)"
    root_sql -e "DROP USER 'root'@'$host'"
  done
  say "ensuring database $DATABASE and user $DB_USER@127.0.0.1"
  # Through stdin, so the password is not on a command line.
  root_sql <<SQL
CREATE DATABASE IF NOT EXISTS \`$DATABASE\` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;
CREATE USER IF NOT EXISTS '$DB_USER'@'127.0.0.1' IDENTIFIED BY '$password';
ALTER USER '$DB_USER'@'127.0.0.1' IDENTIFIED BY '$password';
GRANT ALL PRIVILEGES ON \`$DATABASE\`.* TO '$DB_USER'@'127.0.0.1';
SQL
  say "applying the schema migrations it lacks with deploy/sql/apply.sh"
  MYSQL_PWD="$password" bash "$repo/deploy/sql/apply.sh" "$DATABASE" --protocol=TCP --host=127.0.0.1 \
    --port="$MARIADB_PORT" --user="$DB_USER" | sed 's/^/        /'
}

any_silo_running() {
  local i
  for ((i = 1; i <= SILO_COUNT; i++)); do
    if is_running "silo-$i"; then return 0; fi
  done
  return 1
}

# build_host PROJECT: the host as cluster.sh runs it (see READY_TO_RUN); the crossgen2 compiler comes from NuGet.
build_host() {
  if [ "$READY_TO_RUN" = 1 ]; then
    dotnet publish "$1" -c Release -r linux-x64 --self-contained false -p:PublishReadyToRun=true \
      -o "$repo/$1/bin/Release/net10.0/linux-x64/publish" -nologo -v quiet --disable-build-servers 9>&-
  else
    dotnet build "$1" -c Release -nologo -v quiet --disable-build-servers 9>&-
  fi
}

build_silo() {
  # SB_SKIP_BUILD=1: a drill restarting the cluster under load must not time a build as part of the outage.
  if [ "${SB_SKIP_BUILD:-0}" = 1 ] && [ -f "$SILO_DLL" ] && [ -f "$GATEWAY_DLL" ]; then
    say "SB_SKIP_BUILD=1: starting from the existing build"
    return
  fi
  if any_silo_running; then
    # Rebuilding would overwrite the assemblies a running silo has loaded.
    [ -f "$SILO_DLL" ] || die "a silo is running but $(rel "$SILO_DLL") is missing"
    say "a silo is running: starting any missing one from the existing build (run down, then up, to rebuild)"
    return
  fi
  if [ "$READY_TO_RUN" = 1 ]; then
    say "building the Silo and the Gateway$([ "$SECURE" = 1 ] && echo ' and tools/Issuer') (dotnet publish -c Release, ReadyToRun: SB_READY_TO_RUN=1)"
  else
    say "building the Silo and the Gateway$([ "$SECURE" = 1 ] && echo ' and tools/Issuer') (dotnet build -c Release)"
  fi
  (cd "$repo" && build_host Silo && build_host Gateway &&
    if [ "$SECURE" = 1 ]; then dotnet build tools/Issuer -c Release -nologo -v quiet --disable-build-servers 9>&-; fi) ||
    die "the build failed"
  [ "$SECURE" != 1 ] || [ -f "$ISSUER_DLL" ] || die "the build did not produce $(rel "$ISSUER_DLL")"
  [ -f "$SILO_DLL" ] || die "the build did not produce $(rel "$SILO_DLL")"
  [ -f "$GATEWAY_DLL" ] || die "the build did not produce $(rel "$GATEWAY_DLL")"
}

# write_env FILE KEY=VALUE...: an EnvironmentFile as the units read it (values with ';' in double quotes).
write_env() {
  local file=$1 pair
  shift
  mkdir -p "$ENV_DIR"
  chmod 700 "$ENV_DIR"
  : >"$file"
  chmod 600 "$file"
  for pair in "$@"; do
    printf '%s="%s"\n' "${pair%%=*}" "${pair#*=}" >>"$file"
  done
}

# A self-signed certificate for 127.0.0.1 and localhost, made once (PEM files, as the reference gateway reads).
gateway_certificate() {
  if [ ! -s "$TLS_DIR/gateway.crt" ] || [ ! -s "$TLS_DIR/gateway.key" ]; then
    mkdir -p "$TLS_DIR"
    chmod 700 "$TLS_DIR"
    say "generating a self-signed certificate for the gateway ($(rel "$TLS_DIR")/gateway.crt)"
    openssl req -x509 -newkey rsa:2048 -nodes -days 825 -subj "/CN=localhost" \
      -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" -addext "extendedKeyUsage=serverAuth" \
      -keyout "$TLS_DIR/gateway.key" -out "$TLS_DIR/gateway.crt" >/dev/null 2>&1 ||
      die "openssl could not make the certificate"
    chmod 600 "$TLS_DIR/gateway.key"
  fi
}

# The internal CA and a certificate per host, made once with the openssl commands of deploy/reference/README.md
# ("Internal TLS"): silos are TLS servers and clients, so every certificate carries serverAuth and clientAuth.
internal_certificates() {
  local dir=$INTERNAL_TLS_DIR host
  mkdir -p "$dir"
  chmod 700 "$dir"
  if [ ! -s "$dir/internal-ca.crt" ] || [ ! -s "$dir/internal-ca.key" ]; then
    say "generating the local internal CA ($(rel "$dir")/internal-ca.crt)"
    { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$dir/internal-ca.key" &&
      openssl req -x509 -new -key "$dir/internal-ca.key" -sha256 -days 3650 -subj "/CN=Switchboard local internal CA" \
        -addext "basicConstraints=critical,CA:TRUE,pathlen:0" -addext "keyUsage=critical,keyCertSign,cRLSign" \
        -out "$dir/internal-ca.crt"; } >/dev/null 2>&1 || die "openssl could not make the internal CA"
  fi
  for host in "$@"; do
    [ -s "$dir/$host.crt" ] && [ -s "$dir/$host.key" ] && continue
    { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$dir/$host.key" &&
      openssl req -new -key "$dir/$host.key" -subj "/CN=$host" -out "$dir/$host.csr" &&
      openssl x509 -req -in "$dir/$host.csr" -CA "$dir/internal-ca.crt" -CAkey "$dir/internal-ca.key" -CAcreateserial \
        -sha256 -days 397 -out "$dir/$host.crt" -extfile <(printf '%s\n' "basicConstraints=critical,CA:FALSE" \
          "keyUsage=critical,digitalSignature" "extendedKeyUsage=serverAuth,clientAuth" "subjectAltName=DNS:localhost,IP:127.0.0.1"); \
    } >/dev/null 2>&1 || die "openssl could not make the certificate of $host"
    rm -f "$dir/$host.csr"
    chmod 600 "$dir/$host.key"
  done
}

# internal_tls_settings SECTION HOST: the InternalTls settings of one host, one KEY=VALUE a line (none when off).
internal_tls_settings() {
  [ "$INTERNAL_TLS" = 1 ] || return 0
  printf '%s\n' "$1__Enabled=true" "$1__CertificatePath=$INTERNAL_TLS_DIR/$2.crt" \
    "$1__KeyPath=$INTERNAL_TLS_DIR/$2.key" "$1__CaPath=$INTERNAL_TLS_DIR/internal-ca.crt"
}

# auth_settings SIGNING_KEY: the environment and token settings of a silo (the gateway takes the same), one KEY=VALUE
# a line. Plain: Local, dev tokens on explicitly (a Production silo refuses them), the shared HMAC key. Secure: as
# deploy/reference/env/silo.env documents it: Production, dev tokens off, no HMAC key, ES256 keys from the issuer.
auth_settings() {
  if [ "$SECURE" = 1 ]; then
    printf '%s\n' "ASPNETCORE_ENVIRONMENT=Production" \
      "Switchboard__Auth__DevTokens=false" \
      "Switchboard__Auth__Authority=$ISSUER_URL" \
      "Switchboard__Auth__Issuer=$ISSUER_URL" \
      "Switchboard__Auth__Audience=switchboard" \
      "Switchboard__Auth__ValidAlgorithms__0=ES256"
  else
    printf '%s\n' "ASPNETCORE_ENVIRONMENT=Local" \
      "Switchboard__Auth__SigningKey=$1" \
      "Switchboard__Auth__DevTokens=true"
  fi
}

# The development token issuer (tools/Issuer) on 127.0.0.1: ES256 key kept in secrets/, JWKS and discovery document.
start_issuer() {
  local pid
  if pid=$(pid_of issuer); then
    say "issuer already running (pid $pid)"
    return
  fi
  ensure_ports_free issuer
  mkdir -p "$SECRET_DIR"
  chmod 700 "$SECRET_DIR"
  [ -s "$ISSUER_KEY" ] || say "the issuer makes its ES256 key in $(rel "$ISSUER_KEY") (once)"
  start_process issuer env ASPNETCORE_ENVIRONMENT=Production dotnet "$ISSUER_DLL" \
    "--Switchboard:Issuer:Url=$ISSUER_URL" "--Switchboard:Issuer:KeyPath=$ISSUER_KEY"
  wait_ready issuer
  # tools/conformance.sh finds the issuer here.
  echo "$ISSUER_URL" >"$DATA_DIR/issuer-url"
  say "issuer on $ISSUER_URL: tokens with POST $ISSUER_URL/token, keys at $ISSUER_URL/.well-known/jwks.json"
}

start_gateway() {
  local cluster=$1 env_file="$ENV_DIR/gateway.env" tls auth route_dev_tokens=true
  if is_running gateway; then
    say "gateway already running (pid $(pid_of gateway))"
    return
  fi
  ensure_ports_free gateway
  gateway_certificate
  mapfile -t tls < <(internal_tls_settings Switchboard__Gateway__InternalTls gateway)
  # The gateway checks socket tokens itself before proxying, with the silos' Switchboard:Auth settings: secure mode's
  # issuer, or plain mode's signing key (it does not serve dev tokens, so not DevTokens).
  if [ "$SECURE" = 1 ]; then
    mapfile -t auth < <(auth_settings "")
  else
    auth=("ASPNETCORE_ENVIRONMENT=Local" "Switchboard__Auth__SigningKey=$(secret signing-key)")
  fi
  # Plain mode: the silos serve dev tokens, and the gateway routes them (the chat page and tools/Bench log in with
  # them). Secure mode: it answers /api/dev/** with 404 itself. Every client here is 127.0.0.1, and the benchmarks
  # open hundreds of sockets at once: the per-address limits are raised far above the defaults (docs/configuration.md).
  [ "$SECURE" = 1 ] && route_dev_tokens=false
  write_env "$env_file" "${tls[@]}" "${auth[@]}" \
    "ConnectionStrings__Redis=127.0.0.1:$REDIS_PORT" \
    "Switchboard__Gateway__RouteDevTokens=$route_dev_tokens" \
    "Switchboard__Gateway__UpgradesPerSecond=100000" \
    "Switchboard__Gateway__UpgradeBurst=1000000" \
    "Switchboard__Gateway__RequestsPerSecond=100000" \
    "Switchboard__Gateway__RequestBurst=1000000" \
    "Switchboard__Gateway__OpenSocketsPerAddress=1000000" \
    "Switchboard__Gateway__ClusterId=$cluster" \
    "Switchboard__Gateway__ServiceId=switchboard" \
    "Switchboard__Gateway__SelfSignedCertificate=false" \
    "Kestrel__Endpoints__Https__Url=https://127.0.0.1:$GATEWAY_PORT" \
    "Kestrel__Endpoints__Https__Certificate__Path=$TLS_DIR/gateway.crt" \
    "Kestrel__Endpoints__Https__Certificate__KeyPath=$TLS_DIR/gateway.key"
  SWITCHBOARD_GATEWAY_DLL="$GATEWAY_DLL" start_process gateway "$RUN" gateway "$env_file"
  wait_ready gateway
}

# A fresh Orleans ClusterId whenever no silo runs (ServiceId stays `switchboard`, so grain state is kept);
# a silo started beside a running one joins the running one's cluster. The membership table of the previous
# cluster id is deleted from this private Redis: nothing expires it (its hash has no TTL).
cluster_id() {
  local file="$DATA_DIR/cluster-id" old="" key
  if ! any_silo_running || [ ! -s "$file" ]; then
    [ ! -s "$file" ] || old=$(<"$file")
    if [ -n "$old" ]; then
      for key in $(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" --scan --pattern "*/members/$old"); do
        say "deleting the old cluster's membership table $key from Redis" >&2
        redis-cli -h 127.0.0.1 -p "$REDIS_PORT" del "$key" >/dev/null
      done
    fi
    printf 'local-%s' "$(date -u +%Y%m%d-%H%M%S)" >"$file"
    say "new cluster id $(<"$file")" >&2
  fi
  cat "$file"
}

start_silos() {
  local password=$1 signing_key=$2 cluster=$3 i name all=() env_file tls auth
  for ((i = 1; i <= SILO_COUNT; i++)); do
    name="silo-$i"
    if is_running "$name"; then
      say "$name already running (pid $(pid_of "$name"))"
      continue
    fi
    ensure_ports_free "$name"
    env_file="$ENV_DIR/$name.env"
    mapfile -t tls < <(internal_tls_settings Switchboard__Silo__InternalTls "$name")
    mapfile -t auth < <(auth_settings "$signing_key")
    write_env "$env_file" "${tls[@]}" "${auth[@]}" \
      "ConnectionStrings__Redis=127.0.0.1:$REDIS_PORT" \
      "ConnectionStrings__MySql=Server=127.0.0.1;Port=$MARIADB_PORT;Database=$DATABASE;User ID=$DB_USER;Password=$password;Maximum Pool Size=100" \
      "Switchboard__Silo__ClusterId=$cluster" \
      "Switchboard__Silo__ServiceId=switchboard" \
      "Switchboard__Silo__Name=$name" \
      "Switchboard__Silo__AdvertisedAddress=127.0.0.1" \
      "Switchboard__Silo__SiloPort=$(silo_port "$i")" \
      "Switchboard__Silo__GatewayPort=$(silo_gateway_port "$i")" \
      "Switchboard__Silo__TrustedProxies__0=127.0.0.1" \
      "DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=1" \
      "Urls=http://127.0.0.1:$(silo_http_port "$i")"
    SWITCHBOARD_SILO_DLL="$SILO_DLL" start_process "$name" "$RUN" silo "$env_file"
  done
  for ((i = 1; i <= SILO_COUNT; i++)); do all+=("silo-$i"); done
  wait_ready "${all[@]}"
}

# ---------------------------------------------------------------- commands

# Secure or plain: what `up` was asked for, else what the running processes were started as (a restart of a killed
# silo keeps the mode); a mode change while anything runs would mix the two, so it is refused.
choose_mode() {
  local asked=$1 remembered running=false name
  remembered=$(remembered_mode)
  for name in "${PROCS[@]}"; do
    if is_running "$name"; then running=true; fi
  done
  if $running; then
    if [ -n "$asked" ] && [ "$asked" != "$remembered" ]; then
      die "the cluster runs in $remembered mode; run \`cluster.sh down\` first to switch it to $asked mode"
    fi
    [ "$remembered" = secure ] && SECURE=1
    [ -n "$asked" ] || say "cluster running in $remembered mode: starting what is missing in that mode"
  elif [ -n "$asked" ]; then
    [ "$asked" = secure ] && SECURE=1
  fi
  if [ "$SECURE" = 1 ]; then
    INTERNAL_TLS=1
    echo secure >"$MODE_FILE"
  else
    echo plain >"$MODE_FILE"
  fi
}

cmd_up() {
  local asked=$1 password signing_key cluster name
  ensure_packages
  lock
  mkdir -p "$LOG_DIR" "$PID_DIR"
  say "cluster data in $(rel "$DATA_DIR")"
  choose_mode "$asked"
  # The issuer is registered for secure mode (define_processes ran before the mode was known).
  PROCS=()
  define_processes
  if [ "$SECURE" = 1 ]; then
    say "secure mode, as deploy/reference documents it: environment Production, internal TLS on, dev tokens OFF,"
    say "  tokens ES256 from the local issuer on $ISSUER_URL (its JWKS is the silos' and the gateway's Authority)"
    say "  the chat page cannot log in in this mode (it asks for dev tokens): get a token from $ISSUER_URL/token"
  fi
  # Every port of every process that is not running must be free, before anything starts.
  for name in "${PROCS[@]}"; do
    is_running "$name" || ensure_ports_free "$name"
  done
  start_redis
  start_mariadb
  password=$(secret mariadb-password)
  signing_key=$(secret signing-key)
  setup_database "$password"
  build_silo
  if [ "$INTERNAL_TLS" = 1 ]; then
    local hosts=(gateway)
    for ((name = 1; name <= SILO_COUNT; name++)); do hosts+=("silo-$name"); done
    internal_certificates "${hosts[@]}"
    say "internal TLS on: Orleans traffic is mutual TLS with $(rel "$INTERNAL_TLS_DIR")/internal-ca.crt"
  fi
  cluster=$(cluster_id)
  [ "$SECURE" != 1 ] || start_issuer
  start_silos "$password" "$signing_key" "$cluster"
  start_gateway "$cluster"
  say "up in ${SECONDS}s ($(remembered_mode) mode)"
  [ "$SECURE" != 1 ] || say "secure mode: dev tokens are off, the chat page cannot log in; a token: curl -s -XPOST $ISSUER_URL/token -H 'content-type: application/json' -d '{\"user\":\"alice\"}'"
  cmd_status
}

cmd_status() {
  local name pid rc=0
  for name in "${PROCS[@]}"; do
    if pid=$(pid_of "$name"); then
      echo "$name $pid ${PROC_URL[$name]}"
    else
      echo "$name - stopped"
      rc=1
    fi
  done
  return "$rc"
}

cmd_down() {
  local purge=false stage name names
  case "${1:-}" in
    "") ;;
    --purge) purge=true ;;
    *) die "usage: cluster.sh down [--purge]" ;;
  esac
  if [ ! -d "$DATA_DIR" ]; then
    say "nothing to stop: $(rel "$DATA_DIR") does not exist"
    return
  fi
  lock
  for stage in 9 8 7 6 5 4 3 2 1; do
    names=()
    for name in "${PROCS[@]}"; do
      if [ "${PROC_STAGE[$name]}" = "$stage" ]; then names+=("$name"); fi
    done
    ((${#names[@]} == 0)) || stop_processes "${names[@]}"
  done
  if $purge; then
    case "$DATA_DIR" in
      "" | / | "$repo" | "$HOME") die "refusing to delete $DATA_DIR" ;;
    esac
    say "deleting $(rel "$DATA_DIR") (--purge)"
    rm -rf "$DATA_DIR"
  else
    say "stopped; data kept in $(rel "$DATA_DIR") (down --purge deletes it)"
  fi
}

cmd_stop() {
  local name
  [ $# -gt 0 ] || die "usage: cluster.sh stop NAME... (one or more of: ${PROCS[*]})"
  for name in "$@"; do
    [ -n "${PROC_URL[$name]+set}" ] || die "stop: no process named $name (one of: ${PROCS[*]})"
  done
  lock
  stop_processes "$@"
}

main() {
  define_processes
  case "${1:-}" in
    up)
      shift
      case "${1:-}" in
        "") cmd_up "$([ "$SECURE" = 1 ] && echo secure)" ;;
        --secure) [ $# -eq 1 ] || die "usage: cluster.sh up [--secure]"; cmd_up secure ;;
        *) die "usage: cluster.sh up [--secure]" ;;
      esac
      ;;
    down) shift; cmd_down "$@" ;;
    stop) shift; cmd_stop "$@" ;;
    status) shift; [ $# -eq 0 ] || die "usage: cluster.sh status"; cmd_status ;;
    *) die "usage: cluster.sh up [--secure] | down [--purge] | stop NAME... | status" ;;
  esac
}

main "$@"
