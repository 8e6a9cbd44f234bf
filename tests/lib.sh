# Shared helpers for tests/it_*.sh (sourced). Exit 77 marks a test skipped.
set -euo pipefail
: "${GS_EXE:?GS_EXE must name the gradsweep binary}"
: "${GS_SOURCE_DIR:?}"
PY=${GS_PYTHON:-/usr/bin/python3}
SPECS=$GS_SOURCE_DIR/tests/specs
need_h5py() {
    "$PY" -c "import h5py, numpy" 2>/dev/null || { echo "skip: $PY lacks h5py/numpy"; exit 77; }
}
fail() { echo "FAIL: $*" >&2; exit 1; }
# expect_rc CODE cmd...: runs cmd, stores its stderr+stdout in $OUT, checks the exit code.
expect_rc() {
    local want=$1; shift
    set +e
    OUT=$("$@" 2>&1)
    local rc=$?
    set -e
    [ "$rc" = "$want" ] || fail "expected exit $want, got $rc from: $* -- output: $OUT"
}
expect_out() { grep -qF -- "$1" <<<"$OUT" || fail "output lacks '$1': $OUT"; }
# A fresh scratch directory per test under the test build dir.
scratch() { local d="${GS_BINARY_DIR:-.}/scratch/$1"; rm -rf "$d"; mkdir -p "$d"; echo "$d"; }
# reproduce_reduced NAME: the reduced canonical reproduction (scripts/reproduce.sh NAME --reduced)
# must print "NAME: REPRODUCED" and draw its figure; sets d to its scratch directory. Skips (77)
# without h5py, pandas or matplotlib.
reproduce_reduced() {
    need_h5py
    "$PY" -c "import pandas, matplotlib" 2>/dev/null || { echo "skip: no pandas/matplotlib"; exit 77; }
    d=$(scratch "physics_$1")
    expect_rc 0 env GS_PYTHON="$PY" "$GS_SOURCE_DIR/scripts/reproduce.sh" "$1" --reduced -o "$d" -j 2
    expect_out "$1: REPRODUCED"
    [ -s "$d/$1.png" ] || fail "figure $d/$1.png not written"
}
