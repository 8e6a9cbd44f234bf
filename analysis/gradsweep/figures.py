"""The standard figures of a gradsweep sweep, drawn from plain pandas DataFrames and numpy arrays
(what gradsweep.open_sweep returns); report.py reads the file and decides which to draw. Nothing
here opens a file: each function returns a matplotlib Figure or raises Skip with the reason.

Conventions: colours are colour-blind safe (viridis for ordered values such as sigma_w or the layer
index, cividis for heat maps, Okabe-Ito vermillion for diverged runs); quantities that span decades
are drawn on log axes; every title names the sweep and the step.
"""
import math

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (after the backend is chosen)
import numpy as np  # noqa: E402
from matplotlib.colors import LogNorm, Normalize  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

DIVERGED = "#D55E00"  # Okabe-Ito vermillion: diverged runs and cells
MAX_PANELS = 12
SIGMA_W = "σ_w"


class Skip(Exception):
    """A figure the sweep does not allow (axes, records); str(exc) says why, for the report."""


def fmt(v):
    """A compact label for an axis value: 1.2, 0.001, tanh."""
    if isinstance(v, (float, np.floating)):
        return f"{v:.4g}"
    return str(v)


def label(keys, vals):
    """'depth=6, tanh' for a facet: named values, bare strings for named kinds."""
    parts = []
    for k, v in zip(keys, vals):
        parts.append(str(v) if isinstance(v, str) else f"{'σ_w' if k == 'sigma_w' else k}={fmt(v)}")
    return ", ".join(parts)


def varying(df, cols):
    """The columns of `cols` present in df with at least two distinct values, in order."""
    return [c for c in cols if c in df.columns and df[c].nunique(dropna=False) > 1]


def groups(df, keys, cap=MAX_PANELS):
    """[(label, sub-frame)] over the distinct values of `keys` (one group without keys), in the
    frame's order, at most `cap`; and how many groups were left out."""
    if not keys:
        return [("", df)], 0
    by = keys[0] if len(keys) == 1 else list(keys)
    out = [(label(keys, k if isinstance(k, tuple) else (k,)), sub)
           for k, sub in df.groupby(by, sort=False)]
    return out[:cap], max(0, len(out) - cap)


def grid(n, w=4.2, h=3.3, ncols=None, cbar=False):
    """A figure with n panels of w x h inches wrapped in rows of at most 4 (or ncols), fixed
    margins in inches (tight_layout costs seconds per figure), room for a two-line title and,
    with cbar, a colour bar on the right (fig.cbar_rect). Returns fig, [axes]."""
    ncols = ncols or min(n, 4)
    nrows = math.ceil(n / ncols)
    width, height = w * ncols + (1.5 if cbar else 0.4), h * nrows + 0.9
    fig, axes = plt.subplots(nrows, ncols, figsize=(width, height), squeeze=False)
    top, bottom = 1 - 0.9 / height, 0.6 / height
    fig.subplots_adjust(left=1.0 / width, right=1 - (1.5 if cbar else 0.3) / width, top=top,
                        bottom=bottom, wspace=0.38, hspace=0.5 if nrows > 1 else 0.2)
    fig.cbar_rect = [1 - 1.05 / width, bottom, 0.18 / width, top - bottom]
    flat = list(axes.ravel())
    for ax in flat[n:]:
        ax.set_visible(False)
    return fig, flat[:n]


def palette(values):
    """value -> colour, ordered values sampled along viridis (its yellow end trimmed)."""
    vals = list(values)
    cmap = plt.get_cmap("viridis")
    if len(vals) == 1:
        return {vals[0]: cmap(0.35)}
    return {v: cmap(0.9 * i / (len(vals) - 1)) for i, v in enumerate(vals)}


def spans_decades(x, decades=1.0):
    x = np.asarray(x, dtype=float)
    x = x[np.isfinite(x) & (x > 0)]
    return len(x) > 1 and math.log10(x.max() / x.min()) >= decades


def geomean(x):
    """Geometric mean of the positive finite values (replicates of a norm); NaN when none."""
    x = np.asarray(x, dtype=float)
    x = x[np.isfinite(x) & (x > 0)]
    return float(np.exp(np.mean(np.log(x)))) if len(x) else math.nan


def finish(fig, title, note=""):
    fig.suptitle(title + (f"\n{note}" if note else ""), fontsize=11, y=1 - 0.08 / fig.get_figheight(),
                 va="top")
    return fig


def colorbar(fig, mesh, text):
    cb = fig.colorbar(mesh, cax=fig.add_axes(fig.cbar_rect))
    cb.set_label(text, fontsize=8)
    return cb


def layer_legend(ax, n_layers, what="layer"):
    """A legend of at most ~8 entries for one-line-per-layer panels."""
    if n_layers:
        ax.legend(fontsize=7, title=what, title_fontsize=7, ncol=1 + (n_layers > 8))


def grad_profile(df, steps, sweep, hue=None, facet=()):
    """Figure 1: ||dL/dW_l|| against the layer index l, log y, one row of panels per step in
    `steps`, one panel per combination of `facet` columns, one curve per value of `hue` (sigma_w)
    — the geometric mean over the runs that share it (replicates). df: long frame with step,
    layer, value and the hue/facet columns."""
    if df.empty:
        raise Skip("no grad_norm rows at the chosen steps")
    facet = [c for c in facet if c in df.columns]
    combos, dropped = groups(df, facet, cap=max(1, 16 // len(steps)))
    hues = sorted(df[hue].unique()) if hue else [None]
    colour = palette(hues)
    fig, axes = grid(len(steps) * len(combos), ncols=min(len(combos), 4) if len(combos) > 1
                     else min(len(steps), 4))
    i = 0
    for step in steps:
        for name, sub in combos:
            ax = axes[i]
            i += 1
            at = sub[sub["step"] == step]
            for h in hues:
                rows = at if h is None else at[at[hue] == h]
                prof = rows.groupby("layer")["value"].agg(geomean).dropna()
                if len(prof):
                    ax.plot(prof.index, prof.values, "o-", ms=3, color=colour[h],
                            label=None if h is None else fmt(h))
            ax.set_yscale("log")
            ax.set_xlabel("layer l (0 = input)")
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
            ax.set_ylabel("‖∂L/∂W_l‖ (Frobenius)")
            ax.set_title(f"step {step}" + (f" · {name}" if name else ""), fontsize=9)
            ax.grid(True, which="major", alpha=0.3)
            if hue and ax.lines:
                ax.legend(fontsize=7, title="σ_w" if hue == "sigma_w" else hue, title_fontsize=7)
    note = f"{dropped} more panels not shown" if dropped else ""
    return finish(fig, f"{sweep}: per-layer gradient norm at steps "
                  f"{', '.join(map(str, steps))}", note)


def _edges(v, log):
    """Cell edges around sorted centres v (midpoints, geometric on a log axis)."""
    v = np.asarray(v, dtype=float)
    if len(v) == 1:
        return np.array([v[0] / 1.5, v[0] * 1.5]) if log else np.array([v[0] - 0.5, v[0] + 0.5])
    t = np.log(v) if log else v
    mid = (t[1:] + t[:-1]) / 2
    e = np.concatenate([[t[0] - (mid[0] - t[0])], mid, [t[-1] + (t[-1] - mid[-1])]])
    return np.exp(e) if log else e


def heat(ax, cells, value, cmap="cividis", norm=None, text="{:.2g}"):
    """Draws a depth x sigma_w heat map of cells[value] (cells: one row per (depth, sigma_w));
    non-finite cells stay grey. Returns the mesh (None when no cell is finite)."""
    xs = np.sort(cells["sigma_w"].unique().astype(float))
    ys = np.sort(cells["depth"].unique().astype(float))
    xlog = spans_decades(xs)
    ylog = spans_decades(ys) and ys.min() > 0
    grid_v = np.full((len(ys), len(xs)), np.nan)
    for _, r in cells.iterrows():
        grid_v[np.searchsorted(ys, float(r["depth"])), np.searchsorted(xs, float(r["sigma_w"]))] = \
            r[value]
    z = np.ma.masked_invalid(grid_v)
    ax.set_facecolor("#BBBBBB")
    mesh = None
    if z.count():
        mesh = ax.pcolormesh(_edges(xs, xlog), _edges(ys, ylog), z, cmap=cmap, norm=norm,
                             shading="flat")
    if xlog:
        ax.set_xscale("log")
    if ylog:
        ax.set_yscale("log")
    ax.set_xlabel("σ_w (weight scale)")
    ax.set_ylabel("depth (hidden layers)")
    if text and len(xs) <= 8 and len(ys) <= 12 and mesh is not None:  # legible cells only
        for iy, y in enumerate(ys):
            for ix, x in enumerate(xs):
                v = grid_v[iy, ix]
                if np.isfinite(v):
                    lum = np.dot(mesh.cmap(mesh.norm(v))[:3], [0.299, 0.587, 0.114])
                    ax.text(x, y, text.format(v), ha="center", va="center", fontsize=7,
                            color="black" if lum > 0.5 else "white")
    ax.set_xlim(_edges(xs, xlog)[[0, -1]])
    ax.set_ylim(_edges(ys, ylog)[[0, -1]])
    ax.minorticks_off()
    if len(xs) <= 12:
        ax.set_xticks(xs, [fmt(x) for x in xs])
    if len(ys) <= 12:
        ax.set_yticks(ys, [fmt(int(y)) for y in ys])
    return mesh


def _critical_mark(ax, sc):
    """The chi1 = 1 line: vertical (chi1 does not depend on depth) at sigma_w = sc."""
    lo, hi = ax.get_xlim()
    if not np.isfinite(sc):
        return "no critical σ_w"
    if not lo <= sc <= hi:
        return f"critical σ_w = {sc:.3g} outside the swept range"
    ax.axvline(sc, color="white", lw=3.2)
    ax.axvline(sc, color="black", lw=1.6, ls="--", label=f"χ₁ = 1 (σ_w = {sc:.3g})")
    ax.legend(fontsize=7, loc="upper right", framealpha=0.85)
    return f"χ₁ = 1 at σ_w = {sc:.3g}"


def phase_diagram(summary, sweep, critical, facet=("activation",)):
    """Figure 2: heat map over (depth x sigma_w) of log10(||dL/dW_0|| / ||dL/dW_{L-1}||) at
    step 0 (mean over replicates), one panel per combination of `facet` columns, with the
    mean-field critical line chi1 = 1. summary: columns depth, sigma_w, grad_norm_first_step0,
    grad_norm_last_step0 and the facets; critical(sub-frame of a panel) -> sigma_w or NaN."""
    need = {"depth", "sigma_w", "grad_norm_first_step0", "grad_norm_last_step0"}
    if not need <= set(summary.columns):
        raise Skip(f"needs the columns {', '.join(sorted(need - set(summary.columns)))}")
    if summary["sigma_w"].nunique() < 2:
        raise Skip("σ_w is not swept (a phase diagram needs at least two σ_w values)")
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.log10(summary["grad_norm_first_step0"].astype(float)
                         / summary["grad_norm_last_step0"].astype(float))
    df = summary.assign(ratio=ratio.where(np.isfinite(ratio)))
    facet = [c for c in facet if c in df.columns]
    panels, dropped = groups(df, facet)
    vmax = max(1.0, float(np.nanmax(np.abs(df["ratio"]))) if df["ratio"].notna().any() else 1.0)
    norm = Normalize(-vmax, vmax)
    fig, axes = grid(len(panels), w=4.6, h=3.6, cbar=True)
    mesh = None
    for ax, (name, sub) in zip(axes, panels):
        cells = sub.groupby(["depth", "sigma_w"], as_index=False)["ratio"].mean()
        mesh = heat(ax, cells, "ratio", norm=norm, text="{:+.2f}") or mesh
        what = _critical_mark(ax, critical(sub))
        ax.set_title((f"{name}: " if name else "") + what, fontsize=9)
    if mesh is not None:
        colorbar(fig, mesh, "log10(‖∂L/∂W_0‖ / ‖∂L/∂W_L-1‖)\n< 0: vanishing toward the input")
    note = "grey: not finite" + (f"; {dropped} more panels not shown" if dropped else "")
    return finish(fig, f"{sweep}: gradient norm ratio first / last layer at step 0", note)


def trainability(summary, sweep, metric, facet=("activation",)):
    """Figure 3: heat map over (depth x sigma_w) of `metric` (eval_accuracy, or final_loss on
    a log colour scale; mean over replicates, x where a replicate diverged), with the depth
    6 xi_c(sigma_w) overlaid (Schoenholz et al. 2017: trainable depth ~ 6 xi_c)."""
    need = {"depth", "sigma_w", metric, "status"}
    if not need <= set(summary.columns):
        raise Skip(f"needs the columns {', '.join(sorted(need - set(summary.columns)))}")
    if summary["sigma_w"].nunique() < 2 and summary["depth"].nunique() < 2:
        raise Skip("neither depth nor σ_w is swept (a map needs several configurations)")
    df = summary.assign(_m=summary[metric].astype(float).where(np.isfinite(summary[metric])),
                        _div=(summary["status"] == "diverged").astype(float),
                        _xi=summary["xi_c"] if "xi_c" in summary else math.nan)
    facet = [c for c in facet if c in df.columns]
    panels, dropped = groups(df, facet)
    vals = df["_m"].dropna()
    if metric == "final_loss" and spans_decades(vals) and (vals > 0).all():
        norm, cmap = LogNorm(vals.min(), vals.max()), "cividis_r"
    elif metric == "final_loss":
        norm, cmap = Normalize(vals.min() if len(vals) else 0, vals.max() if len(vals) else 1), \
            "cividis_r"
    else:
        norm, cmap = Normalize(0, 1), "cividis"
    fig, axes = grid(len(panels), w=4.6, h=3.6, cbar=True)
    mesh = None
    for ax, (name, sub) in zip(axes, panels):
        cells = sub.groupby(["depth", "sigma_w"], as_index=False).agg(
            m=("_m", "mean"), div=("_div", "max"), xi=("_xi", "mean"))
        mesh = heat(ax, cells, "m", cmap=cmap, norm=norm,
                    text="{:.2f}" if metric == "eval_accuracy" else "{:.3g}") or mesh
        bad = cells[cells["div"] > 0]
        if len(bad):
            ax.plot(bad["sigma_w"], bad["depth"], "x", color=DIVERGED, ms=9, mew=2,
                    label="diverged")
        xi = cells.groupby("sigma_w")["xi"].mean()
        ylo, yhi = ax.get_ylim()
        if xi.notna().any():
            y = np.where(np.isfinite(xi.values), 6 * xi.values, 1e12)
            ax.plot(xi.index, y, "o-", color="white", lw=3, ms=5, zorder=3)
            ax.plot(xi.index, y, "o-", color="black", lw=1.4, ms=3, zorder=4, label="6·ξ_c")
            up = y > yhi  # off the top: a marker on the edge says so
            ax.plot(xi.index[up], np.full(up.sum(), yhi), "^", color="black", mec="white",
                    ms=8, clip_on=False, zorder=5, label="6·ξ_c above" if up.any() else None)
        ax.set_ylim(ylo, yhi)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=7, loc="upper right", framealpha=0.85)
        ax.set_title(name or sweep, fontsize=9)
    what = "held-out accuracy" if metric == "eval_accuracy" else "final training loss"
    if mesh is not None:
        colorbar(fig, mesh, what + (" (fraction correct)" if metric == "eval_accuracy" else ""))
    note = "grey: no finite value" + (f"; {dropped} more panels not shown" if dropped else "")
    return finish(fig, f"{sweep}: {what} at the last step, with the depth 6·ξ_c", note)


def loss_curves(df, status, sweep, hue=None, facet=(), ylabel="training loss"):
    """Figure 4: loss against step, one line per run coloured by `hue` (sigma_w), one panel per
    combination of `facet` columns; diverged runs dashed with an x at their last finite loss.
    df: long frame run_id, step, value, hue/facet columns; status: run_id -> status."""
    if df.empty:
        raise Skip("no loss rows")
    facet = [c for c in facet if c in df.columns]
    panels, dropped = groups(df, facet)
    hues = sorted(df[hue].unique()) if hue else [None]
    colour = palette(hues)
    vals = df["value"].astype(float)
    ylog = bool((vals[np.isfinite(vals)] > 0).all()) and spans_decades(vals)
    fig, axes = grid(len(panels))
    for ax, (name, sub) in zip(axes, panels):
        seen = set()
        for rid, run in sub.groupby("run_id", sort=False):
            run = run.sort_values("step")
            h = run[hue].iloc[0] if hue else None
            div = status.get(rid) == "diverged"
            lab = None if (h in seen or h is None) else fmt(h)
            seen.add(h)
            ax.plot(run["step"], run["value"], ls="--" if div else "-", lw=1.2, color=colour[h],
                    label=lab)
            fin = run[np.isfinite(run["value"].astype(float))]
            if div and len(fin):
                ax.plot(fin["step"].iloc[-1], fin["value"].iloc[-1], "x", color=DIVERGED, ms=8,
                        mew=2)
        if ylog:
            ax.set_yscale("log")
        ax.set_xlabel("optimizer step")
        ax.set_ylabel(ylabel)
        ax.set_title(name or sweep, fontsize=9)
        ax.grid(True, alpha=0.3)
        if hue:
            ax.legend(fontsize=7, title="σ_w" if hue == "sigma_w" else hue, title_fontsize=7)
    note = "dashed with ×: diverged run" + (f"; {dropped} more panels not shown" if dropped else "")
    return finish(fig, f"{sweep}: loss curves, every run", note)


def grad_histograms(panels, sweep):
    """Figure 5: per-layer distributions of log10 |dL/dW_l| (Glorot & Bengio 2010, fig. 7):
    one panel per dict in `panels` {title, step, edges [k+1] (log10), counts [L, k],
    total [L] (entries per layer, outside the bins included), source}; one line per layer."""
    if not panels:
        raise Skip("no histogram or gradient snapshot to draw")
    fig, axes = grid(len(panels), ncols=min(len(panels), 3))
    for ax, p in zip(axes, panels):
        counts = np.asarray(p["counts"], dtype=float)
        edges = np.asarray(p["edges"], dtype=float)
        centre = (edges[1:] + edges[:-1]) / 2
        colour = palette(range(counts.shape[0]))
        for layer in range(counts.shape[0]):
            tot = float(p["total"][layer]) or 1.0
            ax.plot(centre, counts[layer] / tot, color=colour[layer], lw=1.3,
                    label=f"{layer}" if counts.shape[0] <= 10 or layer % 2 == 0 else None)
        used = np.nonzero(counts.sum(0))[0]
        if len(used):
            ax.set_xlim(edges[max(used[0] - 1, 0)], edges[min(used[-1] + 2, len(edges) - 1)])
        ax.set_xlabel("log10 |∂L/∂W_l| (per entry)")
        ax.set_ylabel("fraction of entries per bin")
        ax.set_title(f"{p['title']} · step {p['step']}", fontsize=9)
        ax.grid(True, alpha=0.3)
        layer_legend(ax, counts.shape[0])
    src = sorted({p["source"] for p in panels})
    return finish(fig, f"{sweep}: per-layer gradient histograms", "from " + " and ".join(src))


def layer_series(panels, sweep, what, ylabel, ylog=False, ylim=None):
    """Figures 6 and 8: a per-layer statistic against step, one panel per dict in `panels`
    {title, df (step, layer, value)}, one line per layer coloured along viridis."""
    if not panels:
        raise Skip("nothing to draw")
    fig, axes = grid(len(panels), ncols=min(len(panels), 3))
    for ax, p in zip(axes, panels):
        df = p["df"]
        layers = sorted(df["layer"].unique())
        colour = palette(layers)
        for layer in layers:
            r = df[df["layer"] == layer].sort_values("step")
            r = r[np.isfinite(r["value"].astype(float))]
            if ylog:
                r = r[r["value"] > 0]
            ax.plot(r["step"], r["value"], color=colour[layer], lw=1.2,
                    label=f"{layer}" if len(layers) <= 10 or layer % 2 == 0 else None)
        if ylog:
            ax.set_yscale("log")
        if ylim:
            ax.set_ylim(*ylim)
        ax.set_xlabel("optimizer step")
        ax.set_ylabel(p.get("ylabel", ylabel))
        ax.set_title(p["title"], fontsize=9)
        ax.grid(True, alpha=0.3)
        layer_legend(ax, len(layers), p.get("legend", "layer"))
    return finish(fig, f"{sweep}: {what}")


def jacobian_densities(panels, sweep, step, hue_name="σ_w"):
    """Figure 7: densities of log10 of the input-output Jacobian's singular values at `step`
    (Pennington et al. 2017), one panel per dict in `panels` {title, curves: [(hue value,
    1-D array of singular values pooled over inputs and replicates)]}, one line per hue value.
    Dynamical isometry is all the mass at 0 (singular values near 1)."""
    allv = [np.asarray(v, dtype=float) for p in panels for _, v in p["curves"]]
    allv = np.concatenate(allv) if allv else np.array([])
    allv = allv[np.isfinite(allv) & (allv > 0)]
    if not len(allv):
        raise Skip(f"no positive finite singular value at step {step}")
    lo, hi = np.log10(allv.min()), np.log10(allv.max())
    pad = max(0.25, 0.1 * (hi - lo))
    x = np.linspace(lo - pad, hi + pad, 300)
    fig, axes = grid(len(panels), ncols=min(len(panels), 3))
    for ax, p in zip(axes, panels):
        colour = palette([h for h, _ in p["curves"]])
        for h, v in p["curves"]:
            v = np.asarray(v, dtype=float)
            v = np.log10(v[np.isfinite(v) & (v > 0)])
            if len(v):
                ax.plot(x, kde(v, x), color=colour[h], lw=1.5, label=f"{fmt(h)} (n={len(v)})")
                ax.plot(v, np.zeros_like(v), "|", color=colour[h], ms=8, alpha=0.6)
        ax.axvline(0, color="black", lw=0.8, ls=":")
        ax.set_xlabel("log10 singular value of ∂output/∂input")
        ax.set_ylabel("density per decade (Gaussian kernel)")
        ax.set_title(p["title"], fontsize=9)
        ax.grid(True, alpha=0.3)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=7, title=hue_name, title_fontsize=7)
    return finish(fig, f"{sweep}: Jacobian singular values at step {step}",
                  "dotted line: singular value 1 (dynamical isometry); ticks: the values")


def kde(v, x):
    """Gaussian kernel density of the samples v at x (Silverman's bandwidth, at least 0.05):
    smooth enough for the few singular values a small probe gives."""
    bw = max(0.05, 1.06 * float(np.std(v)) * len(v) ** -0.2)
    z = (x[:, None] - v[None, :]) / bw
    return np.exp(-0.5 * z * z).sum(1) / (len(v) * bw * math.sqrt(2 * math.pi))


def save(fig, path):
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
