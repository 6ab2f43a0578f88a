#!/usr/bin/env bash
# Runs the whole test suite on a fresh machine: checks the toolchain, builds, runs every test with a
# hang guard, and ends with a plain "N passed, N failed" line read from the TRX results.
set -uo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
results="$root/artifacts/test-results"
rm -rf "$results"
mkdir -p "$results"

say() { printf '[test] %s\n' "$*"; }

if ! command -v dotnet >/dev/null 2>&1; then
  echo "dotnet (SDK 10) is required on PATH" >&2
  exit 2
fi

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

# The durable-cluster tests start their own redis-server and mariadbd (free ports, temp dirs): install them.
missing=()
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
command -v mariadbd >/dev/null 2>&1 || missing+=(mariadb-server)
command -v mariadb >/dev/null 2>&1 || missing+=(mariadb-client)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "[test] missing ${missing[*]}: run as root (apt-get) or install them first" >&2
    echo "0 passed, 1 failed"
    exit 2
  fi
  say "installing ${missing[*]} with apt-get"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends redis-server mariadb-server mariadb-client >/dev/null
fi

# Child processes the tests start (silos, redis-server, mariadbd) leave pid files here; none may outlive the run.
pids_dir="${TMPDIR:-/tmp}/switchboard-tests/pids"
sweep() {
  for file in "$pids_dir"/*.pid; do
    [ -e "$file" ] || continue
    kill -9 "$(cat "$file")" 2>/dev/null || true
    rm -f "$file"
  done
}
sweep
trap sweep EXIT

say "building (Release)"
if ! dotnet build Orleans.sln -c Release -nologo -v quiet; then
  echo "0 passed, 1 failed"
  exit 1
fi

say "running tests (hang guard 5 min per test, 25 min in all)"
timeout --kill-after=30s 1500s dotnet test Orleans.sln -c Release --no-build -nologo \
  --blame-hang-timeout 5m \
  --logger "trx;LogFileName=tests.trx" --logger "console;verbosity=normal" \
  --results-directory "$results"
status=$?

# Count outcomes from every TRX file (dotnet test's own summary is not a line CI reads).
python3 - "$results" "$status" <<'PY'
import glob, sys, xml.etree.ElementTree as ET
passed = failed = skipped = 0
for path in glob.glob(sys.argv[1] + "/**/*.trx", recursive=True):
    ns = {"t": "http://microsoft.com/schemas/VisualStudio/TeamTest/2010"}
    for r in ET.parse(path).getroot().iterfind(".//t:UnitTestResult", ns):
        outcome = r.get("outcome")
        if outcome == "Passed":
            passed += 1
        elif outcome == "NotExecuted":
            skipped += 1
        else:
            failed += 1
if passed + failed == 0 and sys.argv[2] != "0":
    failed = 1
line = f"{passed} passed, {failed} failed"
if skipped:
    line += f", {skipped} skipped"
print(line)
PY
exit $status
