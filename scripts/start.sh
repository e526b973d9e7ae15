#!/usr/bin/env bash
# Sets up, builds and opens the UEBA Workbench desktop app.
# The first run creates the database in ~/.local/share/ueba-workbench/ with demo data.
# Extra arguments go to the app, e.g. `scripts/start.sh --db /tmp/other.db`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
(cd ui && npm run build --silent)
cargo build --release --locked -p ueba-workbench-desktop -p ueba-workbench-cli
exec target/release/ueba-workbench-desktop "$@"
