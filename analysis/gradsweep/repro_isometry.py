"""Reproduction "isometry" (experiments/isometry.yaml): orthogonal init makes a deep linear net's
Jacobian an exact isometry and its training time depth-independent; Gaussian init spreads the
spectrum with depth. Check and figure for `python3 -m gradsweep.reproduce isometry OUT.h5`."""

import numpy as np

try:
    from gradsweep.reproduce import PALETTE, Verdict, fmt, new_figure, save_figure
except ImportError:  # reproduce.py run as a file: its directory is on sys.path
    from reproduce import PALETTE, Verdict, fmt, new_figure, save_figure

THRESHOLD = 0.25  # training loss (mse; targets of variance ~1 per output) that counts as learned


def log10_sv(out, rid):
    """log10 of every Jacobian singular value at the first Jacobian step (step 0), all inputs."""
    sv = out.ds(rid, "jacobian/sv")[0].ravel()
    return np.log10(np.maximum(sv, 1e-300))


def iso_table(out):
    s = out.summary.copy()
    for key in ("activation", "init", "depth"):
        s[key] = [out.col(r, f"model.{key}") for r in s.run_id]
    s["depth"] = s.depth.astype(int)
    budget = [int(out.col(r, "train.steps")) for r in s.run_id]
    spread, dev, t = [], [], []
    for rid, b in zip(s.run_id, budget):
        lv = log10_sv(out, rid)
        spread.append(float(np.percentile(lv, 90) - np.percentile(lv, 10)))
        dev.append(float(np.max(np.abs(10.0 ** lv - 1.0))))
        loss, step = out.ds(rid, "loss"), out.ds(rid, "step")
        hit = np.nonzero(loss < THRESHOLD)[0]
        t.append(float(step[hit[0]]) if len(hit) else float(b))
    s["spread"], s["max_dev"], s["t_learn"], s["budget"] = spread, dev, t, budget
    s["reached"] = s.t_learn < s.budget
    return s


def check_isometry(out):
    v = Verdict("isometry", "orthogonal weights make a deep linear net's Jacobian an exact "
                "isometry (every singular value 1) and its training time depth-independent; "
                "Gaussian weights spread the spectrum with depth and slow training.")
    s = iso_table(out)
    g = s.groupby(["activation", "init", "depth"]).agg(
        spread=("spread", "mean"), max_dev=("max_dev", "max"), t=("t_learn", "mean"),
        reached=("reached", "all")).reset_index()
    depths = sorted(s.depth.unique())
    v.fact(f"depths {depths}, width {out.col(s.run_id.iloc[0], 'model.width')}, "
           f"{len(s)} runs, step budget {int(s.budget.max())}")

    def cell(act, init):
        return g[(g.activation == act) & (g.init == init)].sort_values("depth")

    lo, ln = cell("linear", "orthogonal"), cell("linear", "normal")
    v.require(len(lo) > 0 and float(lo.max_dev.max()) <= 1e-10,
              f"linear orthogonal: every singular value within {fmt(lo.max_dev.max(), 2)} of 1 "
              f"at depths {list(lo.depth)} (needs <= 1e-10)")
    if len(ln):
        sp = ln.spread.to_numpy()
        v.require(len(sp) >= 2 and bool(np.all(np.diff(sp) >= -0.5)) and sp[-1] - sp[0] >= 3,
                  f"linear normal: spread of log10 sigma (p90 - p10) "
                  f"{', '.join(fmt(x, 3) for x in sp)} decades over depths {list(ln.depth)} "
                  f"(grows by >= 3, never shrinks by > 0.5)")
    else:
        v.require(False, "linear normal: no runs")
    to, tn = cell("tanh", "orthogonal"), cell("tanh", "normal")
    v.require(len(to) > 0 and float(to.spread.max()) <= 2,
              f"tanh orthogonal: spread at most {fmt(to.spread.max())} decades (<= 2)")
    both = to.merge(tn, on="depth", suffixes=("_o", "_n"))
    both = both[both.depth >= 4]
    v.require(len(both) > 0 and bool((both.spread_n >= 2 * both.spread_o).all()),
              f"tanh normal/orthogonal spread ratio {fmt((both.spread_n / both.spread_o).min())} "
              f"at least at depths {list(both.depth)} (needs >= 2)")
    v.require(len(lo) > 0 and bool(lo.reached.all())
              and float(lo.t.iloc[-1]) <= 1.25 * float(lo.t.iloc[0]),
              f"linear orthogonal: steps to loss < {THRESHOLD} "
              f"{', '.join(fmt(x, 3) for x in lo.t)} over depths {list(lo.depth)} (all reached; "
              f"deepest <= 1.25x shallowest)")
    lin = lo.merge(ln, on="depth", suffixes=("_o", "_n"))
    deep = lin[lin.depth >= 8]
    unreached = int((~s[(s.activation == "linear") & (s.init == "normal")].reached).sum())
    v.require(len(ln) >= 2 and float(ln.t.iloc[-1]) > float(ln.t.iloc[0]) and len(deep) > 0
              and bool((deep.t_n >= 2 * deep.t_o).all()),
              f"linear normal: steps {', '.join(fmt(x, 3) for x in ln.t)} ({unreached} runs never "
              f"reached it, counted as the budget): grows with depth and >= 2x orthogonal at "
              f"depth >= 8 (ratio at least {fmt((deep.t_n / deep.t_o).min())})")
    return v


def figure_isometry(out, png):
    s = iso_table(out)
    fig, axes = new_figure(3, width=14.0)
    depths = sorted(s.depth.unique())
    bins = np.linspace(-12, 1, 27)
    for ax, act in zip(axes[:2], ("linear", "tanh")):
        for i, d in enumerate(depths):
            for init, ls in (("normal", "-"), ("orthogonal", "--")):
                sub = s[(s.activation == act) & (s.init == init) & (s.depth == d)]
                if not len(sub):
                    continue
                lv = np.concatenate([log10_sv(out, r) for r in sub.run_id])
                h, e = np.histogram(np.clip(lv, bins[0], bins[-1]), bins=bins, density=True)
                ax.step(e[1:], h, ls, color=PALETTE[i % len(PALETTE)], lw=1.2,
                        label=f"depth {d}" if init == "normal" else None)
        ax.plot([], [], "k-", label="normal (Gaussian)")
        ax.plot([], [], "k--", label="orthogonal")
        ax.set(xlabel="log10 singular value of the input-output Jacobian (step 0)",
               ylabel="density (bins of 0.5 decade)", ylim=(0, 1.2), title=f"{act}, sigma_w = 1"
               + (" (orthogonal: all at 0, off the scale)" if act == "linear" else ""))
        ax.legend(fontsize=7)
    ax = axes[2]
    for i, (act, init) in enumerate([("linear", "normal"), ("linear", "orthogonal"),
                                     ("tanh", "normal"), ("tanh", "orthogonal")]):
        sub = s[(s.activation == act) & (s.init == init)]
        if not len(sub):
            continue
        m = sub.groupby("depth").t_learn.mean()
        ax.plot(m.index, m.values, "o-" if act == "linear" else "s:", color=PALETTE[i],
                label=f"{act}, {init}")
        miss = sub[~sub.reached]
        ax.plot(miss.depth, miss.t_learn, "x", color=PALETTE[i], ms=8)
    ax.axhline(float(s.budget.max()), color="grey", ls=":", lw=1, label="budget (x: never)")
    ax.set_xscale("log", base=2)
    ax.set(xlabel="depth (hidden layers)", ylabel=f"steps until training loss < {THRESHOLD}",
           title="training time vs depth")
    ax.legend(fontsize=7)
    save_figure(fig, png, "isometry: Gaussian vs orthogonal init, width 32, d_in = d_out = 32")
