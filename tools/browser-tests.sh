#!/usr/bin/env bash
# The chat page in a real browser against the running local cluster, through its gateway:
#   bash tools/browser-tests.sh [GATEWAY_URL]     (default https://127.0.0.1:8443)
# Needs `deploy/local/cluster.sh up` first; SB_DATA_DIR names the cluster's data folder when it is not the default
# (the scenario kills a silo by the pid file there). Installs Debian's chromium with apt-get when missing (root).
# Screenshots of every step go to artifacts/ci/screenshots/. Ends with a line `N passed, N failed`.
# The killed silo stays down: `cluster.sh up` starts it again.
set -uo pipefail
cd "$(dirname "$0")/.."
gateway=${1:-${SB_GATEWAY_URL:-https://127.0.0.1:8443}}
say() { printf '[browser-tests] %s\n' "$*"; }
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

chromium=${CHROMIUM:-$(command -v chromium || true)}
if [ -z "$chromium" ]; then
  if [ "$(id -u)" != 0 ]; then
    say "chromium is missing: run as root (apt-get) or install Debian's chromium first"
    echo "0 passed, 1 failed"
    exit 2
  fi
  say "installing chromium with apt-get (about a minute)"
  apt-get update -qq
  if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null; then
    say "apt-get could not install chromium"
    echo "0 passed, 1 failed"
    exit 2
  fi
  chromium=$(command -v chromium)
fi
export CHROMIUM=$chromium
say "$("$chromium" --version 2>/dev/null || echo "$chromium")"

say "building Tests.Browser (Release)"
if ! dotnet build Tests.Browser -c Release -nologo -v quiet >/dev/null; then
  dotnet build Tests.Browser -c Release -nologo -v quiet | grep -E 'error|warning' | head -n 20
  echo "0 passed, 1 failed"
  exit 1
fi

rm -rf artifacts/ci/screenshots
say "running the scenario against $gateway (up to 4 minutes)"
# Playwright's node driver ships inside the NuGet package; nothing is downloaded.
timeout --kill-after=10s 240s dotnet Tests.Browser/bin/Release/net10.0/Switchboard.Tests.Browser.dll "$gateway"
status=$?
if [ $status = 124 ] || [ $status = 137 ]; then
  say "the scenario did not finish in 4 minutes"
  echo "0 passed, 1 failed"
fi
exit $status
