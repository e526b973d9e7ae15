#!/usr/bin/env bash
# Creates bench/.venv with the notebook pipeline's packages (bench/requirements.txt, from PyPI).
# Idempotent: an existing virtualenv is kept and only brought up to the pinned versions.
# PYTHON selects the interpreter (default: python3; CPython 3.11 or newer).
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
VENV="$HERE/.venv"
PYTHON="${PYTHON:-python3}"
if [[ ! -x "$VENV/bin/python" ]]; then
  "$PYTHON" -m venv "$VENV" || {
    echo "error: cannot create a virtualenv with $PYTHON (on Debian: apt-get install python3-venv)" >&2
    exit 2
  }
fi
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r "$HERE/requirements.txt"
