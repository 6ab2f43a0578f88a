#!/usr/bin/env bash
# Runs the protocol tests (Tests/WebSockets and Tests/Endpoints: every frame, error and close code of
# docs/protocol.md) against a running cluster instead of an in-process host. Sockets go to the given silos in
# turn, so they land on all of them. Tests that need a host with special limits (tiny caps, an Origin
# allow list) still start one in-process.
#
# Usage: tools/conformance.sh [BASE_URL ...]
#   default: the local cluster of deploy/local/cluster.sh (http://127.0.0.1:5001 and :5002, or SB_HTTP_PORT_BASE);
#   through its gateway: tools/conformance.sh https://127.0.0.1:8443
#   The cluster's data folder (SB_DATA_DIR, default deploy/local/.data) says how tokens are made:
#   - plain mode: signed with its key (SWITCHBOARD_TEST_SIGNING_KEY, default .data/secrets/signing-key), dev tokens on;
#   - secure mode (cluster.sh up --secure): from its issuer (SWITCHBOARD_TEST_ISSUER_URL, default .data/issuer-url),
#     and the tokens the issuer would not make signed with its key (SWITCHBOARD_TEST_ISSUER_KEY, default
#     .data/secrets/issuer-key.pem); dev tokens are off, and the tests that use them check that they are refused.
set -euo pipefail
cd "$(dirname "$0")/.."
say() { printf '[conformance] %s\n' "$*"; }

# Absolute: the tests read the issuer's key from their own working folder.
data=$(realpath -m "${SB_DATA_DIR:-deploy/local/.data}")
targets=("$@")
port="${SB_HTTP_PORT_BASE:-5001}"
[ ${#targets[@]} -gt 0 ] || targets=("http://127.0.0.1:$port" "http://127.0.0.1:$((port + 1))")
key="${SWITCHBOARD_TEST_SIGNING_KEY:-}"
issuer="${SWITCHBOARD_TEST_ISSUER_URL:-}"
issuer_key="${SWITCHBOARD_TEST_ISSUER_KEY:-}"
if [ -z "$key$issuer" ] && [ "$(cat "$data/mode" 2>/dev/null)" = secure ]; then
  [ -s "$data/issuer-url" ] && issuer=$(<"$data/issuer-url")
  issuer_key="${issuer_key:-$data/secrets/issuer-key.pem}"
fi
if [ -n "$issuer" ]; then
  issuer_key=$(realpath -m "$issuer_key")
  [ -r "$issuer_key" ] || { echo "conformance: set SWITCHBOARD_TEST_ISSUER_KEY to the issuer's private key file (for $issuer)" >&2; exit 2; }
  curl -sf "$issuer/.well-known/openid-configuration" >/dev/null ||
    { echo "conformance: the issuer $issuer does not answer; is the cluster up (deploy/local/cluster.sh up --secure)?" >&2; exit 2; }
  say "secure mode: tokens from the issuer $issuer (dev tokens off)"
else
  if [ -z "$key" ] && [ -f "$data/secrets/signing-key" ]; then
    key=$(cat "$data/secrets/signing-key")
  fi
  if [ -z "$key" ]; then
    echo "conformance: set SWITCHBOARD_TEST_SIGNING_KEY to the cluster's Switchboard:Auth:SigningKey" >&2
    exit 2
  fi
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
  SWITCHBOARD_TEST_ISSUER_URL="$issuer" SWITCHBOARD_TEST_ISSUER_KEY="$issuer_key" \
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
