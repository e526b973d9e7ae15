#!/usr/bin/env bash
# Fuzzes every operation of a running listener's /openapi.json with schemathesis, authenticated
# as an administrator, and checks each answer: no server error, a documented status code, the
# documented content type, headers and body schema.
#
#   tests/api/test_fuzz.sh            (run.sh calls it after pytest)
#
# Environment: UEBA_WORKBENCH_BIN (default target/debug/ueba-workbench), SCHEMATHESIS (default
# the one in tests/api/.venv), UEBA_FUZZ_MAX_EXAMPLES (default 30 per operation),
# UEBA_FUZZ_SEED (default fixed, for repeatable runs), UEBA_FUZZ_REPORT_DIR (default
# tests/api/reports). The listener runs on a fresh temporary database and is stopped at the end.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
BIN="${UEBA_WORKBENCH_BIN:-target/debug/ueba-workbench}"
[[ "$BIN" = /* ]] || BIN="$ROOT/$BIN"
if [[ ! -x "$BIN" ]]; then
  echo "test_fuzz.sh: listener binary not found: $BIN (cargo build -p ueba-workbench-cli, or set UEBA_WORKBENCH_BIN)" >&2
  exit 2
fi
SCHEMATHESIS="${SCHEMATHESIS:-$HERE/.venv/bin/schemathesis}"
PYTHON="$(dirname "$SCHEMATHESIS")/python"
[[ -x "$PYTHON" ]] || PYTHON=python3
if [[ ! -x "$SCHEMATHESIS" ]]; then
  echo "test_fuzz.sh: schemathesis not found at $SCHEMATHESIS (run tests/api/run.sh, which installs it)" >&2
  exit 2
fi
MAX_EXAMPLES="${UEBA_FUZZ_MAX_EXAMPLES:-30}"
SEED="${UEBA_FUZZ_SEED:-20261129}"
REPORT_DIR="${UEBA_FUZZ_REPORT_DIR:-$HERE/reports}"

WORK="$(mktemp -d -t ueba-fuzz.XXXXXX)"
DB="$WORK/fuzz.db"
SERVE_PID=""
cleanup() {
  if [[ -n "$SERVE_PID" ]] && kill -0 "$SERVE_PID" 2>/dev/null; then
    kill -TERM "$SERVE_PID" 2>/dev/null || true
    wait "$SERVE_PID" 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

wb() { env -u UEBA_WORKBENCH_DB "$BIN" --db "$DB" --progress none "$@"; }

# A small database: fuzzed requests that reach the train route (the stateful phase links
# "create dataset" to "train") start trainings; with fewer connections than a training needs they
# end at once with a FAILURE result instead of occupying the machine.
wb demo --connections 300 --days 10 >/dev/null
echo 'fuzz-admin-password' | wb user add fuzz.admin --role admin --password-stdin >/dev/null
CLIENT_JSON="$(wb --json oauth-client add fuzz-client)"

# The listener prints one line, `listening on URL`, once it accepts connections.
env -u UEBA_WORKBENCH_DB "$BIN" --db "$DB" serve --port 0 >"$WORK/serve.out" 2>"$WORK/serve.log" &
SERVE_PID=$!
for _ in $(seq 1 300); do
  [[ -s "$WORK/serve.out" ]] && break
  kill -0 "$SERVE_PID" 2>/dev/null || { echo "test_fuzz.sh: serve exited early:" >&2; cat "$WORK/serve.log" >&2; exit 1; }
  sleep 0.1
done
URL="$(sed -n 's/^listening on //p' "$WORK/serve.out" | head -n1)"
[[ -n "$URL" ]] || { echo "test_fuzz.sh: serve printed no URL" >&2; cat "$WORK/serve.log" >&2; exit 1; }

TOKEN="$(CLIENT_JSON="$CLIENT_JSON" URL="$URL" "$PYTHON" - <<'PY'
import base64, json, os, urllib.parse, urllib.request
client = json.loads(os.environ["CLIENT_JSON"])
form = urllib.parse.urlencode({"grant_type": "password", "username": "fuzz.admin",
                               "password": "fuzz-admin-password"}).encode()
basic = base64.b64encode(f"{client['client_id']}:{client['client_secret']}".encode()).decode()
req = urllib.request.Request(os.environ["URL"] + "/auth/api/v1/oauth/token", data=form,
                             headers={"Authorization": "Basic " + basic,
                                      "Content-Type": "application/x-www-form-urlencoded"})
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
print(json.load(opener.open(req, timeout=30))["access_token"])
PY
)"

# A Cybereason session for the /rest/ routes (the form login sets the JSESSIONID cookie).
SESSION="$(URL="$URL" "$PYTHON" - <<'PY'
import http.cookiejar, os, urllib.parse, urllib.request
jar = http.cookiejar.CookieJar()
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}), urllib.request.HTTPCookieProcessor(jar))
form = urllib.parse.urlencode({"username": "fuzz.admin", "password": "fuzz-admin-password"}).encode()
opener.open(urllib.request.Request(os.environ["URL"] + "/login.html", data=form), timeout=30)
print(next(c.value for c in jar if c.name == "JSESSIONID"))
PY
)"

mkdir -p "$REPORT_DIR"
REPORT_DIR="$(cd "$REPORT_DIR" && pwd)"
# schemathesis keeps its example database in the working directory: a temporary one.
cd "$WORK"
echo "fuzzing $URL/openapi.json: $MAX_EXAMPLES examples per operation, seed $SEED"
set +e
# One operation is excluded, GET /logout: it would end the session the rest of the run uses
# (test_cybereason.py tests it). No check is relaxed. The checks are the response-conformance ones:
# not_a_server_error (no 5xx), status_code_conformance (the status is documented),
# content_type_conformance, response_headers_conformance and response_schema_conformance (the
# body matches the documented schema). Every phase runs: examples, coverage (boundary and
# negative values), fuzzing and stateful (links inferred between operations).
env -u REQUESTS_CA_BUNDLE -u CURL_CA_BUNDLE NO_PROXY='*' no_proxy='*' \
  "$SCHEMATHESIS" run "$URL/openapi.json" \
  --header "Authorization: Bearer $TOKEN" \
  --header "Cookie: JSESSIONID=$SESSION" \
  --exclude-path /logout \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance \
  --max-examples "$MAX_EXAMPLES" \
  --seed "$SEED" \
  --workers 2 \
  --request-timeout 30 \
  --no-color \
  --report junit --report-junit-path "$REPORT_DIR/schemathesis-junit.xml"
STATUS=$?
set -e

# The listener must have survived the fuzzing and stop cleanly.
if ! kill -0 "$SERVE_PID" 2>/dev/null; then
  echo "test_fuzz.sh: the listener died during fuzzing:" >&2
  tail -n 50 "$WORK/serve.log" >&2
  exit 1
fi
kill -TERM "$SERVE_PID"
set +e
wait "$SERVE_PID"
SERVE_STATUS=$?
set -e
SERVE_PID=""
if [[ "$SERVE_STATUS" -ne 0 ]]; then
  echo "test_fuzz.sh: serve exited $SERVE_STATUS after SIGTERM" >&2
  tail -n 50 "$WORK/serve.log" >&2
  exit 1
fi
if grep -q -i "panicked" "$WORK/serve.log"; then
  echo "test_fuzz.sh: the listener panicked during fuzzing:" >&2
  grep -i -A5 "panicked" "$WORK/serve.log" >&2
  exit 1
fi
exit "$STATUS"
