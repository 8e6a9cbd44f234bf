# Schema objects of schema_minor 2 in real outputs (docs/schema.md): every record.level stores
# exactly its tier's statistics; histograms, probe tensors and Jacobian spectra pass the checker
# (bin totals, Jacobian consistency, scales); stopped runs, verdicts and the theory columns agree
# between run attributes and /summary; gradsweep info and status count them.
. "$(dirname "$0")/lib.sh"
need_h5py
d=$(scratch schema_probes)
cat >"$d/p.yaml" <<'EOF'
name: probes
seed: 7
replicates: 1
data:   {kind: gaussian_mixture, classes: 3, dim: 5, samples: 64}
model:
  depth: [0, 1, 10]
  width: 6
  activation: [tanh, relu]
  sigma_w: [0.3, 1.0, 4.0]
train:  {steps: 12, batch: 16, lr: 0.05, stop_on: [vanishing, exploding, dead, saturated]}
record:
  every: 2
  grads: {log: 3}
  level: full
  hist: {bins: 7, every: 4, min: -8, max: 1}
  probe_batch: 5
  activations: true
  deltas: true
  jacobian: {inputs: 3}
  dtype: float64
EOF
expect_rc 0 "$GS_EXE" run "$d/p.yaml" -o "$d/full.h5" -j 2 -q
"$PY" "$GS_SOURCE_DIR/tests/schema_check.py" "$d/full.h5" 18
for level in basic standard; do
    expect_rc 0 "$GS_EXE" run "$d/p.yaml" -o "$d/$level.h5" -j 2 -q record.level=$level \
        train.stop_on=[] model.bias=false
    "$PY" "$GS_SOURCE_DIR/tests/schema_check.py" "$d/$level.h5" 18
done
"$PY" - "$d" <<'EOF' || fail "minor-2 objects"
import sys
import h5py
import numpy as np
d = sys.argv[1]
tiers = {"basic": {"delta_norm", "q", "dead_frac", "sat_frac", "delta_slope"}}
tiers["standard"] = tiers["basic"] | {"grad_mean_abs", "grad_max_abs", "act_mean", "act_std",
                                      "weight_norm", "weight_dist_init", "update_ratio"}
tiers["full"] = tiers["standard"] | {"bias_grad_norm", "pe_grad_var", "pe_grad_snr"}
stats = tiers["full"]
for level, path in [("full", "full.h5"), ("basic", "basic.h5"), ("standard", "standard.h5")]:
    with h5py.File(f"{d}/{path}", "r") as f:
        assert int(f.attrs["schema_minor"]) == 2
        assert f.attrs["record_level"] == level
        s = f["summary"][()]
        for r in s:
            g = f["runs"][r["run_id"].decode()]
            assert {n for n in stats if n in g} == tiers[level], (level, sorted(g))
            assert ("hist" in g) and ("probe" in g) and ("jacobian" in g)
            # theory columns = run attributes (NaN for depth 0: no hidden layer to describe)
            for c in ["q_star", "chi1", "xi_grad", "xi_c", "pred_slope"]:
                a, b = float(r[c]), float(g.attrs[c])
                assert (np.isnan(a) and np.isnan(b)) or a == b, (c, a, b)
            assert np.isnan(r["chi1"]) == (r["depth"] == 0), (r["depth"], r["chi1"])
            if r["status"] == b"stopped":
                assert r["verdict"] in (b"vanishing", b"exploding", b"dead", b"saturated")
                assert g.attrs["steps_done"] == r["verdict_step"], (g.attrs["steps_done"], r)
                assert g["step"][-1] == r["verdict_step"]
        if level == "full":
            st = [x.decode() for x in s["status"]]
            assert "stopped" in st and "ok" in st, st
            h = f["runs"][s["run_id"][0].decode()]["hist"]
            assert h["edges"][0] == -8 and h["edges"][-1] == 1 and h["grad"].shape[2] == 7
EOF
# info and status count stopped runs and verdicts as /summary has them
want=$("$PY" - "$d/full.h5" <<'EOF'
import sys, h5py
with h5py.File(sys.argv[1], "r") as f:
    st = [x.decode() for x in f["summary"]["status"]]
    v = [x.decode() for x in f["summary"]["verdict"]]
print(f"{st.count('ok')} ok, {st.count('diverged')} diverged, {st.count('stopped')} stopped")
print(f"{v.count('healthy')} healthy, {v.count('vanishing')} vanishing,")
print(f"{st.count('diverged') + st.count('stopped')} failed")
EOF
)
expect_rc 0 "$GS_EXE" info "$d/full.h5"
expect_out "status      $(sed -n 1p <<<"$want")"
expect_out "verdicts    $(sed -n 2p <<<"$want")"
expect_out "record      activations=1 deltas=1"
expect_out "hist_bins=7 hist_every=4 hist_max=1 hist_min=-8 jacobian_inputs=3 level=full"
expect_rc 0 "$GS_EXE" status "$d/full.h5"
expect_out "18 runs planned: "
expect_out "$(sed -n 3p <<<"$want"), 0 missing"
expect_out "  stopped   "
echo "it_schema_probes: ok"
