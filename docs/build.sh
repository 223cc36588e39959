#!/usr/bin/env bash
# Build the documentation into docs/_build/html, failing on any warning.
#   bash docs/build.sh        every gallery example run, figures and all (LAMINA_DOCS_GALLERY=all; a few minutes)
#   bash docs/build.sh fast   the fast subset of the gallery that CI runs (docs/conf.py's FAST_EXAMPLES)
# Needs `pip install -e ".[docs]"`; examples that read MNIST find it in $LAMINA_DATA.
set -euo pipefail
cd "$(dirname "$0")/.."
export LAMINA_DOCS_GALLERY="${1:-all}"
export MPLBACKEND=Agg
python -m sphinx -W --keep-going -b html docs docs/_build/html
echo "docs/_build/html/index.html"
