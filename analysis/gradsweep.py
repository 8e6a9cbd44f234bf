#!/usr/bin/python3
"""Read gradsweep outputs (schema gradsweep/1) into pandas / xarray, and draw the per-layer
gradient profile.

Library use:
    import gradsweep as gs
    runs = gs.summary("results/quick.h5")          # DataFrame, one row per run, strings decoded
    stats = gs.stats("results/quick.h5", run_id)   # long DataFrame: step, layer, grad_norm, loss
    ds = gs.open_xarray("results/quick.h5", run_id, "grads")   # xarray.Dataset of one run group

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
    else:
        print(profile(a.path, a.out, a.step, a.where))
    return 0


if __name__ == "__main__":
    sys.exit(main())
