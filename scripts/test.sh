#!/usr/bin/env bash
# Install everything the test suite needs on a fresh machine (Python 3.11), then run it all:
# unit tests of sgcore, AppTest page tests and browser tests in headless Chromium.
set -euo pipefail
cd "$(dirname "$0")/.."

MISSING=""
command -v chromium >/dev/null 2>&1 || MISSING="$MISSING chromium"
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || MISSING="$MISSING nginx"
if [ -n "$MISSING" ]; then
    echo "Installing Debian's$MISSING for the browser and deployment tests..."
    SUDO=""
    if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi
    $SUDO apt-get update -qq
    # shellcheck disable=SC2086
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $MISSING >/dev/null
fi

PY="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
    "$PY" -m venv .venv
fi
.venv/bin/python -m pip install -q --disable-pip-version-check -r requirements-dev.txt

export CHROMIUM_PATH="${CHROMIUM_PATH:-$(command -v chromium)}"
# One BLAS/torch thread per process, as in production.
export OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
exec .venv/bin/python -m pytest "$@"
