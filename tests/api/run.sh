#!/usr/bin/env bash
# Runs the black-box API suite against a built listener binary: the pytest conformance suite,
# then the schemathesis fuzzing (test_fuzz.sh).
#
#   tests/api/run.sh [pytest arguments...]
#
# The binary is $UEBA_WORKBENCH_BIN (default target/debug/ueba-workbench, relative to the repo
# root); this script builds nothing. The Python packages of requirements.txt go into
# tests/api/.venv, made on first use. UEBA_FUZZ=0 skips the fuzzing.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
BIN="${UEBA_WORKBENCH_BIN:-target/debug/ueba-workbench}"
[[ "$BIN" = /* ]] || BIN="$ROOT/$BIN"
if [[ ! -x "$BIN" ]]; then
  echo "run.sh: listener binary not found or not executable: $BIN" >&2
  echo "run.sh: build it first (cargo build -p ueba-workbench-cli) or set UEBA_WORKBENCH_BIN" >&2
  exit 2
fi
export UEBA_WORKBENCH_BIN="$BIN"
unset UEBA_WORKBENCH_DB

VENV="$HERE/.venv"
if [[ ! -x "$VENV/bin/python" ]]; then
  python3 -m venv "$VENV"
fi
# Install only when requirements.txt changed since the last install; from the package index
# only (no extra indexes or local wheel directories from the environment).
STAMP="$VENV/.requirements.sha256"
WANT="$(sha256sum "$HERE/requirements.txt" | cut -d' ' -f1)"
if [[ ! -f "$STAMP" || "$(cat "$STAMP")" != "$WANT" ]]; then
  env -u PIP_FIND_LINKS -u PIP_EXTRA_INDEX_URL "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-input \
    --require-virtualenv -r "$HERE/requirements.txt"
  echo "$WANT" >"$STAMP"
fi

cd "$HERE"
STARTED=$SECONDS
status=0
"$VENV/bin/python" -m pytest -q "$@" || status=$?
if [[ "${UEBA_FUZZ:-1}" != "0" ]]; then
  SCHEMATHESIS="$VENV/bin/schemathesis" "$HERE/test_fuzz.sh" || status=$((status ? status : $?))
fi
echo "tests/api: finished in $((SECONDS - STARTED)) s, exit status $status"
exit "$status"
