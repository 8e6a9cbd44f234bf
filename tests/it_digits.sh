# The real data set without a download: analysis/digits_to_h5.py writes scikit-learn's digits to
# HDF5, experiments/digits.yaml (shrunk by overrides) trains on it with data.normalize, and every
# run ends ok with a falling loss. Skipped when sklearn (Debian python3-sklearn) is absent.
. "$(dirname "$0")/lib.sh"
need_h5py
"$PY" -c "import sklearn" 2>/dev/null || { echo "skip: $PY lacks sklearn"; exit 77; }
d=$(scratch digits)
mkdir -p "$d/data" "$d/experiments"
"$PY" "$GS_SOURCE_DIR/analysis/digits_to_h5.py" "$d/data/digits.h5" >/dev/null ||
    fail "digits_to_h5.py"
cp "$GS_SOURCE_DIR/experiments/digits.yaml" "$d/experiments/"
cd "$d"
expect_rc 0 "$GS_EXE" run experiments/digits.yaml -o out.h5 -q model.depth=2 \
    model.activation=tanh model.sigma_w=1 train.steps=40 replicates=1
expect_out "1 of 1 runs"
"$PY" - out.h5 <<'PY' || fail "digits: stored runs"
import sys, h5py
with h5py.File(sys.argv[1], "r") as f:
    runs = list(f["runs"])
    assert len(runs) == 1, runs
    for rid in runs:
        g = f["runs"][rid]
        a = dict(g.attrs)
        assert a["d_in"] == 64 and a["d_out"] == 10, a
        st = a["status"]
        st = st.decode() if isinstance(st, bytes) else st
        assert st == "ok", a
        assert g.attrs["data.normalize"] in (b"true", "true"), a["data.normalize"]
        assert g["loss"][-1] < g["loss"][0], "loss did not decrease"
PY
echo "ok"
