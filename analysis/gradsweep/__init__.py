"""Read gradsweep outputs (schema gradsweep/1, docs/schema.md) into pandas and numpy.

    from gradsweep import open_sweep
    with open_sweep("results/quick.h5") as sw:      # or OUT.h5.d, or a list of shards
        sw.summary                                   # one row per committed run, str columns
        sw.runs(activation="tanh", sigma_w=lambda s: s > 1)
        sw.layer_stats("grad_norm", step=0)          # long: run_id, <axes>, step, layer, value
        sw.tensor(run_id, "grads", 0, step=0)        # one snapshot, numpy
        sw.histogram(run_id, "grad"); sw.jacobian(run_id)

The path-based functions of the former module analysis/gradsweep.py stay for existing scripts:
summary, stats, layer_stats, hidden_stats, histogram, jacobian, segment_of, open_xarray and
profile. Command line: `python3 -m gradsweep summary|profile ...` (PYTHONPATH=analysis).
Objects of a later schema_minor are optional: older outputs lack some, and the readers return
only what is there.
"""
import numpy as np
import pandas as pd

from .sweep import Sweep, open_sweep

__all__ = ["Sweep", "open_sweep", "summary", "stats", "layer_stats", "hidden_stats", "histogram",
           "jacobian", "segment_of", "open_xarray", "profile", "LAYER_STATS", "HIDDEN_STATS"]

# Probe statistics per layer kind (docs/probes.md): [T, L] per weight layer, [T, H] per hidden.
LAYER_STATS = ("grad_norm", "delta_norm", "q", "grad_mean_abs", "grad_max_abs", "bias_grad_norm",
               "weight_norm", "weight_dist_init", "update_ratio", "pe_grad_var", "pe_grad_snr")
HIDDEN_STATS = ("dead_frac", "sat_frac", "act_mean", "act_std")


def summary(path):
    """The summary of an output (open_sweep(path).summary) as a DataFrame with str columns."""
    with open_sweep(path) as sw:
        return sw.summary


def stats(path, run_id):
    """Per-step, per-layer grad_norm and loss of one run as a long DataFrame."""
    with open_sweep(path) as sw:
        g = sw._group(run_id)
        step, loss, gn = g["step"][()], g["loss"][()], g["grad_norm"][()]
    n_steps, n_layers = gn.shape
    return pd.DataFrame({
        "step": np.repeat(step, n_layers),
        "layer": np.tile(np.arange(n_layers), n_steps),
        "grad_norm": gn.ravel(),
        "loss": np.repeat(loss, n_layers),
    })


def _wide(path, run_id, names, axis_name):
    """Wide DataFrame step, <axis_name> and one column per [T, n] dataset of `names` present."""
    with open_sweep(path) as sw:
        g = sw._group(run_id)
        step = g["step"][()]
        cols = {n: g[n][()] for n in names if n in g}
    n = next(iter(cols.values())).shape[1] if cols else 0
    out = {"step": np.repeat(step, n), axis_name: np.tile(np.arange(n), len(step))}
    out.update({k: v.ravel() for k, v in cols.items()})
    return pd.DataFrame(out)


def layer_stats(path, run_id):
    """Every per-layer statistic of a run ([T, L]: grad_norm, delta_norm, q, ...) as a wide
    DataFrame step, layer and one column per statistic present. (Sweep.layer_stats is the long,
    many-run form.)"""
    return _wide(path, run_id, LAYER_STATS, "layer")


def hidden_stats(path, run_id):
    """Every per-hidden-layer statistic ([T, H]: dead_frac, sat_frac, act_mean, act_std) as a
    wide DataFrame step, hidden and one column per statistic present (empty when none)."""
    return _wide(path, run_id, HIDDEN_STATS, "hidden")


def histogram(path, run_id, kind="grad"):
    """Sweep.histogram of one run; None when the run has no histograms."""
    with open_sweep(path) as sw:
        try:
            return sw.histogram(run_id, kind)
        except KeyError:
            if run_id not in set(sw.summary["run_id"]):
                raise
            return None


def jacobian(path, run_id):
    """Sweep.jacobian of one run; None when it was not recorded."""
    with open_sweep(path) as sw:
        try:
            return sw.jacobian(run_id)
        except KeyError:
            if run_id not in set(sw.summary["run_id"]):
                raise
            return None


def segment_of(path, run_id):
    """(segment file, group path) holding a run: /runs/<id> in the index is an external link."""
    with open_sweep(path) as sw:
        return sw.segment_of(run_id)


def open_xarray(path, run_id, group=""):
    """One run group (or its `grads` / `weights` subgroup) as an xarray Dataset with named
    dimensions. Opens the segment file directly: netCDF readers resolve dimension scales within
    one file, so they cannot follow the index's external links."""
    import xarray as xr

    seg, grp = segment_of(path, run_id)
    grp = grp.strip("/") + ("/" + group if group else "")
    return xr.open_dataset(seg, group=grp, engine="h5netcdf")


def profile(path, out, step=0, where=()):
    """Per-layer |dL/dW_l| at `step` for every run (geometric mean over replicates), one panel
    per activation, one line per sigma_w: the standard vanishing/exploding-gradient picture.
    `where`: "column=value" filters. ValueError for an unknown column or no matching run."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    with open_sweep(path) as sw:
        runs = sw.summary
        for cond in where:
            key, val = cond.split("=", 1)
            if key not in runs.columns:
                raise ValueError(f"--where {cond}: no column '{key}' in the summary "
                                 f"(columns: {', '.join(runs.columns)})")
            col = runs[key]
            runs = runs[col == type(col.iloc[0])(val)] if len(runs) else runs
        if "depth" in runs.columns and runs["depth"].nunique() > 1:
            runs = runs[runs["depth"] == runs["depth"].max()]
        if runs.empty:
            raise ValueError("profile: no run matches")
        gn = sw.layer_stats("grad_norm", step=step, runs=runs)
    panels = sorted(runs["activation"].unique()) if "activation" in runs.columns else [None]
    fig, axes = plt.subplots(1, len(panels), figsize=(4.5 * len(panels), 3.6), squeeze=False)
    for ax, act in zip(axes[0], panels):
        sub = gn if act is None else gn[gn["activation"] == act]
        keys = sorted(sub["sigma_w"].unique()) if "sigma_w" in sub.columns else [None]
        cmap = plt.get_cmap("viridis", max(len(keys), 2))
        for i, s in enumerate(keys):
            rows = sub if s is None else sub[sub["sigma_w"] == s]
            logv = np.log(np.maximum(rows["value"].to_numpy(), 1e-300))
            y = pd.Series(logv).groupby(rows["layer"].to_numpy()).mean()
            ax.semilogy(y.index, np.exp(y.to_numpy()), color=cmap(i),
                        label=None if s is None else f"σw={s:.3g}")
        depth = runs["depth"].iloc[0] if "depth" in runs.columns else None
        ax.set_title(f"{act}" + (f", depth {int(depth)}" if depth is not None else "")
                     if act else str(path))
        ax.set_xlabel("layer l")
        ax.set_ylabel(f"‖dL/dW_l‖ at step {step}")
        if keys != [None]:
            ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(out, dpi=120)
    plt.close(fig)
    return out
