#!/usr/bin/env bash
# Engine benchmark against the notebook pipeline (see bench/README.md):
#
#   bench/run.sh [--rows N] [--json] [--dir DIR]
#
# Builds the release binary, creates bench/.venv with pandas and scikit-learn from PyPI, then
# runs bench/compare.py, which prints Markdown tables (the ones in the README).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --locked -p ueba-workbench-cli >&2
bench/setup_venv.sh >&2
exec python3 bench/compare.py "$@"
