#!/usr/bin/env bash
# Build the documentation site into site/ (mkdocs build --strict), or serve it locally.
# Usage: bash scripts/docs.sh [build|serve]   (serve: http://127.0.0.1:8000, rebuilt on change)
# MathJax (formulas) is taken from the npm registry once, into docs/_js/mathjax/ (not in git).
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .venv/bin/mkdocs ] || bash scripts/setup.sh docs
export NO_MKDOCS_2_WARNING=1
MATHJAX=docs/_js/mathjax
fetch_mathjax() {
    local tmp
    tmp=$(mktemp -d)
    (cd "$tmp" && npm pack --silent mathjax@3.2.2 >/dev/null && tar xzf mathjax-3.2.2.tgz) || {
        rm -rf "$tmp"
        return 1
    }
    mkdir -p "$MATHJAX/output/chtml/fonts" "$MATHJAX/input/tex"
    cp -r "$tmp/package/es5/output/chtml/fonts/woff-v2" "$MATHJAX/output/chtml/fonts/"
    cp -r "$tmp/package/es5/input/tex/extensions" "$MATHJAX/input/tex/"
    cp "$tmp/package/es5/tex-chtml.js" "$MATHJAX/"  # last: its presence means "complete"
    rm -rf "$tmp"
}
if [ ! -f "$MATHJAX/tex-chtml.js" ]; then
    if ! command -v npm >/dev/null || ! fetch_mathjax; then
        echo "docs.sh: MathJax could not be fetched from the npm registry:" \
            "building without it (formulas show as TeX)" >&2
    fi
fi
case "${1:-build}" in
    build) .venv/bin/mkdocs build --strict --quiet ;;
    serve) .venv/bin/mkdocs serve --strict ;;
    *) echo "usage: bash scripts/docs.sh [build|serve]" >&2; exit 2 ;;
esac
