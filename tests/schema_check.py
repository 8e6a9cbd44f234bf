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


def check_run(rid, g, row):
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
    for col in cols:
        need(col in s.dtype.names, f"/summary column {col} missing")
    for col in ["eval_loss", "eval_accuracy"]:
        if col in s.dtype.names:
            need(s.dtype[col] == np.float64, f"/summary {col} dtype {s.dtype[col]}")
    rows = {text(r["run_id"]): r for r in s}
    need(len(f["runs"]) == n_runs, f"/runs has {len(f['runs'])} members")
    for rid in list(f["runs"])[:50]:
        check_run(rid, f["runs"][rid], rows.get(rid))
if errors:
    print("\n".join(errors[:20]))
    sys.exit(1)
print(f"schema_check: {path}: {n_runs} runs conform")
