# Schema objects of schema_minor 1 in a real output (docs/schema.md): no b<l> without biases,
# gamma/beta (and batchnorm running statistics with weights) per hidden layer, the eval columns
# of /summary; then an output whose segments lack the minor-1 attributes (as an older version
# wrote them) resumes with NaN eval columns and still conforms.
. "$(dirname "$0")/lib.sh"
need_h5py
d=$(scratch schema_norm)
cat >"$d/norm.yaml" <<'EOF'
name: norm
seed: 5
replicates: 1
data:   {kind: gaussian_mixture, classes: 3, dim: 5, samples: 64}
model:
  depth: [0, 2]
  width: 6
  activation: tanh
  bias: [true, false]
  norm: [none, batchnorm, layernorm]
train:  {steps: 6, batch: 16, lr: 0.05, eval_fraction: [0, 0.25]}
record: {every: 1, grads: [0, 5], weights: true, dtype: float64}
EOF
expect_rc 0 "$GS_EXE" run "$d/norm.yaml" -o "$d/out.h5" -j 2 -q
"$PY" "$GS_SOURCE_DIR/tests/schema_check.py" "$d/out.h5" 24
"$PY" - "$d/out.h5" <<'EOF' || fail "minor-1 objects"
import sys
import h5py
import numpy as np
with h5py.File(sys.argv[1], "r") as f:
    assert int(f.attrs["schema_minor"]) == 2
    s = f["summary"][()]
    for r in s:
        g = f["runs"][r["run_id"].decode()]
        hidden = int(r["depth"])
        bias, norm = r["bias"].decode(), r["norm"].decode()
        assert ("b000" in g["grads"]) == (bias == "true"), (r["run_id"], bias)
        assert ("gamma000" in g["grads"]) == (norm != "none" and hidden > 0)
        assert ("running_var000" in g["weights"]) == (norm == "batchnorm" and hidden > 0)
        assert f"gamma{hidden:03d}" not in g["grads"]  # the readout has no norm
        if r["eval_fraction"] == 0:
            assert np.isnan(r["eval_loss"]) and np.isnan(r["eval_accuracy"])
            assert np.isnan(g.attrs["final_eval_loss"])
        else:
            assert r["eval_loss"] == g["eval/loss"][-1] == g.attrs["final_eval_loss"]
            assert r["eval_accuracy"] == g["eval/accuracy"][-1]
EOF
# Older segments: no schema_minor, no final_eval_* (minor 1) and no verdict, verdict_step,
# delta_slope0 (minor 2) attributes. --resume rebuilds /summary with NaN, "" and -1 there.
"$PY" - "$d/out.h5.d" <<'EOF' || fail "could not age the segments"
import glob
import sys
import h5py
for seg in glob.glob(sys.argv[1] + "/seg-*.h5"):
    with h5py.File(seg, "r+") as s:
        del s.attrs["schema_minor"]
        for g in s["runs"].values():
            del g.attrs["final_eval_loss"], g.attrs["final_eval_accuracy"]
            del g.attrs["verdict"], g.attrs["verdict_step"], g.attrs["delta_slope0"]
EOF
expect_rc 0 "$GS_EXE" run "$d/norm.yaml" -o "$d/out.h5" --resume -q
expect_out "24 of 24 runs"
"$PY" "$GS_SOURCE_DIR/tests/schema_check.py" "$d/out.h5" 24
"$PY" - "$d/out.h5" <<'EOF' || fail "eval columns of older segments are not NaN"
import sys
import h5py
import numpy as np
with h5py.File(sys.argv[1], "r") as f:
    s = f["summary"][()]
    assert np.all(np.isnan(s["eval_loss"])) and np.all(np.isnan(s["eval_accuracy"]))
    assert np.all(s["verdict"] == b"") and np.all(s["verdict_step"] == -1), s["verdict"]
    assert np.all(np.isnan(s["delta_slope0"]))
EOF
# A width axis mixing a uniform width and a per-layer list: a string column of canonical text.
cat >"$d/wl.yaml" <<'EOF'
name: wl
data: {kind: gaussian_mixture, classes: 3, dim: 4, samples: 64}
model: {depth: 2, width: [8, {layers: [6, 4]}], activation: tanh}
train: {steps: 3, batch: 16}
record: {grads: [0], weights: true}
EOF
expect_rc 0 "$GS_EXE" run "$d/wl.yaml" -o "$d/wl.h5" -q
"$PY" "$GS_SOURCE_DIR/tests/schema_check.py" "$d/wl.h5" 2
"$PY" - "$d/wl.h5" <<'EOF' || fail "width column of a list axis"
import sys
import h5py
with h5py.File(sys.argv[1], "r") as f:
    s = f["summary"][()]
    assert sorted(s["width"].tolist()) == [b"8", b"[6,4]"], s["width"]
    for rid, w in zip(s["run_id"], s["width"]):
        g = f["runs"][rid.decode()]
        want = (6, 4) if w == b"[6,4]" else (8, 8)
        assert (g["weights/W001"].shape[2], g["weights/W002"].shape[2]) == want, rid
EOF
echo "it_schema_python_norm: ok"
