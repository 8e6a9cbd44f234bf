# Probes end to end: every statistic, histogram, probe tensor, Jacobian spectrum and verdict of
# plain nets recomputed independently in numpy from the stored weights (tests/probe_check.py);
# the tiers store what docs/probes.md says and do not change training; stop_on stops a run.
. "$(dirname "$0")/lib.sh"
need_h5py
d=$(scratch probes)
"$PY" - "$d/set.h5" <<'PY'
import sys, h5py, numpy as np
rng = np.random.default_rng(1)
x = rng.normal(size=(24, 5))
with h5py.File(sys.argv[1], "w") as f:
    f["X"] = x
    f["labels"] = (x[:, 0] > 0).astype(np.int32) + (x[:, 1] > 0).astype(np.int32)
PY
cat > "$d/probes.yaml" <<'Y'
name: probes
seed: 3
data: {kind: hdf5, path: set.h5, x: /X, y: /labels}
model: {depth: 3, width: 6, activation: [tanh, relu, sigmoid, leaky_relu, softsign],
        sigma_w: [1.0, 3.0], sigma_b: 0.1}
train: {steps: 5, batch: full, lr: 0.05, loss: [cross_entropy, mse]}
record: {every: 1, grads: {every: 1}, weights: true, dtype: float64, level: full,
         hist: {bins: 16, min: -8, max: 1}, probe_batch: 7, activations: true, deltas: true,
         jacobian: {inputs: 3}}
Y
expect_rc 0 "$GS_EXE" run "$d/probes.yaml" -o "$d/full.h5" -q
"$PY" "$GS_SOURCE_DIR/tests/probe_check.py" "$d/full.h5" "$d/set.h5" || fail "probe statistics disagree with numpy"
# Tiers: basic stores the basic statistics only and trains bitwise the same.
expect_rc 0 "$GS_EXE" run "$d/probes.yaml" -o "$d/basic.h5" -q record.level=basic
"$PY" - "$d/full.h5" "$d/basic.h5" <<'PY' || fail "tiers"
import sys, h5py, numpy as np
basic = {"delta_norm", "q", "dead_frac", "sat_frac", "delta_slope", "grad_norm", "loss"}
standard = {"grad_mean_abs", "grad_max_abs", "bias_grad_norm", "act_mean", "act_std",
            "weight_norm", "weight_dist_init", "update_ratio"}
full = {"pe_grad_var", "pe_grad_snr"}
with h5py.File(sys.argv[1], "r") as f, h5py.File(sys.argv[2], "r") as g:
    assert f.attrs["record_level"] == "full" and g.attrs["record_level"] == "basic"
    for rid in f["runs"]:
        a, b = f["runs"][rid], g["runs"][rid]
        for k in basic | standard | full:
            assert k in a, (rid, k)
        for k in basic:
            assert k in b, (rid, k)
        for k in standard | full:
            assert k not in b, (rid, k)
        for k in ("loss", "grad_norm", "delta_norm", "q"):
            assert np.array_equal(a[k][:], b[k][:], equal_nan=True), (rid, k)
        for l in range(a.attrs["n_layers"]):
            assert np.array_equal(a[f"grads/W{l:03d}"][:], b[f"grads/W{l:03d}"][:], equal_nan=True)
print("tiers ok")
PY
# stop_on: relu units pushed below zero by a large negative bias are dead at step 0.
cat > "$d/dead.yaml" <<'Y'
name: dead
seed: 4
data: {kind: hdf5, path: set.h5, x: /X, y: /labels}
model: {depth: 3, width: 6, activation: relu, sigma_w: 0.1, sigma_b: 0}
train: {steps: 20, batch: full, lr: 0.05, stop_on: [dead]}
Y
expect_rc 0 "$GS_EXE" run "$d/dead.yaml" -o "$d/dead.h5" -q model.init=normal_std train.stop_on=[dead]
