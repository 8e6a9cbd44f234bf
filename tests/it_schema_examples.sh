#!/bin/bash
# Runs the h5py and R examples of docs/schema.md against a small output, from another working
# directory (so the relative external links must resolve against the index file's directory).
# The output comes from `gradsweep run tests/specs/tiny.yaml`, or, while the CLI cannot run
# yet, from `test_store --example`. Exit 77 (skipped) when neither Python+h5py nor R+hdf5r exist.
set -u
PY=${GS_PYTHON:-/usr/bin/python3}
RS=${GS_RSCRIPT:-Rscript}
doc="$GS_SOURCE_DIR/docs/schema.md"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/out" "$work/elsewhere"

cd "$work/out" || exit 1
if [ -n "${GS_EXE:-}" ] && [ -x "$GS_EXE" ]; then
    if ! "$GS_EXE" run "$GS_SOURCE_DIR/tests/specs/tiny.yaml" -o tiny.h5 --force >cli.log 2>&1; then
        echo "gradsweep run failed:"; cat cli.log; exit 1
    fi
fi
if [ ! -f tiny.h5 ]; then
    echo "note: the CLI wrote no tiny.h5; using test_store --example"
    "$GS_BINARY_DIR/test_store" --example tiny.h5 || { echo "test_store --example failed"; exit 1; }
fi

block() { awk -v lang="$1" '$0 == "```" lang {on = 1; next} on && $0 == "```" {on = 0} on' "$doc"; }
block python >"$work/example.py"
block r >"$work/example.R"
[ -s "$work/example.py" ] || { echo "no python block in $doc"; exit 1; }
[ -s "$work/example.R" ] || { echo "no r block in $doc"; exit 1; }

cd "$work/elsewhere" || exit 1
ran=0
if command -v "$PY" >/dev/null 2>&1 && "$PY" -c 'import h5py, pandas' 2>/dev/null; then
    echo "== python example"
    "$PY" "$work/example.py" ../out/tiny.h5 || { echo "python example failed"; exit 1; }
    ran=$((ran + 1))
else
    echo "skip: $PY with h5py and pandas not available"
fi
if command -v "$RS" >/dev/null 2>&1 && "$RS" -e 'library(hdf5r)' >/dev/null 2>&1; then
    echo "== R example"
    "$RS" "$work/example.R" ../out/tiny.h5 || { echo "R example failed"; exit 1; }
    ran=$((ran + 1))
else
    echo "skip: $RS with hdf5r not available"
fi
[ "$ran" -gt 0 ] || exit 77
exit 0
