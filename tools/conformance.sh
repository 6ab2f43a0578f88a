#!/usr/bin/env bash
# Runs the protocol tests (Tests/WebSockets and Tests/Endpoints: every frame, error and close code of
# docs/protocol.md) against a running cluster instead of an in-process host. Sockets go to the given silos in
# turn, so they land on all of them. Tests that need a host with special limits (tiny caps, an Origin
# allow list) still start one in-process.
#
# Usage: tools/conformance.sh [BASE_URL ...]
#   default: the local cluster of deploy/local/cluster.sh (http://127.0.0.1:5001 and :5002);
#   through its gateway: tools/conformance.sh https://127.0.0.1:8443
#   SWITCHBOARD_TEST_SIGNING_KEY: the cluster's token key (default: the local cluster's)
set -euo pipefail
cd "$(dirname "$0")/.."
say() { printf '[conformance] %s\n' "$*"; }

targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(http://127.0.0.1:5001 http://127.0.0.1:5002)
key="${SWITCHBOARD_TEST_SIGNING_KEY:-}"
if [ -z "$key" ] && [ -f deploy/local/.data/secrets/signing-key ]; then
  key=$(cat deploy/local/.data/secrets/signing-key)
fi
if [ -z "$key" ]; then
  echo "conformance: set SWITCHBOARD_TEST_SIGNING_KEY to the cluster's Switchboard:Auth:SigningKey" >&2
  exit 2
fi

# A gateway with the local self-signed certificate: the test clients accept it (never for a real deployment).
insecure=0
for url in "${targets[@]}"; do
  case "$url" in https://127.0.0.1*|https://localhost*) insecure=1 ;; esac
done

for url in "${targets[@]}"; do
  if ! curl -sfk "$url/health/ready" >/dev/null; then
    echo "conformance: $url/health/ready does not answer 200; is the cluster up (deploy/local/cluster.sh up)?" >&2
    exit 2
  fi
done

results="artifacts/conformance"
rm -rf "$results"
say "building the tests"
dotnet build Tests -c Release -nologo -v quiet
say "running the protocol tests against ${targets[*]}"
status=0
SWITCHBOARD_TEST_TARGETS=$(IFS=,; echo "${targets[*]}") SWITCHBOARD_TEST_SIGNING_KEY="$key" SWITCHBOARD_TEST_INSECURE=$insecure \
  dotnet test Tests -c Release --no-build -nologo \
  --filter "FullyQualifiedName~Switchboard.Tests.WebSockets|FullyQualifiedName~Switchboard.Tests.Endpoints" \
  --logger "trx;LogFileName=conformance.trx" --results-directory "$results" || status=$?

python3 - "$results" <<'PY'
import glob, sys, xml.etree.ElementTree as ET
ns = {"t": "http://microsoft.com/schemas/VisualStudio/TeamTest/2010"}
passed = failed = 0
for path in glob.glob(sys.argv[1] + "/**/*.trx", recursive=True):
    for r in ET.parse(path).getroot().iterfind(".//t:UnitTestResult", ns):
        if r.get("outcome") == "Passed":
            passed += 1
        else:
            failed += 1
print(f"{passed} passed, {failed} failed")
PY
exit $status
