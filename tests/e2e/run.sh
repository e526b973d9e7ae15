#!/usr/bin/env bash
# End-to-end test of the real desktop window: Xvfb + tauri-driver + WebKitWebDriver.
#
#   tests/e2e/run.sh [path/to/ueba-workbench-desktop]     (default: target/debug/ueba-workbench-desktop)
#
# Needs: xvfb-run, tauri-driver (cargo install tauri-driver --version ^2 --locked), WebKitWebDriver
# (Debian: webkit2gtk-driver), xdotool, imagemagick (`import`), python3. Screenshots and logs go to
# tests/e2e/artifacts/. The app runs on a fresh temporary data directory and database.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
APP="${1:-$ROOT/target/debug/ueba-workbench-desktop}"
if [[ ! -x "$APP" ]]; then
  echo "app binary not found or not executable: $APP (build it with: cargo build -p ueba-workbench-desktop)" >&2
  exit 2
fi
APP="$(realpath "$APP")"

# Re-run this script inside a virtual X server unless already inside one. The driver chain
# (tauri-driver -> WebKitWebDriver) now and then drops a connection without answering; when a step
# fails for that reason alone (a command that is not safe to repeat), the whole run is repeated
# once from a fresh database. Any other failure fails at once.
if [[ -z "${UEBA_E2E_IN_XVFB:-}" ]]; then
  export UEBA_E2E_IN_XVFB=1
  LOG="$(mktemp -t ueba-e2e-log.XXXXXX)"
  set +e
  xvfb-run -a -s "-screen 0 1280x800x24" "$0" "$APP" 2>&1 | tee "$LOG"
  status=${PIPESTATUS[0]}
  if [[ $status -ne 0 ]] && grep -q '^FAIL .*Remote end closed connection without response' "$LOG"; then
    echo "run.sh: a step failed only because the WebDriver connection dropped; running the whole test once more"
    xvfb-run -a -s "-screen 0 1280x800x24" "$0" "$APP"
    status=$?
  fi
  rm -f "$LOG"
  exit "$status"
fi

for tool in tauri-driver WebKitWebDriver xdotool import python3; do
  command -v "$tool" >/dev/null || { echo "missing tool: $tool" >&2; exit 2; }
done

ARTIFACTS="$HERE/artifacts"
mkdir -p "$ARTIFACTS"
rm -f "$ARTIFACTS"/*.png "$ARTIFACTS"/*.log
WORK="$(mktemp -d -t ueba-e2e.XXXXXX)"

# The app inherits its environment from tauri-driver, so the fresh data directories are set here.
export XDG_DATA_HOME="$WORK/data" XDG_CONFIG_HOME="$WORK/config" XDG_CACHE_HOME="$WORK/cache"
mkdir -p "$XDG_DATA_HOME" "$XDG_CONFIG_HOME" "$XDG_CACHE_HOME"
unset UEBA_WORKBENCH_DB
# No D-Bus session here: keep GTK settings in memory instead of warning about dconf.
export GSETTINGS_BACKEND=memory

# Free ports for tauri-driver and the native WebKitWebDriver.
read -r PORT NATIVE_PORT < <(python3 -c '
import socket
socks = [socket.socket() for _ in range(2)]
for s in socks: s.bind(("127.0.0.1", 0))
print(*(s.getsockname()[1] for s in socks))
for s in socks: s.close()')

DRIVER_PID=""
cleanup() {
  if [[ -n "$DRIVER_PID" ]]; then
    # tauri-driver runs in its own process group (setsid): stop it with WebKitWebDriver and the app.
    kill -TERM -- "-$DRIVER_PID" 2>/dev/null || true
    sleep 0.5
    kill -KILL -- "-$DRIVER_PID" 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

setsid tauri-driver --port "$PORT" --native-port "$NATIVE_PORT" >"$ARTIFACTS/tauri-driver.log" 2>&1 &
DRIVER_PID=$!

for _ in $(seq 1 100); do
  (echo >"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break
  sleep 0.1
done

python3 "$HERE/test_desktop.py" \
  --app "$APP" \
  --driver "http://127.0.0.1:$PORT" \
  --work "$WORK" \
  --fixture "$HERE/fixtures/e2e_connections.csv" \
  --artifacts "$ARTIFACTS"
