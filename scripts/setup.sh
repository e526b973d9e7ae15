#!/usr/bin/env bash
# Installs what building, running and testing UEBA Workbench need on Debian/Ubuntu.
# Safe to run again: it installs only what is missing.
#   scripts/setup.sh          build + run prerequisites
#   scripts/setup.sh --test   also the end-to-end test tools (Xvfb, WebKitWebDriver, tauri-driver, sqlite3)
set -euo pipefail
cd "$(dirname "$0")/.."

want_test=0
[ "${1:-}" = "--test" ] && want_test=1

packages=(libwebkit2gtk-4.1-dev build-essential pkg-config file curl ca-certificates)
if [ "$want_test" = 1 ]; then
  packages+=(xvfb xauth webkit2gtk-driver xdotool imagemagick sqlite3 python3 python3-venv)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  echo "setup: installing ${missing[*]}" >&2
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! command -v cargo >/dev/null; then
  echo "setup: Rust is missing; install it with rustup (https://rustup.rs) and run this again" >&2
  exit 1
fi
if ! command -v npm >/dev/null; then
  echo "setup: Node.js 20+ and npm are missing; install them (apt-get install nodejs npm) and run this again" >&2
  exit 1
fi

if [ "$want_test" = 1 ] && ! command -v tauri-driver >/dev/null; then
  echo "setup: installing tauri-driver" >&2
  cargo install tauri-driver --version '^2' --locked --quiet
fi

# Front-end packages, exactly as locked.
if [ ! -d ui/node_modules ] || [ ui/package-lock.json -nt ui/node_modules/.package-lock.json ]; then
  (cd ui && npm ci --no-audit --no-fund --loglevel=error)
fi
