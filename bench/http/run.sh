#!/usr/bin/env bash
# Load benchmark of the REST listener (`ueba-workbench serve`) against a bare axum ceiling; see
# bench/http/README.md.
#
#   bench/http/run.sh [--no-build] [run.py options: --connections N --days D --duration S
#                      --warmup S --threads T --connections-http C --no-training --json-out FILE]
#
# Builds the release CLI and the hello_axum example, checks that wrk is installed, then runs
# bench/http/run.py in a temporary directory (database, server logs, wrk outputs) that is removed
# on exit, with any server still running. Prints a Markdown table and the target check on stdout,
# progress on stderr. Exits non-zero only when the harness itself fails, not on missed targets.
set -euo pipefail
cd "$(dirname "$0")/../.."

build=1
args=()
for arg in "$@"; do
  case "$arg" in
    --no-build) build=0 ;;
    -h|--help) exec python3 bench/http/run.py --workdir /nonexistent --help ;;
    *) args+=("$arg") ;;
  esac
done

if ! command -v wrk >/dev/null 2>&1; then
  echo "bench/http/run.sh: wrk is not installed; on Debian/Ubuntu: sudo apt-get install -y wrk" >&2
  exit 1
fi
if ! command -v python3 >/dev/null 2>&1; then
  echo "bench/http/run.sh: python3 is needed" >&2
  exit 1
fi

if [ "$build" = 1 ]; then
  cargo build --release --locked -p ueba-workbench-cli >&2
  cargo build --release --locked -p ueba-api --example hello_axum >&2
fi
target_dir=$(cargo metadata --format-version 1 --no-deps --offline 2>/dev/null \
  | python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])' \
  || echo "${CARGO_TARGET_DIR:-target}")

work=$(mktemp -d "${TMPDIR:-/tmp}/ueba-http-bench.XXXXXX")
py_pid=
cleanup() {
  trap - EXIT INT TERM
  if [ -n "$py_pid" ] && kill -0 "$py_pid" 2>/dev/null; then
    kill -TERM "$py_pid" 2>/dev/null || true
    wait "$py_pid" 2>/dev/null || true
  fi
  # Servers run.py started and could not stop itself (it removes a pid file once it has).
  for pid_file in "$work"/*.pid; do
    [ -e "$pid_file" ] || continue
    pid=$(cat "$pid_file")
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
      kill -TERM "$pid" 2>/dev/null || true
      sleep 1
      kill -KILL "$pid" 2>/dev/null || true
    fi
  done
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# In the background so the traps run at once on a signal; run.py restores SIGINT itself.
python3 bench/http/run.py --workdir "$work" \
  --bin "$target_dir/release/ueba-workbench" \
  --hello "$target_dir/release/examples/hello_axum" \
  ${args[@]+"${args[@]}"} &
py_pid=$!
rc=0
wait "$py_pid" || rc=$?
py_pid=
exit "$rc"
