#!/usr/bin/env bash
# Benchmark-only virtual environment for the peers of bench_sparse.py that must not
# enter the package's own requirements (LensKit needs PyTorch).
#
#   bash benchmarks/peers_env.sh            # creates benchmarks/.peers-venv (gitignored)
#   PYTHON=python3.12 bash benchmarks/peers_env.sh
#
# Installs, in this order: the CPU-only PyTorch wheel (from download.pytorch.org, so that
# pip does not pull the CUDA build and its ~3 GB of libraries), LensKit 2025.x, pandas and
# scikit-surprise. Idempotent: a package that already imports is not reinstalled. Not part
# of CI. Prints what it installed and the versions found at the end.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
VENV="$HERE/.peers-venv"
PYTHON="${PYTHON:-python3}"
LENSKIT_SPEC="${LENSKIT_SPEC:-lenskit>=2025.1,<2026}"

if [ ! -x "$VENV/bin/python" ]; then
    echo "creating $VENV with $("$PYTHON" --version 2>&1) ($PYTHON)"
    "$PYTHON" -m venv "$VENV"
    "$VENV/bin/python" -m pip install --quiet --upgrade pip
else
    echo "found $VENV ($("$VENV/bin/python" --version 2>&1))"
fi
PY="$VENV/bin/python"
installed=()

has() {  # has MODULE: does the venv import it?
    "$PY" -c "import $1" >/dev/null 2>&1
}

if has torch; then
    echo "torch: already installed, skipped"
else
    echo "installing torch (CPU-only wheel) ..."
    "$PY" -m pip install --quiet torch --index-url https://download.pytorch.org/whl/cpu
    installed+=(torch)
fi
if has lenskit.als; then
    echo "lenskit: already installed, skipped"
else
    echo "installing $LENSKIT_SPEC ..."
    "$PY" -m pip install --quiet "$LENSKIT_SPEC"
    installed+=(lenskit)
fi
if has pandas; then
    echo "pandas: already installed, skipped"
else
    "$PY" -m pip install --quiet pandas
    installed+=(pandas)
fi
if has surprise; then
    echo "scikit-surprise: already installed, skipped"
else
    echo "installing scikit-surprise ..."
    "$PY" -m pip install --quiet scikit-surprise
    installed+=(scikit-surprise)
fi

echo "installed this run: ${installed[*]:-nothing}"
"$PY" - <<'EOF'
from importlib.metadata import version
import torch
names = ["lenskit", "torch", "pandas", "numpy", "scikit-surprise"]
print("versions: " + ", ".join(f"{n} {version(n)}" for n in names)
      + f"; torch CUDA build: {torch.version.cuda is not None}")
EOF
echo "python: $PY"
