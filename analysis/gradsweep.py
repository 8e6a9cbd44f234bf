#!/usr/bin/python3
"""Read gradsweep outputs (schema gradsweep/1) into pandas / xarray, and draw the per-layer
gradient profile.

Library use:
    import gradsweep as gs
    runs = gs.summary("results/quick.h5")          # DataFrame, one row per run, strings decoded
    stats = gs.stats("results/quick.h5", run_id)   # long DataFrame: step, layer, grad_norm, loss
    probes = gs.layer_stats("results/quick.h5", run_id)  # step, layer and every [T, L] probe
    units = gs.hidden_stats("results/quick.h5", run_id)  # step, hidden and every [T, H] probe
    h = gs.histogram("results/quick.h5", run_id, "grad")  # dict: step, edges, counts, outside
    jac = gs.jacobian("results/quick.h5", run_id)        # dict: step, sv, mean_sq, max
    ds = gs.open_xarray("results/quick.h5", run_id, "grads")   # xarray.Dataset of one run group

Objects of schema_minor 2 (probe statistics, hist/, jacobian/, verdicts) are optional: outputs
of older versions, or recorded at a lower record.level, lack some; the functions return only
what is there (docs/schema.md lists every object).

Command line (Debian's interpreter: /usr/bin/python3):
    analysis/gradsweep.py summary OUT.h5
    analysis/gradsweep.py profile OUT.h5 -o profile.png [--step 0] [--where depth=32 ...]
"""
import argparse
import os
import sys

import h5py
import numpy as np
import pandas as pd


def _decode(df):
    for col in df.columns[df.dtypes == object]:
        df[col] = df[col].map(lambda v: v.decode("utf-8") if isinstance(v, bytes) else v)
    return df


def summary(path):
    """/summary as a DataFrame with str columns."""
    with h5py.File(path, "r") as f:
        return _decode(pd.DataFrame(f["summary"][()]))


def stats(path, run_id):
    """Per-step, per-layer statistics of one run as a long DataFrame."""
    with h5py.File(path, "r") as f:
        g = f["runs"][run_id]
        step, loss, gn = g["step"][()], g["loss"][()], g["grad_norm"][()]
    n_steps, n_layers = gn.shape
    return pd.DataFrame({
        "step": np.repeat(step, n_layers),
        "layer": np.tile(np.arange(n_layers), n_steps),
        "grad_norm": gn.ravel(),
        "loss": np.repeat(loss, n_layers),
    })


# Probe statistics per layer kind (docs/probes.md): [T, L] per weight layer, [T, H] per hidden.
LAYER_STATS = ("grad_norm", "delta_norm", "q", "grad_mean_abs", "grad_max_abs", "bias_grad_norm",
               "weight_norm", "weight_dist_init", "update_ratio", "pe_grad_var", "pe_grad_snr")
HIDDEN_STATS = ("dead_frac", "sat_frac", "act_mean", "act_std")


def _long(g, names, axis_name):
    """Long DataFrame of the [T, n] datasets `names` present in group g."""
    step = g["step"][()]
    cols = {n: g[n][()] for n in names if n in g}
    n = next(iter(cols.values())).shape[1] if cols else 0
    out = {"step": np.repeat(step, n), axis_name: np.tile(np.arange(n), len(step))}
    out.update({k: v.ravel() for k, v in cols.items()})
    return pd.DataFrame(out)


def layer_stats(path, run_id):
    """Every per-layer statistic of a run ([T, L]: grad_norm, delta_norm, q, ...) as a long
    DataFrame with columns step, layer and one per statistic present."""
    with h5py.File(path, "r") as f:
        return _long(f["runs"][run_id], LAYER_STATS, "layer")


def hidden_stats(path, run_id):
    """Every per-hidden-layer statistic ([T, H]: dead_frac, sat_frac, act_mean, act_std) as a
    long DataFrame with columns step, hidden and one per statistic present (empty when none)."""
    with h5py.File(path, "r") as f:
        return _long(f["runs"][run_id], HIDDEN_STATS, "hidden")


def histogram(path, run_id, kind="grad"):
    """The log10|v| histograms of a run (`kind` "grad": dL/dW_l, "delta": dL/dh_l): a dict with
    step [R], edges [k+1] (log10 bin edges), counts [R, L, k] and outside [R, L, 4] (columns
    zero, below, above, nan); None when the run has no histograms."""
    with h5py.File(path, "r") as f:
        g = f["runs"][run_id]
        if "hist" not in g or kind not in g["hist"]:
            return None
        h = g["hist"]
        return {"step": h["step"][()], "edges": h["edges"][()], "counts": h[kind][()],
                "outside": h[f"{kind}_outside"][()]}


def jacobian(path, run_id):
    """The Jacobian spectrum of a run: a dict with step [J], sv [J, m, r] (singular values,
    largest first), mean_sq [J, m] and max [J, m]; None when it was not recorded."""
    with h5py.File(path, "r") as f:
        g = f["runs"][run_id]
        if "jacobian" not in g:
            return None
        return {k: g["jacobian"][k][()] for k in ("step", "sv", "mean_sq", "max")}


def segment_of(path, run_id):
    """(segment file, group path) holding a run: /runs/<id> in the index is an external link."""
    with h5py.File(path, "r") as f:
        link = f["runs"].get(run_id, getlink=True)
        if not isinstance(link, h5py.ExternalLink):
            return path, f"runs/{run_id}"
        return os.path.join(os.path.dirname(os.path.abspath(path)), link.filename), link.path


def open_xarray(path, run_id, group=""):
    """One run group (or its `grads` / `weights` subgroup) as an xarray Dataset with named
    dimensions. Opens the segment file directly: netCDF readers resolve dimension scales within
    one file, so they cannot follow the index's external links."""
    import xarray as xr

    seg, grp = segment_of(path, run_id)
    grp = grp.strip("/") + ("/" + group if group else "")
    return xr.open_dataset(seg, group=grp, engine="h5netcdf")


def profile(path, out, step=0, where=()):
    """Per-layer |dL/dW_l| at `step` for every run (mean over replicates), one panel per
    activation, one line per sigma_w: the standard vanishing/exploding-gradient picture."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    runs = summary(path)
    for cond in where:
        key, val = cond.split("=", 1)
        if key not in runs.columns:
            raise SystemExit(f"--where {cond}: no column '{key}' in /summary "
                             f"(columns: {', '.join(runs.columns)})")
        col = runs[key]
        runs = runs[col == type(col.iloc[0])(val)] if len(runs) else runs
    if "depth" in runs.columns and runs["depth"].nunique() > 1:
        runs = runs[runs["depth"] == runs["depth"].max()]
    if runs.empty:
        raise SystemExit("profile: no run matches")
    panels = sorted(runs["activation"].unique()) if "activation" in runs.columns else [None]
    fig, axes = plt.subplots(1, len(panels), figsize=(4.5 * len(panels), 3.6), squeeze=False)
    with h5py.File(path, "r") as f:
        for ax, act in zip(axes[0], panels):
            sub = runs if act is None else runs[runs["activation"] == act]
            keys = sorted(sub["sigma_w"].unique()) if "sigma_w" in sub.columns else [None]
            cmap = plt.get_cmap("viridis", max(len(keys), 2))
            for i, sw in enumerate(keys):
                rows = sub if sw is None else sub[sub["sigma_w"] == sw]
                prof = []
                for rid in rows["run_id"]:
                    g = f["runs"][rid]
                    hit = np.nonzero(g["step"][()] == step)[0]
                    if len(hit):
                        prof.append(g["grad_norm"][hit[0], :])
                if not prof:
                    continue
                y = np.exp(np.mean(np.log(np.maximum(np.array(prof), 1e-300)), axis=0))
                ax.semilogy(np.arange(len(y)), y, color=cmap(i),
                            label=None if sw is None else f"σw={sw:.3g}")
            ax.set_title(f"{act}, depth {int(sub['depth'].iloc[0])}" if act else path)
            ax.set_xlabel("layer l")
            ax.set_ylabel(f"‖dL/dW_l‖ at step {step}")
            ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(out, dpi=120)
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("summary", help="print /summary grouped by status")
    s.add_argument("path")
    p = sub.add_parser("profile", help="per-layer gradient norm profile figure")
    p.add_argument("path")
    p.add_argument("-o", "--out", default="profile.png")
    p.add_argument("--step", type=int, default=0)
    p.add_argument("--where", action="append", default=[], help="column=value filter")
    a = ap.parse_args(argv)
    if a.cmd == "summary":
        runs = summary(a.path)
        print(runs.to_string(index=False, max_rows=60))
        print("\nstatus counts:", runs["status"].value_counts().to_dict())
        if "verdict" in runs.columns:  # schema_minor 2 ("" for runs written before verdicts)
            print("verdict counts:", runs["verdict"].value_counts().to_dict())
    else:
        print(profile(a.path, a.out, a.step, a.where))
    return 0


if __name__ == "__main__":
    sys.exit(main())
