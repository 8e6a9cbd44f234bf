# The gradsweep package's CLI (python3 -m gradsweep) and path functions read an output: summary
# table, per-run statistics, the profile figure, and xarray sees the named axes (step, layer, fan_out_NNN, fan_in_NNN) of a run group.
. "$(dirname "$0")/lib.sh"
need_h5py
"$PY" -c "import pandas, matplotlib" 2>/dev/null || { echo "skip: no pandas/matplotlib"; exit 77; }
d=$(scratch analysis)
expect_rc 0 "$GS_EXE" run "$SPECS/small.yaml" -o "$d/out.h5" -q
export PYTHONPATH=$GS_SOURCE_DIR/analysis
tool="-m gradsweep"
expect_rc 0 "$PY" $tool summary "$d/out.h5"
expect_out "status counts:"
expect_rc 0 "$PY" $tool profile "$d/out.h5" -o "$d/p.png" --where activation=tanh
[ -s "$d/p.png" ] || fail "profile figure not written"
expect_rc 1 "$PY" $tool profile "$d/out.h5" -o "$d/q.png" --where colour=red
expect_out "no column 'colour'"
expect_rc 0 "$PY" $tool summary "$d/out.h5.d"
expect_out "status counts:"
expect_rc 1 "$PY" $tool summary "$d/none.h5"
expect_out "none.h5: no such file"
cd "$GS_SOURCE_DIR/analysis"
"$PY" - "$d/out.h5" <<'PY' || fail "library use"
import sys
import numpy as np
import gradsweep as gs
path = sys.argv[1]
runs = gs.summary(path)
assert len(runs) == 24 and runs["status"].isin(["ok", "diverged"]).all()
rid = runs.run_id[0]
st = gs.stats(path, rid)
assert list(st.columns) == ["step", "layer", "grad_norm", "loss"]
assert st["layer"].max() == runs.depth[0]  # depth + 1 layers
ls = gs.layer_stats(path, rid)
assert list(ls.columns[:3]) == ["step", "layer", "grad_norm"] and len(ls) == len(st)
seg, grp = gs.segment_of(path, rid)
assert seg.endswith(".h5") and "/out.h5.d/seg-" in seg and grp.strip("/") == f"runs/{rid}"
assert gs.histogram(path, rid) is None and gs.jacobian(path, rid) is None
try:
    import xarray  # noqa: F401
except ImportError:
    print("xarray absent: named-axes check skipped")
    sys.exit(0)
ds = gs.open_xarray(path, rid)
assert ds["grad_norm"].dims == ("step", "layer"), ds["grad_norm"].dims
assert ds["loss"].dims == ("step",)
g = gs.open_xarray(path, rid, "grads")
assert g["W000"].dims == ("step", "fan_out_000", "fan_in_000"), g["W000"].dims
assert np.array_equal(g["step"].values, [0, 30, 59])
print("xarray: named axes ok")
PY
echo "it_analysis: ok"
