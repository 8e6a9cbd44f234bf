"""Reproduction "glorot2010" (experiments/glorot2010.yaml): the per-layer histograms of the
back-propagated gradient dL/dh_l narrow towards the input with the standard init
U[-1/sqrt(n), 1/sqrt(n)] and stay alike with the normalized (Xavier) init."""

import math

import numpy as np

STANDARD_SIGMA = 1.0 / math.sqrt(3.0)  # init `uniform`: a = sigma_w sqrt(3 / fan_in) = 1/sqrt(n)


def _helpers():
    from gradsweep import reproduce  # lazy: reproduce imports this module

    return reproduce


def log10_median(counts, edges, below=0, above=0):
    """Median of log10 |v| from one layer's bin counts (log-linear within the bin). Entries below
    the first edge (above the last) count at the bottom (top): a median among them is that edge;
    exact zeros and NaNs are not counted. NaN when there is nothing to count."""
    counts = np.asarray(counts, dtype=float)
    total = below + counts.sum() + above
    if total <= 0:
        return math.nan
    half = 0.5 * total
    if below >= half:
        return float(edges[0])
    cum = below + np.cumsum(counts)
    if cum[-1] < half:
        return float(edges[-1])
    j = int(np.searchsorted(cum, half))
    prev = cum[j - 1] if j > 0 else below
    frac = (half - prev) / counts[j] if counts[j] > 0 else 0.0
    return float(edges[j] + frac * (edges[j + 1] - edges[j]))


def delta_medians(out, rid, row):
    """m_l, the median of log10 |dL/dh_l| per hidden layer (readout dropped) at histogram row
    `row`, and that row's step."""
    counts = out.ds(rid, "hist/delta")[row]
    outside = out.ds(rid, "hist/delta_outside")[row]
    edges = out.ds(rid, "hist/edges")
    step = int(out.ds(rid, "hist/step")[row])
    m = [log10_median(counts[l], edges, int(outside[l, 1]), int(outside[l, 2]))
         for l in range(counts.shape[0] - 1)]
    return np.array(m), step


def spread(m):
    """Least-squares slope of m_l against l times (H - 1): decades from the input side to the
    output side (positive: smaller towards the input)."""
    x = np.arange(len(m), dtype=float)
    if len(m) < 2 or not np.all(np.isfinite(m)):
        return math.nan
    return float(np.polyfit(x, m, 1)[0] * (len(m) - 1))


def classify(out, rid):
    """'standard' (uniform, sigma_w = 1/sqrt(3)), 'xavier' (xavier_uniform, sigma_w = 1) or
    None for the off-diagonal cells of the sweep."""
    init, sw = out.col(rid, "model.init"), float(out.col(rid, "model.sigma_w"))
    if init == "uniform" and abs(sw - STANDARD_SIGMA) < 1e-6:
        return "standard"
    if init == "xavier_uniform" and abs(sw - 1.0) < 1e-9:
        return "xavier"
    return None


def table(out):
    """One row per run: activation, init, sigma_w, kind, H, step-0 and last-row medians and
    spreads."""
    import pandas as pd

    rows = []
    for rid in out.summary.run_id:
        if not out.has(rid, "hist/delta"):
            raise ValueError(f"run {rid} has no hist/delta (the spec needs record.hist)")
        m0, s0 = delta_medians(out, rid, 0)
        m1, s1 = delta_medians(out, rid, -1)
        rows.append(dict(run_id=rid, activation=out.col(rid, "model.activation"),
                         init=out.col(rid, "model.init"),
                         sigma_w=float(out.col(rid, "model.sigma_w")), kind=classify(out, rid),
                         H=len(m0), m0=m0, m1=m1, step0=s0, step1=s1, spread0=spread(m0),
                         spread1=spread(m1), range0=float(np.ptp(m0)) if len(m0) else math.nan))
    return pd.DataFrame(rows)


def check_glorot2010(out):
    rp = _helpers()
    fmt = rp.fmt
    v = rp.Verdict("glorot2010", "with the standard init U[-1/sqrt(n), 1/sqrt(n)] the histograms "
                   "of the back-propagated gradient dL/dh_l narrow layer by layer towards the "
                   "input; with the normalized (Xavier) init they stay alike across the layers "
                   "(tanh; sigmoid shrinks with both).")
    try:
        t = table(out)
    except ValueError as e:
        v.require(False, str(e))
        return v
    r0 = out.summary.run_id.iloc[0]
    v.fact(f"depth {out.col(r0, 'model.depth')}, width {out.col(r0, 'model.width')}, "
           f"median m_l of log10|dL/dh_l| per hidden layer, spread = fitted rise of m_l from "
           f"the input side to the output side, at step {t.step0.iloc[0]}")
    v.require(bool((t.H >= 3).all()), f"at least 3 hidden layers (have {t.H.min()})")

    def group(act, kind):
        return t[(t.activation == act) & (t.kind == kind)]

    tstd, txav = group("tanh", "standard"), group("tanh", "xavier")
    sstd, sxav = group("sigmoid", "standard"), group("sigmoid", "xavier")
    v.require(len(tstd) > 0 and len(txav) > 0 and len(sstd) > 0,
              f"{len(tstd)} tanh standard, {len(txav)} tanh Xavier and {len(sstd)} sigmoid "
              f"standard runs (each needed)")
    if len(tstd):
        rise = min(float(np.min(np.diff(m))) for m in tstd.m0)  # smallest rise going up
        v.require(bool((tstd.spread0 >= 0.6).all()),
                  f"tanh standard: spread {fmt(tstd.spread0.min())} .. {fmt(tstd.spread0.max())} "
                  f"decades (>= 0.6; linear regime: {tstd.H.iloc[0] - 1} x log10 sqrt(3) = "
                  f"{fmt((tstd.H.iloc[0] - 1) * math.log10(math.sqrt(3.0)))})")
        v.require(rise >= -0.05, f"tanh standard: m_l rises layer by layer towards the output "
                  f"(smallest rise {fmt(rise, 2)} decades >= -0.05); medians "
                  + " ".join(fmt(x, 3) for x in tstd.m0.iloc[0]))
    if len(txav):
        worst = float(np.max(np.abs(txav.spread0)))
        v.require(worst <= 0.3 and float(txav.range0.max()) <= 0.3,
                  f"tanh Xavier: |spread| at most {fmt(worst, 2)}, max - min of m_l at most "
                  f"{fmt(txav.range0.max(), 2)} decades (both <= 0.3); medians "
                  + " ".join(fmt(x, 3) for x in txav.m0.iloc[0]))
    if len(tstd) and len(txav):
        ratio = float(tstd.spread0.min()) / max(float(np.max(np.abs(txav.spread0))), 1e-9)
        v.require(ratio >= 3, f"tanh: standard spread / Xavier |spread| >= {fmt(ratio)} (>= 3)")
        last = int(tstd.step1.iloc[0])
        v.require(float(tstd.spread1.min()) > float(txav.spread1.max()),
                  f"tanh at step {last}: standard spread {fmt(tstd.spread1.min())} .. "
                  f"{fmt(tstd.spread1.max())}, Xavier {fmt(txav.spread1.min())} .. "
                  f"{fmt(txav.spread1.max())} (standard still wider)")
    if len(sstd):
        v.require(bool((sstd.spread0 >= 0.6).all()),
                  f"sigmoid standard: spread {fmt(sstd.spread0.min())} .. "
                  f"{fmt(sstd.spread0.max())} decades (>= 0.6)")
    if len(sxav):
        v.fact(f"sigmoid Xavier (not asserted: sigmoid' <= 1/4): spread "
               f"{fmt(sxav.spread0.min())} .. {fmt(sxav.spread0.max())} decades")
    for act, kind in (("tanh", "standard"), ("tanh", "xavier"), ("sigmoid", "standard"),
                      ("sigmoid", "xavier")):
        sub = group(act, kind)
        if len(sub):
            pred = out.summary.set_index("run_id").loc[sub.run_id, "pred_slope"].astype(float)
            v.fact(f"{act} {kind}: mean-field spread (H - 1) x pred_slope / ln 10 = "
                   f"{fmt(float(pred.mean()) * (sub.H.iloc[0] - 1) / math.log(10.0))}")
    off = t[t.kind.isna()]
    for (act, init, sw), sub in off.groupby(["activation", "init", "sigma_w"]):
        v.fact(f"{act} {init} sigma_w {fmt(sw)}: spread {fmt(sub.spread0.mean())}")
    return v


def figure_glorot2010(out, png):
    rp = _helpers()
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    try:
        t = table(out)
    except ValueError as e:  # nothing to draw: say why in the figure, as the check does
        fig = plt.figure(figsize=(6.0, 1.5))
        fig.text(0.5, 0.5, f"glorot2010: {e}", ha="center", va="center", fontsize=9, wrap=True)
        fig.savefig(png, dpi=85)
        plt.close(fig)
        return
    acts = [a for a in ("tanh", "sigmoid") if ((t.activation == a) & t.kind.notna()).any()]
    fig, axes = plt.subplots(len(acts), 3, figsize=(10.0, 3.0 * len(acts)), squeeze=False)
    cmap = plt.get_cmap("viridis")
    for i, act in enumerate(acts):
        for j, (kind, label) in enumerate((("standard", "standard U[±1/√n]"),
                                           ("xavier", "normalized (Xavier)"))):
            ax = axes[i][j]
            sub = t[(t.activation == act) & (t.kind == kind)]
            if not len(sub):
                ax.set_axis_off()
                continue
            rid = sub.run_id.iloc[0]
            counts = out.ds(rid, "hist/delta")[0]
            edges = out.ds(rid, "hist/edges")
            centres = 0.5 * (edges[:-1] + edges[1:])
            H = counts.shape[0] - 1
            for l in range(H):
                c = counts[l] / max(1, counts[l].sum())
                ax.plot(centres, c, color=cmap(l / max(1, H - 1) * 0.9), lw=1.6,
                        label=f"layer {l + 1}")
            ax.set(xlabel="log10 |dL/dh_l|", ylabel="fraction of entries",
                   title=f"{act}, {label}, step {sub.step0.iloc[0]}")
            ms = np.concatenate(list(t[(t.activation == act) & t.kind.notna()].m0))
            ax.set_xlim(max(edges[0], np.nanmin(ms) - 2.0), min(edges[-1], np.nanmax(ms) + 1.2))
            if j == 0:
                ax.legend(fontsize=7, title="1 = input side", title_fontsize=7)
        ax = axes[i][2]
        for k, (kind, c) in enumerate((("standard", rp.PALETTE[1]), ("xavier", rp.PALETTE[0]))):
            sub = t[(t.activation == act) & (t.kind == kind)]
            for n, (_, r) in enumerate(sub.iterrows()):
                x = np.arange(1, r.H + 1)
                ax.plot(x, r.m0, "o-", color=c, ms=4,
                        label=f"{kind}, step {r.step0}" if n == 0 else None)
                ax.plot(x, r.m1, "x--", color=c, ms=4, lw=1,
                        label=f"{kind}, step {r.step1}" if n == 0 else None)
        ax.set(xlabel="hidden layer (1 = input side)", ylabel="median log10 |dL/dh_l|",
               title=f"{act}: medians per layer")
        ax.legend(fontsize=7)
    r0 = out.summary.run_id.iloc[0]
    rp.save_figure(fig, png, f"glorot2010: back-propagated gradients, {out.col(r0, 'model.depth')}"
                   f" hidden layers of width {out.col(r0, 'model.width')}")
    from PIL import Image  # a palette PNG: a third of the size (matplotlib depends on Pillow)

    with Image.open(png) as im:
        small = im.convert("RGB").quantize(colors=128)
    small.save(png, optimize=True)


check, figure = check_glorot2010, figure_glorot2010  # the CHECKS entry in reproduce.py
