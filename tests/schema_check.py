"""Check a gradsweep output against docs/schema.md (schema gradsweep/1, any schema_minor).

Objects of a later schema_minor are checked when the file declares that minor (or, for
per-run objects, whenever they are present); files of minor 0 may lack them.

usage: schema_check.py OUT.h5 N_RUNS"""
import sys

import h5py
import numpy as np

path, n_runs = sys.argv[1], int(sys.argv[2])
errors = []
NORMS = ("batchnorm", "layernorm")
STATUSES = ("ok", "diverged", "stopped")
VERDICTS = ("healthy", "vanishing", "exploding", "diverged", "dead", "saturated")
# Probe statistics per record.level tier (docs/probes.md); each tier includes the ones above.
TIERS = {
    "basic": {"delta_norm": "L", "q": "L", "dead_frac": "H", "sat_frac": "H", "delta_slope": ""},
    "standard": {"grad_mean_abs": "L", "grad_max_abs": "L", "bias_grad_norm": "L",
                 "act_mean": "H", "act_std": "H", "weight_norm": "L", "weight_dist_init": "L",
                 "update_ratio": "L"},
    "full": {"pe_grad_var": "L", "pe_grad_snr": "L"},
}
ALL_STATS = {k: v for tier in TIERS.values() for k, v in tier.items()}
THEORY = ("q_star", "chi1", "xi_grad", "c_star", "chi_c", "xi_c", "pred_slope")


def need(cond, msg):
    if not cond:
        errors.append(msg)


def text(v):
    return v.decode() if isinstance(v, bytes) else str(v)


def attr_str(obj, name, default):
    """A string attribute; `default` when absent (outputs older than the key)."""
    return text(obj.attrs[name]) if name in obj.attrs else default


def same(a, b):
    """Equal floats, NaN equal to NaN."""
    return (np.isnan(a) and np.isnan(b)) or a == b


def check_vector(rid, grp, name, S, w):
    """grp/name [S, fan_out] in the record dtype, on the scales `step` and fan_out_<l> of W<l>."""
    v = grp[name]
    need(v.shape == (S, w.shape[1]), f"{rid}: {grp.name}/{name} shape {v.shape}")
    need(v.dtype == w.dtype, f"{rid}: {grp.name}/{name} dtype {v.dtype}, W has {w.dtype}")
    need([d.label for d in v.dims] == ["step", "fan_out"], f"{rid}: {name} dims")
    need(all(len(v.dims[i]) == 1 for i in range(2)) and
         v.dims[1][0].name == w.dims[1][0].name and v.dims[0][0].name == w.dims[0][0].name,
         f"{rid}: {grp.name}/{name} not on the scales of W")


def check_vectors(rid, g, L, S):
    """b<l> with model.bias; gamma<l>/beta<l> of hidden layers with model.norm; batchnorm
    running statistics with weights."""
    bias = attr_str(g, "model.bias", "true") == "true"
    norm = attr_str(g, "model.norm", "none")
    n_norm = L - 1 if norm in NORMS else 0
    sets = [("grads", "b", L if bias else 0), ("grads", "gamma", n_norm),
            ("grads", "beta", n_norm)]
    if "weights" in g:
        n_run = n_norm if norm == "batchnorm" else 0
        sets += [("weights", "b", L if bias else 0), ("weights", "gamma", n_norm),
                 ("weights", "beta", n_norm), ("weights", "running_mean", n_run),
                 ("weights", "running_var", n_run)]
    for grp, prefix, n in sets:
        for l in range(L):
            name = f"{prefix}{l:03d}"
            need((name in g[grp]) == (l < n),
                 f"{rid}: {grp}/{name} {'missing' if l < n else 'unexpected'} "
                 f"(model.bias {bias}, model.norm {norm})")
            if l < n and name in g[grp]:
                check_vector(rid, g[grp], name, S, g[f"{grp}/W{l:03d}"])


def check_eval(rid, g):
    """The eval group, and final_eval_* (when present) = its last row or NaN. Returns them."""
    last = (np.nan, np.nan)
    if "eval" in g:
        E = g["eval/step"].shape[0]
        need(g["eval/step"].dtype == np.int64, f"{rid}: eval/step dtype")
        need(E >= 1 and np.all(np.diff(g["eval/step"][()]) > 0), f"{rid}: eval/step order")
        need(int(g["eval"].attrs["samples"]) >= 1, f"{rid}: eval samples")
        for name in ["loss", "accuracy"]:
            ds = g[f"eval/{name}"]
            need(ds.shape == (E,), f"{rid}: eval/{name} shape {ds.shape}")
            need([d.label for d in ds.dims] == ["step"], f"{rid}: eval/{name} dims")
        acc = g["eval/accuracy"][()]
        need(np.all(np.isnan(acc) | ((acc >= 0) & (acc <= 1))), f"{rid}: eval accuracy range")
        if E:
            last = (float(g["eval/loss"][E - 1]), float(g["eval/accuracy"][E - 1]))
    if "final_eval_loss" not in g.attrs:
        return None
    got = (float(g.attrs["final_eval_loss"]), float(g.attrs["final_eval_accuracy"]))
    need(same(got[0], last[0]) and same(got[1], last[1]),
         f"{rid}: final_eval_loss/accuracy {got} but the eval group ends with {last}")
    return got


def labels(ds):
    return [d.label for d in ds.dims]


def on_scales(rid, ds, scales):
    """ds has one dimension scale per dimension, the datasets `scales` (h5py objects), labelled
    with their scale names."""
    need(labels(ds) == [sc.attrs["NAME"].decode().rstrip("\0") if isinstance(
        sc.attrs["NAME"], bytes) else str(sc.attrs["NAME"]) for sc in scales],
         f"{rid}: {ds.name} labels {labels(ds)}")
    for i, sc in enumerate(scales):
        need(len(ds.dims[i]) == 1 and ds.dims[i][0] == sc,
             f"{rid}: {ds.name} dim {i} not on {sc.name}")


def want_stats(level, bias):
    """Names of the probe statistics a run recorded at `level` stores."""
    names = []
    for tier in ("basic", "standard", "full"):
        names += [n for n in TIERS[tier] if n != "bias_grad_norm" or bias]
        if tier == level:
            break
    return set(names)


def check_stats(rid, g, T, L, level, bias):
    """[T, L] / [T, H] / [T] probe statistics: shapes, dtype, scales; with any present, exactly
    the record level's tier set."""
    H = L - 1
    present = {n for n in ALL_STATS if n in g}
    if present and level:
        want = want_stats(level, bias)
        need(present == want, f"{rid}: level {level}: statistics {sorted(present ^ want)} "
             f"{'missing' if want - present else 'unexpected'}")
    need(("hidden" in g) == any(ALL_STATS[n] == "H" for n in present),
         f"{rid}: scale `hidden` present iff a [T, H] statistic is")
    if "hidden" in g:
        need(np.array_equal(g["hidden"][()], np.arange(H)), f"{rid}: hidden != 0..H-1")
    for n in present:
        ds, kind = g[n], ALL_STATS[n]
        shape = (T, L) if kind == "L" else (T, H) if kind == "H" else (T,)
        need(ds.shape == shape, f"{rid}: {n} shape {ds.shape}, want {shape}")
        need(ds.dtype == np.float64, f"{rid}: {n} dtype {ds.dtype}")
        scales = [g["step"]] + ([g["layer"]] if kind == "L" else [g["hidden"]] if kind == "H"
                               else [])
        on_scales(rid, ds, scales)
    for n in ("dead_frac", "sat_frac"):
        if n in present:
            v = g[n][()]
            need(np.all(np.isnan(v) | ((v >= 0) & (v <= 1))), f"{rid}: {n} outside [0, 1]")
    if "delta_slope" in present and "delta_slope0" in g.attrs and T and g["step"][0] == 0:
        need(same(float(g["delta_slope"][0]), float(g.attrs["delta_slope0"])),
             f"{rid}: delta_slope0 != delta_slope[0]")


def check_hist(rid, g, L, k, fans):
    """hist/: scales, shapes, edges; every layer's counts sum to its entry count (grad) or to
    batch x fan_out with one batch size for all layers (delta)."""
    h = g["hist"]
    R = h["step"].shape[0]
    need(h["bin"].shape == (k,) and h["edges"].shape == (k + 1,), f"{rid}: hist bin/edges shape")
    need(np.all(np.diff(h["edges"][()]) > 0), f"{rid}: hist edges not increasing")
    need([text(v) for v in h["outside"][()]] == ["zero", "below", "above", "nan"],
         f"{rid}: hist/outside names")
    for n in ("grad", "delta"):
        if n not in h:
            continue
        c, o = h[n], h[f"{n}_outside"]
        need(c.shape == (R, L, k) and o.shape == (R, L, 4), f"{rid}: hist/{n} shapes")
        need(c.dtype == np.int64 and o.dtype == np.int64, f"{rid}: hist/{n} dtype")
        on_scales(rid, c, [h["step"], g["layer"], h["bin"]])
        on_scales(rid, o, [h["step"], g["layer"], h["outside"]])
        need([text(v) for v in o.attrs["columns"]] == ["zero", "below", "above", "nan"],
             f"{rid}: hist/{n}_outside columns")
        tot = c[()].sum(axis=2) + o[()].sum(axis=2)  # [R, L]
        if n == "grad":
            want = np.array([fo * fi for fo, fi in fans])
            need(np.all(tot == want), f"{rid}: hist/grad totals {tot[:1]} != {want}")
        elif R:
            per = tot / np.array([fo for fo, _ in fans])
            need(np.all(per == per[:, :1]), f"{rid}: hist/delta totals not batch x fan_out")


def check_probe(rid, g, L, fans, pbatch, wdtype):
    p = g["probe"]
    P = p["index"].shape[0]
    need(1 <= P <= max(pbatch, 1), f"{rid}: probe/index has {P} rows, probe_batch {pbatch}")
    layers = [l for l in range(L) if f"h{l:03d}" in p or f"delta{l:03d}" in p]
    need(("step" in p) == bool(layers), f"{rid}: probe/step present iff probe tensors are")
    if not layers:
        return
    need(np.array_equal(p["step"][()], g["grads/step"][()]), f"{rid}: probe/step != grads/step")
    S = p["step"].shape[0]
    for l in layers:
        for n in (f"h{l:03d}", f"delta{l:03d}"):
            if n in p:
                ds = p[n]
                need(ds.shape == (S, P, fans[l][0]), f"{rid}: probe/{n} shape {ds.shape}")
                need(ds.dtype == wdtype, f"{rid}: probe/{n} dtype {ds.dtype}")
                on_scales(rid, ds, [p["step"], p["index"], p[f"fan_out_{l:03d}"]])


def check_jacobian(rid, g, m, d_in, d_out):
    j = g["jacobian"]
    J, r = j["step"].shape[0], min(d_in, d_out)
    need(j["sv"].shape == (J, m, r), f"{rid}: jacobian/sv shape {j['sv'].shape}")
    for n in ("sv", "mean_sq", "max"):
        need(j[n].dtype == np.float64, f"{rid}: jacobian/{n} dtype")
    on_scales(rid, j["sv"], [j["step"], j["input"], j["rank"]])
    on_scales(rid, j["mean_sq"], [j["step"], j["input"]])
    on_scales(rid, j["max"], [j["step"], j["input"]])
    sv = j["sv"][()]
    ok = np.all(np.isfinite(sv), axis=2)
    need(np.all(np.diff(sv, axis=2)[ok] <= 0), f"{rid}: jacobian/sv not descending")
    need(np.allclose(j["mean_sq"][()][ok], np.mean(sv ** 2, axis=2)[ok], rtol=1e-10),
         f"{rid}: jacobian/mean_sq != mean(sv^2)")
    need(np.array_equal(j["max"][()][ok], sv[:, :, 0][ok]), f"{rid}: jacobian/max != sv[0]")


def check_probes(rid, g, T, L, root):
    """Every schema_minor 2 object of a run group that is present."""
    if seg_minor(g) >= 2:
        for a in ["verdict", "verdict_step", "delta_slope0", "train.stop_on"] + list(THEORY):
            need(a in g.attrs, f"{rid}: attribute {a} missing")
    if "verdict" in g.attrs and "delta_norm" in g:  # a verdict computed from recorded rows
        v = text(g.attrs["verdict"])
        need(v in VERDICTS, f"{rid}: verdict {v!r}")
        need((int(g.attrs["verdict_step"]) == -1) == (v == "healthy"),
             f"{rid}: verdict_step {g.attrs['verdict_step']} with verdict {v}")
    level = text(root.attrs["record_level"]) if "record_level" in root.attrs else None
    bias = attr_str(g, "model.bias", "true") == "true"
    check_stats(rid, g, T, L, level, bias)
    fans = [g[f"grads/W{l:03d}"].shape[1:] for l in range(L)]
    if "hist" in g:
        check_hist(rid, g, L, int(root.attrs.get("record_hist_bins", g["hist/bin"].shape[0])),
                   fans)
    if "probe" in g:
        check_probe(rid, g, L, fans, int(root.attrs.get("record_probe_batch", 1 << 30)),
                    g["grads/W000"].dtype)
    if "jacobian" in g:
        check_jacobian(rid, g, int(root.attrs.get("record_jacobian_inputs",
                                                  g["jacobian/input"].shape[0])),
                       int(g.attrs["d_in"]), int(g.attrs["d_out"]))


def check_run(rid, g, row, root):
    for a in ["seed", "replicate", "status", "diverged_step", "model.depth", "model.width",
              "model.activation", "model.sigma_w", "train.lr"]:
        need(a in g.attrs, f"{rid}: attribute {a} missing")
    if seg_minor(g) >= 1:
        for a in ["final_eval_loss", "final_eval_accuracy", "model.bias", "model.norm",
                  "model.norm_eps", "model.norm_momentum", "model.residual_every",
                  "model.residual_alpha", "train.dtype", "train.ftz"]:
            need(a in g.attrs, f"{rid}: attribute {a} missing")
    L = int(g.attrs["model.depth"]) + 1
    T = g["step"].shape[0]
    need(g["step"].dtype == np.int64, f"{rid}: step dtype {g['step'].dtype}")
    need(g["loss"].shape == (T,), f"{rid}: loss shape {g['loss'].shape}")
    need(g["grad_norm"].shape == (T, L), f"{rid}: grad_norm shape {g['grad_norm'].shape}")
    need(len(g["grad_norm"].dims[0]) == 1 and len(g["grad_norm"].dims[1]) == 1,
         f"{rid}: grad_norm lacks dimension scales")
    for name in ["lr", "clipped", "grad_norm_global"]:
        need(g[name].shape == (T,), f"{rid}: {name} shape {g[name].shape}")
        need([d.label for d in g[name].dims] == ["step"], f"{rid}: {name} dims")
    need(g["clipped"].dtype == np.int8, f"{rid}: clipped dtype {g['clipped'].dtype}")
    final_eval = check_eval(rid, g)
    if row is not None and "eval_loss" in row.dtype.names:
        want = final_eval if final_eval is not None else (np.nan, np.nan)
        need(same(float(row["eval_loss"]), want[0]) and
             same(float(row["eval_accuracy"]), want[1]),
             f"{rid}: /summary eval_loss/eval_accuracy differ from the run attributes")
    S = g["grads/step"].shape[0]
    status = text(g.attrs["status"])
    need(status in STATUSES, f"{rid}: status {status!r}")
    if status == "ok":
        need(np.all(np.isfinite(g["loss"][()])), f"{rid}: ok run with non-finite loss")
    for l in range(L):
        w = g[f"grads/W{l:03d}"]
        need(w.ndim == 3 and w.shape[0] == S, f"{rid}: grads/W{l:03d} shape {w.shape}")
        need(all(len(w.dims[i]) == 1 for i in range(3)), f"{rid}: W{l:03d} lacks scales")
        if "weights" in g:
            need(g[f"weights/W{l:03d}"].shape == w.shape, f"{rid}: weights/W{l:03d} shape")
        if S and status == "ok":
            # The stored gradient norm at snapshot step s equals the Frobenius norm of the
            # stored tensor (to float32 storage precision).
            s0 = int(g["grads/step"][0])
            r = int(np.nonzero(g["step"][()] == s0)[0][0])
            ref = g["grad_norm"][r, l]
            got = np.linalg.norm(w[0].astype(np.float64))
            need(abs(got - ref) <= 1e-5 * max(ref, 1e-30) + 1e-30,
                 f"{rid}: |grads/W{l:03d}[0]| = {got} but grad_norm = {ref}")
    check_vectors(rid, g, L, S)
    check_probes(rid, g, T, L, root)
    if row is not None:
        need(text(row["status"]) == status, f"{rid}: /summary status != run attribute")
    if row is not None and "verdict" in row.dtype.names:
        want = text(g.attrs["verdict"]) if "verdict" in g.attrs else ""
        need(text(row["verdict"]) == want, f"{rid}: /summary verdict {row['verdict']} != {want!r}")
        want = int(g.attrs["verdict_step"]) if "verdict_step" in g.attrs else -1
        need(int(row["verdict_step"]) == want, f"{rid}: /summary verdict_step")
        for c in ["delta_slope0"] + [t for t in THEORY if t not in ("c_star", "chi_c")]:
            want = float(g.attrs[c]) if c in g.attrs else np.nan
            need(same(float(row[c]), want), f"{rid}: /summary {c} != run attribute")


def seg_minor(g):
    """schema_minor of the segment holding run group g (0 when absent)."""
    return int(g.file.attrs.get("schema_minor", 0))


with h5py.File(path, "r") as f:
    for a in ["schema", "gradsweep_version", "spec", "command_line", "created", "hostname", "rng",
              "hdf5_version", "gsl_version", "blas_version"]:
        need(a in f.attrs, f"root attribute {a} missing")
    need(f.attrs.get("schema") in ("gradsweep/1", b"gradsweep/1"), "schema != gradsweep/1")
    minor = int(f.attrs.get("schema_minor", 0))
    need(minor >= 0, f"schema_minor {minor} < 0")
    s = f["summary"][()]
    need(len(s) == n_runs, f"/summary has {len(s)} rows, expected {n_runs}")
    cols = ["run_id", "seed", "replicate", "status", "diverged_step", "final_loss",
            "grad_norm_first_step0", "grad_norm_last_step0"]
    if minor >= 1:
        cols += ["eval_loss", "eval_accuracy"]
    if minor >= 2:
        cols += ["verdict", "verdict_step", "q_star", "chi1", "xi_grad", "xi_c", "pred_slope",
                 "delta_slope0"]
        for a in ["record_level", "record_hist_bins", "record_hist_every", "record_hist_min",
                  "record_hist_max", "record_probe_batch", "record_activations",
                  "record_deltas", "record_jacobian_inputs"]:
            need(a in f.attrs, f"root attribute {a} missing")
        need(text(f.attrs.get("record_level", b"")) in TIERS, "record_level value")
    for col in cols:
        need(col in s.dtype.names, f"/summary column {col} missing")
    for col in ["eval_loss", "eval_accuracy"]:
        if col in s.dtype.names:
            need(s.dtype[col] == np.float64, f"/summary {col} dtype {s.dtype[col]}")
    rows = {text(r["run_id"]): r for r in s}
    need(len(f["runs"]) == n_runs, f"/runs has {len(f['runs'])} members")
    for rid in list(f["runs"])[:50]:
        check_run(rid, f["runs"][rid], rows.get(rid), f)
if errors:
    print("\n".join(errors[:20]))
    print(f"({len(errors)} errors)" if len(errors) > 20 else "")
    sys.exit(1)
print(f"schema_check: {path}: {n_runs} runs conform")
