#!/usr/bin/env bash
# Sets up and runs the whole test suite: formatting, lints, type checks, unit and integration
# tests, the REST API conformance suite and fuzzing, and the end-to-end test of the real desktop
# window (under Xvfb, through tauri-driver).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --test

step() { printf '\n== %s\n' "$*" >&2; }

step "format"
cargo fmt --all -- --check

step "front end: checks and build"
(cd ui && npm run check --silent && npm run build --silent)

step "lints"
cargo clippy --locked --workspace --all-targets -- -D warnings

step "unit and integration tests"
# One build of every target (the desktop binary for the end-to-end test included) with one
# feature set, so the test run and the end-to-end test reuse it.
cargo build --locked --workspace --all-targets
cargo test --locked --workspace

step "generated front-end types are current"
# ts-rs rewrote ui/src/lib/bindings from the Rust types while the tests ran.
if git rev-parse --git-dir >/dev/null 2>&1 && [ -n "$(git status --porcelain -- ui/src/lib/bindings)" ]; then
  echo "ui/src/lib/bindings is out of date with the Rust types; commit the regenerated files" >&2
  git status --short -- ui/src/lib/bindings >&2
  exit 1
fi

step "REST API: conformance suite and fuzzing against the built listener"
UEBA_WORKBENCH_BIN="$PWD/target/debug/ueba-workbench" tests/api/run.sh

step "desktop end-to-end test"
tests/e2e/run.sh "$PWD/target/debug/ueba-workbench-desktop"
