#!/usr/bin/env bash
# Build the book and check every chapter page in a real browser.
# Assumes: the virtual environment is active (jupyter-book, recsys_ae installed) and
# RECSYS_AE_DATA_DIR points at the data folder (CI: ../shared/data). Called by .ci/run.
set -euo pipefail
cd "$(dirname "$0")/.."

# CI runs the book on real MovieLens 100K with the small-but-real profile, unless told otherwise.
export RECSYS_AE_DATASET="${RECSYS_AE_DATASET:-ml-100k}"
export RECSYS_AE_PROFILE="${RECSYS_AE_PROFILE:-ci}"
: "${RECSYS_AE_DATA_DIR:?set RECSYS_AE_DATA_DIR to the data folder, e.g. ../shared/data}"
# relative to the repository root (notebooks execute in notebooks/)
case "$RECSYS_AE_DATA_DIR" in /*) ;; *) RECSYS_AE_DATA_DIR="$(cd "$RECSYS_AE_DATA_DIR" && pwd)" ;; esac
export RECSYS_AE_DATA_DIR

# 1. MathJax 3 from the npm registry (package-lock.json), served locally: offline equations.
npm ci --no-audit --no-fund --loglevel=error

# 2. The execution cache (_build/.jupyter_cache) is keyed on notebook code only. Clear it when
#    the data settings change, or a page would show results of other data than its banner says.
stamp="RECSYS_AE_DATASET=$RECSYS_AE_DATASET RECSYS_AE_PROFILE=$RECSYS_AE_PROFILE RECSYS_AE_SYNTHETIC_SIZE=${RECSYS_AE_SYNTHETIC_SIZE:-} RECSYS_AE_SEED=${RECSYS_AE_SEED:-} RECSYS_AE_DATA_DIR=$RECSYS_AE_DATA_DIR"
mkdir -p _build
if [ ! -f _build/.book-settings ] || [ "$(cat _build/.book-settings)" != "$stamp" ]; then
    rm -rf _build/.jupyter_cache _build/html _build/jupyter_execute _build/.doctrees
    printf '%s' "$stamp" > _build/.book-settings
fi

# 3. Build with warnings as errors; a notebook that raises fails the build. When the test run
#    (python -m pytest) has just executed every chapter under these settings, render those
#    executed notebooks rather than run every chapter again (.ci/executed_source.py).
start=$(date +%s)
if python .ci/executed_source.py _build/book_src; then
    jupyter-book build _build/book_src --path-output . -W --keep-going
else
    jupyter-book build . -W --keep-going
fi
echo "book built in $(( $(date +%s) - start )) s"

# 4. Open every page in headless Chromium (Debian's package): full-page screenshots under
#    _build/screenshots/; fails on error output, a blank figure, a NaN table cell, a glued value
#    that did not arrive, raw TeX (.ci/check_pages.py).
if ! command -v chromium >/dev/null 2>&1; then
    export DEBIAN_FRONTEND=noninteractive
    SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq
    $SUDO apt-get install -y -qq chromium >/dev/null
fi
python .ci/check_pages.py _build/html
