"""Check a gradsweep output against docs/schema.md (schema gradsweep/1).

usage: schema_check.py OUT.h5 N_RUNS"""
import sys

import h5py
import numpy as np

path, n_runs = sys.argv[1], int(sys.argv[2])
errors = []


def need(cond, msg):
    if not cond:
        errors.append(msg)


with h5py.File(path, "r") as f:
    for a in ["schema", "gradsweep_version", "spec", "command_line", "created", "hostname", "rng",
              "hdf5_version", "gsl_version", "blas_version"]:
        need(a in f.attrs, f"root attribute {a} missing")
    need(f.attrs.get("schema") in ("gradsweep/1", b"gradsweep/1"), "schema != gradsweep/1")
    s = f["summary"][()]
    need(len(s) == n_runs, f"/summary has {len(s)} rows, expected {n_runs}")
    for col in ["run_id", "seed", "replicate", "status", "diverged_step", "final_loss",
                "grad_norm_first_step0", "grad_norm_last_step0"]:
        need(col in s.dtype.names, f"/summary column {col} missing")
    need(len(f["runs"]) == n_runs, f"/runs has {len(f['runs'])} members")
    for rid in list(f["runs"])[:50]:
        g = f["runs"][rid]
        for a in ["seed", "replicate", "status", "diverged_step", "model.depth", "model.width",
                  "model.activation", "model.sigma_w", "train.lr"]:
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
        S = g["grads/step"].shape[0]
        status = g.attrs["status"]
        status = status.decode() if isinstance(status, bytes) else status
        if status == "ok":
            need(np.all(np.isfinite(g["loss"][()])), f"{rid}: ok run with non-finite loss")
        for l in range(L):
            w = g[f"grads/W{l:03d}"]
            need(w.ndim == 3 and w.shape[0] == S, f"{rid}: grads/W{l:03d} shape {w.shape}")
            need(all(len(w.dims[i]) == 1 for i in range(3)), f"{rid}: W{l:03d} lacks scales")
            b = g[f"grads/b{l:03d}"]
            need(b.shape == (S, w.shape[1]), f"{rid}: grads/b{l:03d} shape {b.shape}")
            need([d.label for d in b.dims] == ["step", "fan_out"], f"{rid}: b{l:03d} dims")
            if "weights" in g:
                need(g[f"weights/b{l:03d}"].shape == b.shape, f"{rid}: weights/b{l:03d} shape")
            if S and status == "ok":
                # The stored gradient norm at snapshot step s equals the Frobenius norm of the
                # stored tensor (to float32 storage precision).
                s0 = int(g["grads/step"][0])
                row = int(np.nonzero(g["step"][()] == s0)[0][0])
                ref = g["grad_norm"][row, l]
                got = np.linalg.norm(w[0].astype(np.float64))
                need(abs(got - ref) <= 1e-5 * max(ref, 1e-30) + 1e-30,
                     f"{rid}: |grads/W{l:03d}[0]| = {got} but grad_norm = {ref}")
if errors:
    print("\n".join(errors[:20]))
    sys.exit(1)
print(f"schema_check: {path}: {n_runs} runs conform")
