#!/bin/bash
# Runs one example of docs/schema.md (usage: schema_examples.sh python|r) against a small output
# made by `gradsweep run tests/specs/tiny.yaml`, from another working directory (so the relative
# external links must resolve against the index file's directory). Exit 77 (skipped) when the
# interpreter or its HDF5 package is absent.
set -u
lang=$1
PY=${GS_PYTHON:-/usr/bin/python3}
RS=${GS_RSCRIPT:-Rscript}
doc="$GS_SOURCE_DIR/docs/schema.md"
case "$lang" in
    python) command -v "$PY" >/dev/null 2>&1 && "$PY" -c 'import h5py, pandas' 2>/dev/null ||
                { echo "skip: $PY with h5py and pandas not available"; exit 77; } ;;
    r) command -v "$RS" >/dev/null 2>&1 && "$RS" -e 'library(hdf5r)' >/dev/null 2>&1 ||
                { echo "skip: $RS with hdf5r not available"; exit 77; } ;;
    *) echo "usage: $0 python|r"; exit 2 ;;
esac
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/out" "$work/elsewhere"
cd "$work/out" || exit 1
if ! "$GS_EXE" run "$GS_SOURCE_DIR/tests/specs/tiny.yaml" -o tiny.h5 -q >cli.log 2>&1; then
    echo "gradsweep run failed:"; cat cli.log; exit 1
fi
awk -v lang="$lang" '$0 == "```" lang {on = 1; next} on && $0 == "```" {on = 0} on' "$doc" \
    >"$work/example"
[ -s "$work/example" ] || { echo "no $lang block in $doc"; exit 1; }
cd "$work/elsewhere" || exit 1
echo "== $lang example"
if [ "$lang" = python ]; then
    "$PY" "$work/example" ../out/tiny.h5 || { echo "python example failed"; exit 1; }
else
    "$RS" "$work/example" ../out/tiny.h5 || { echo "R example failed"; exit 1; }
fi
