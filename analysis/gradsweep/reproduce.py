"""Checks of the canonical results on gradsweep outputs, one per experiments/<name>.yaml.

`python3 -m gradsweep.reproduce NAME OUT.h5 [--figure PNG]` reads an output with plain h5py,
tests the reproduction's qualitative claim with the margins written in its spec's header, prints
a one-paragraph verdict with the numbers and exits 0 (reproduced) or 1 (not); 2 on usage errors.
With --figure it also draws the reproduction's figure. It trains nothing (scripts/reproduce.sh
runs the spec first).
"""

import argparse
import math
import os
import sys

import h5py
import numpy as np
import pandas as pd

# Okabe-Ito: distinguishable with every common colour-vision deficiency.
PALETTE = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000"]


class Output:
    """A gradsweep output opened read-only: /summary as a DataFrame, per-run datasets on demand."""

    def __init__(self, path):
        if not os.path.exists(path):
            raise ValueError(f"{path}: no such file")
        try:
            self.f = h5py.File(path, "r")
        except OSError as e:
            raise ValueError(f"{path}: not an HDF5 file ({e})") from e
        if "summary" not in self.f or "runs" not in self.f:
            raise ValueError(f"{path}: not a gradsweep output (no /summary or /runs)")
        table = self.f["summary"][()]
        df = pd.DataFrame(table)
        for col in df.columns:
            if df[col].dtype == object:
                df[col] = df[col].map(lambda v: v.decode() if isinstance(v, bytes) else v)
        self.summary = df
        self.path = path

    def ds(self, rid, name):
        return self.f[f"runs/{rid}/{name}"][()]

    def has(self, rid, name):
        return f"runs/{rid}/{name}" in self.f

    def attr(self, rid, key):
        v = self.f[f"runs/{rid}"].attrs[key]
        return v.decode() if isinstance(v, bytes) else v

    def col(self, rid, key):
        """A config value of a run: the /summary column when it is an axis, else the attribute."""
        short = key.split(".", 1)[1]
        row = self.summary[self.summary.run_id == rid]
        if short in row.columns:
            return row.iloc[0][short]
        return self.attr(rid, key)

    def tail_loss(self, rid, frac=0.2, reduce=np.mean):
        """Mean (or `reduce`) training loss over the last `frac` of the recorded rows (inf when
        not finite or the run has no rows)."""
        loss = self.ds(rid, "loss")
        if len(loss) == 0:
            return math.inf
        k = max(1, int(round(len(loss) * frac)))
        v = float(reduce(loss[-k:]))
        return v if math.isfinite(v) else math.inf

    def close(self):
        self.f.close()


class Verdict:
    """Collects the numbers (facts) and the failed assertions of one check."""

    def __init__(self, name, claim):
        self.name, self.claim, self.facts, self.failures = name, claim, [], []

    def fact(self, text):
        self.facts.append(text)

    def require(self, ok, text):
        """Records `text` as a fact when ok, as a failure otherwise; returns ok."""
        (self.facts if ok else self.failures).append(text)
        return ok

    def report(self):
        head = "REPRODUCED" if not self.failures else "NOT REPRODUCED"
        body = f"{self.name}: {head}. Claim: {self.claim} " + "; ".join(self.facts) + "."
        if self.failures:
            body += " FAILED: " + "; ".join(self.failures) + "."
        return body


def fmt(x, p=3):
    return f"{x:.{p}g}" if math.isfinite(x) else str(x)


def new_figure(ncols, width=11.0, height=4.2):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, ncols, figsize=(width, height), squeeze=False)
    return fig, list(axes[0])


def save_figure(fig, png, title):
    fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    fig.savefig(png, dpi=85)
    import matplotlib.pyplot as plt

    plt.close(fig)


def hidden_profile(out, rid, name="delta_norm", step_row=0):
    """Row `step_row` of a [T, L] statistic over the hidden layers 0..H-1 (the readout dropped)."""
    v = out.ds(rid, name)[step_row]
    return v[:-1]


# ---------------------------------------------------------------------------------------------
# seed_notes: a constant weight scale s, W ~ N(0, s^2): gradients ~ (s sqrt(n))^depth.


def check_seed_notes(out):
    v = Verdict("seed_notes", "with W ~ N(0, s^2) the gradient is multiplied by a per-layer gain "
                "(s sqrt(n) for linear nets) at every layer, so s = 0.01 vanishes and s = 1.5 "
                "explodes as gain^depth.")
    s = out.summary
    small, large = s[s.sigma_w < 0.1], s[s.sigma_w > 1.0]
    v.require(len(small) > 0 and len(large) > 0,
              f"{len(small)} runs with s < 0.1 and {len(large)} with s > 1 (both needed)")
    worst = {}
    for _, r in s.iterrows():
        rid, act, sw = r.run_id, out.col(r.run_id, "model.activation"), float(r.sigma_w)
        n = int(out.col(rid, "model.width"))
        gain = sw * math.sqrt(n)
        prof = hidden_profile(out, rid)
        log10_ratio = math.log10(prof[0] / prof[-1])
        key = (act, sw)
        if act == "linear" or sw < 0.1:
            want, tol = -math.log(gain), 0.1 + 0.05 * abs(math.log(gain))
        else:
            want, tol = float(r.pred_slope), 0.1 + 0.1 * abs(float(r.pred_slope))
        dev = abs(float(r.delta_slope0) - want)
        w = worst.setdefault(key, [0.0, want, tol, [], n])
        w[0] = max(w[0], dev if math.isfinite(dev) else math.inf)
        if r.depth == s.depth.max():
            w[3].append(log10_ratio)
    for (act, sw), (dev, want, tol, ratios, n) in sorted(worst.items()):
        v.require(dev <= tol, f"{act} s = {sw} (n = {n}): slope of ln||dL/dh_l|| per layer "
                  f"{fmt(want)} expected, worst deviation {fmt(dev, 2)} (allowed {fmt(tol, 2)})")
        dmax = s.depth.max()
        if sw < 1.0 / math.sqrt(n):
            v.require(max(ratios) < -3, f"{act} s = {sw}, depth {dmax}: log10 first/last "
                      f"hidden-layer delta ratio at most {fmt(max(ratios))} (vanishing: < -3)")
        else:
            v.require(min(ratios) > 3, f"{act} s = {sw}, depth {dmax}: log10 first/last "
                      f"hidden-layer delta ratio at least {fmt(min(ratios))} (exploding: > 3)")
    for sw in sorted(set(s[s.activation == "linear"].sigma_w) if "activation" in s else []):
        sub = s[(s.activation == "linear") & (s.sigma_w == sw)]
        if sub.depth.nunique() < 2:
            continue
        n = int(out.col(sub.run_id.iloc[0], "model.width"))
        slope = np.polyfit(sub.depth.astype(float), np.log(sub.grad_norm_first_step0), 1)[0]
        want = math.log(sw * math.sqrt(n))
        v.require(abs(slope - want) <= 0.15 + 0.1 * abs(want),
                  f"linear s = {sw}: ln ||dL/dW_0|| grows by {fmt(slope)} per added layer, "
                  f"ln(s sqrt(n)) = {fmt(want)}")
    return v


def figure_seed_notes(out, png):
    s = out.summary
    dmax = s.depth.max()
    fig, (a1, a2) = new_figure(2)
    sel = s[(s.depth == dmax) & (s.replicate == 0)]
    for i, (_, r) in enumerate(sel.sort_values(["activation", "sigma_w"]).iterrows()):
        c, lab = PALETTE[i % len(PALETTE)], f"{r.activation}, s = {r.sigma_w:g}"
        d = hidden_profile(out, r.run_id)
        g = out.ds(r.run_id, "grad_norm")[0]
        x = np.arange(len(d))
        mk, lw = ("o", 2.5) if r.activation == "linear" else ("x", 1.0)
        a1.semilogy(x, d, marker=mk, ms=4, lw=lw, color=c, label=lab)
        a2.semilogy(np.arange(len(g)), g, marker=mk, ms=4, lw=lw, color=c, label=lab)
        if np.isfinite(r.pred_slope):
            a1.semilogy(x, d[-1] * np.exp(r.pred_slope * (x - x[-1])), "--", color=c, lw=1)
    a1.set(xlabel="hidden layer l (0 = input side)", ylabel="||dL/dh_l|| (nats)",
           title=f"back-propagated delta, depth {dmax} (dashed: mean field)")
    a2.set(xlabel="weight layer l (last = readout)", ylabel="||dL/dW_l|| (nats)",
           title="weight gradients (every layer ~ gain^depth)")
    a1.legend(fontsize=8)
    save_figure(fig, png, "seed_notes: W ~ N(0, s²), s = 0.01 vs 1.5 — step 0")


# ---------------------------------------------------------------------------------------------
# schoenholz2017: chi1 decides vanishing/exploding; trainable depth ~ 6 xi_c.


def trained_table(out):
    s = out.summary.copy()
    classes = []
    for rid in s.run_id:
        classes.append(int(out.attr(rid, "d_out")))
    s["chance"] = np.log(np.array(classes, dtype=float))
    s["tail_loss"] = [out.tail_loss(rid) for rid in s.run_id]
    s["trained"] = s.tail_loss < 0.5 * s.chance
    s["depth_over_6xi"] = s.depth / (6.0 * s.xi_c)
    return s


def check_schoenholz2017(out):
    v = Verdict("schoenholz2017", "tanh gradients vanish for chi1 < 1 and explode for chi1 > 1 "
                "at the mean-field rate -0.5 ln chi1 per layer, and nets train only up to a depth "
                "of about 6 xi_c.")
    s = trained_table(out)
    deep = s[s.depth >= 32]  # shallower: the slope is dominated by the first layers' transient
    sig = deep[np.abs(deep.pred_slope) >= 0.02]
    same = np.sign(sig.delta_slope0) == np.sign(sig.pred_slope)
    v.require(len(sig) > 0 and bool(same.all()),
              f"sign of the measured slope equals the predicted one on {int(same.sum())} of "
              f"{len(sig)} runs of depth >= 32 with |pred_slope| >= 0.02 (chi1 from "
              f"{fmt(s.chi1.min())} to {fmt(s.chi1.max())})")
    dev = np.abs(deep.delta_slope0 - deep.pred_slope)
    ok = dev <= 0.06 + 0.2 * np.abs(deep.pred_slope)
    v.require(len(deep) > 0 and ok.mean() >= 0.9,
              f"|delta_slope0 - pred_slope| <= 0.06 + 20% on {int(ok.sum())} of {len(deep)} runs "
              f"of depth >= 32 (needs 90%; largest deviation {fmt(dev.max(), 2)}, correlation "
              f"{fmt(np.corrcoef(deep.delta_slope0, deep.pred_slope)[0, 1], 4)})")
    within, beyond = s[s.depth <= 2.0 * s.xi_c], s[s.depth >= 12.0 * s.xi_c]
    v.require(len(within) >= 3 and within.trained.mean() >= 0.8,
              f"{int(within.trained.sum())} of {len(within)} runs with depth <= 2 xi_c trained "
              f"(loss < ln(classes)/2; needs >= 80%)")
    v.require(len(beyond) >= 3 and beyond.trained.mean() <= 0.1,
              f"{int(beyond.trained.sum())} of {len(beyond)} runs with depth >= 12 xi_c trained "
              f"(needs <= 10%)")
    mid = s[(s.depth > 2.0 * s.xi_c) & (s.depth < 12.0 * s.xi_c)]
    v.fact(f"in between ({len(mid)} runs) {int(mid.trained.sum())} trained; runs deeper than "
           f"6 xi_c: {int(s[s.depth_over_6xi > 1].trained.sum())} of "
           f"{int((s.depth_over_6xi > 1).sum())} trained")
    return v


def figure_schoenholz2017(out, png):
    import matplotlib.colors as mcolors

    s = trained_table(out)
    fig, (a1, a2) = new_figure(2, width=11.5)
    order = s.sort_values("chi1")
    a1.plot(order.chi1, order.pred_slope, "-", color="black", lw=1, label="mean field -0.5 ln chi1")
    depths = sorted(s.depth.unique())
    for i, d in enumerate(depths):
        sub = s[s.depth == d]
        a1.plot(sub.chi1, sub.delta_slope0, "o", ms=4, color=PALETTE[i % len(PALETTE)],
                label=f"measured, depth {d}")
    a1.axvline(1.0, color="grey", ls=":", lw=1)
    a1.axhline(0.0, color="grey", ls=":", lw=1)
    a1.set_xscale("log")
    a1.set(xlabel="chi1 (mean-field gain of ||delta||² per layer)",
           ylabel="slope of ln||dL/dh_l|| per layer (input → output)",
           title="gradients at init: > 0 vanishing, < 0 exploding")
    a1.legend(fontsize=7)
    sw = sorted(s.sigma_w.unique())
    grid = np.full((len(depths), len(sw)), np.nan)
    for _, r in s.iterrows():
        grid[depths.index(r.depth), sw.index(r.sigma_w)] = r.tail_loss / r.chance
    im = a2.pcolormesh(np.arange(len(sw) + 1) - 0.5, np.arange(len(depths) + 1) - 0.5, grid,
                       cmap="viridis", norm=mcolors.Normalize(0, 1.1), shading="flat")
    fig.colorbar(im, ax=a2, label="final training loss / ln(classes)")
    xi = [float(s[s.sigma_w == w].xi_c.iloc[0]) for w in sw]
    # the 6 xi_c curve in the grid's coordinates: log-interpolate the depth axis
    pos = np.interp(np.log([6 * x for x in xi]), np.log(depths), np.arange(len(depths)),
                    left=-0.5, right=len(depths) - 0.5)
    a2.plot(np.arange(len(sw)), pos, "w--", lw=2, label="6 xi_c")
    a2.set_xticks(range(len(sw)), [f"{w:g}" for w in sw])
    a2.set_yticks(range(len(depths)), [str(d) for d in depths])
    a2.set(xlabel="sigma_w (weight std × sqrt(fan_in))", ylabel="depth (hidden layers)",
           title="trainability: final loss (dark = trained)")
    a2.legend(fontsize=8, loc="upper right")
    steps = int(out.col(s.run_id.iloc[0], "train.steps"))
    save_figure(fig, png, "schoenholz2017: tanh, sigma_b = 0.05 — slopes at step 0, loss over the "
                f"last 20% of {steps} steps")


# ---------------------------------------------------------------------------------------------
# he2015: 30-layer ReLU, Xavier stalls at ln(classes), He trains.


def check_he2015(out):
    v = Verdict("he2015", "a 30-layer ReLU net with Xavier init stays at chance (loss ln(classes)) "
                "while He init trains.")
    s = out.summary.copy()
    s["chance"] = [math.log(int(out.attr(r, "d_out"))) for r in s.run_id]
    s["tail_loss"] = [out.tail_loss(r, 0.2, np.median) for r in s.run_id]
    s["init"] = [out.col(r, "model.init") for r in s.run_id]
    xav, he = s[s.init == "xavier_normal"], s[s.init == "he_normal"]
    r0 = s.run_id.iloc[0]
    v.fact(f"depth {out.col(r0, 'model.depth')}, width {out.col(r0, 'model.width')}, "
           f"activation {out.col(r0, 'model.activation')}, {len(out.ds(r0, 'loss'))} loss rows")
    v.require(len(xav) > 0 and bool((xav.tail_loss > 0.95 * xav.chance).all()),
              f"{len(xav)} Xavier runs end at median loss {fmt(xav.tail_loss.min(), 4)} .. "
              f"{fmt(xav.tail_loss.max(), 4)} (stall: > 0.95 ln(classes) = "
              f"{fmt(0.95 * s.chance.iloc[0], 4)})")
    v.require(len(he) > 0 and bool((he.tail_loss < 0.75 * he.chance).all()),
              f"{len(he)} He runs end at {fmt(he.tail_loss.min())} .. {fmt(he.tail_loss.max())} "
              f"(train: < 0.75 ln(classes) = {fmt(0.75 * s.chance.iloc[0])})")
    for name, sub in (("Xavier", xav), ("He", he)):
        if len(sub):
            dev = float(np.max(np.abs(sub.delta_slope0 - sub.pred_slope)))
            v.require(dev <= 0.15, f"{name}: step-0 slope of ln||dL/dh_l|| "
                      f"{fmt(sub.delta_slope0.mean())} per layer, mean field "
                      f"{fmt(sub.pred_slope.iloc[0])} (worst deviation {fmt(dev, 2)} <= 0.15)")
    return v


def figure_he2015(out, png):
    s = out.summary
    fig, (a1, a2) = new_figure(2)
    chance = math.log(int(out.attr(s.run_id.iloc[0], "d_out")))
    for i, init in enumerate(["xavier_normal", "he_normal"]):
        sub = s[[out.col(r, "model.init") == init for r in s.run_id]]
        for j, rid in enumerate(sub.run_id):
            lab = init if j == 0 else None
            a1.plot(out.ds(rid, "step"), out.ds(rid, "loss"), color=PALETTE[i], lw=1, label=lab)
            d = hidden_profile(out, rid)
            a2.semilogy(np.arange(len(d)), d, "o-", ms=3, color=PALETTE[i], label=lab)
    a1.axhline(chance, color="black", ls="--", lw=1, label="ln(classes) (chance)")
    a1.set(xlabel="step", ylabel="training loss (nats)", title="loss per run",
           ylim=(0, 2 * chance))
    a1.legend(fontsize=8)
    a2.set(xlabel="hidden layer l (0 = input side)", ylabel="||dL/dh_l|| at step 0 (nats)",
           title="back-propagated delta at init")
    depth = out.col(s.run_id.iloc[0], "model.depth")
    last = int(out.ds(s.run_id.iloc[0], "step")[-1])
    save_figure(fig, png, f"he2015: {depth}-layer ReLU, Xavier vs He init — steps 0..{last}")


# ---------------------------------------------------------------------------------------------
# main

def _module(name):
    """A reproduction module beside this file (gradsweep.repro_NAME), imported on first use;
    works under `-m gradsweep.reproduce` and when this file runs alone."""
    import importlib

    return importlib.import_module(f"{__package__}.{name}" if __package__ else name)


CHECKS = {
    "seed_notes": (check_seed_notes, figure_seed_notes),
    "schoenholz2017": (check_schoenholz2017, figure_schoenholz2017),
    "he2015": (check_he2015, figure_he2015),
    "glorot2010": (lambda o: _module("repro_glorot2010").check(o),
                   lambda o, p: _module("repro_glorot2010").figure(o, p)),
    "remedies": (lambda o: _module("repro_remedies").check_remedies(o),
                 lambda o, p: _module("repro_remedies").figure_remedies(o, p)),
    "isometry": (lambda o: _module("repro_isometry").check_isometry(o),
                 lambda o, p: _module("repro_isometry").figure_isometry(o, p)),
}


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python3 -m gradsweep.reproduce",
                                 description="Check a canonical result on a gradsweep output.")
    ap.add_argument("name", help="reproduction: " + ", ".join(CHECKS))
    ap.add_argument("out", metavar="OUT.h5", help="output of experiments/NAME.yaml")
    ap.add_argument("--figure", metavar="PNG", help="also draw the reproduction's figure")
    a = ap.parse_args(argv)
    if a.name not in CHECKS:
        ap.error(f"unknown reproduction '{a.name}' (one of {', '.join(CHECKS)})")
    check, figure = CHECKS[a.name]
    try:
        out = Output(a.out)
    except ValueError as e:
        print(f"reproduce: {e}", file=sys.stderr)
        return 2
    try:
        if len(out.summary) == 0:
            print(f"reproduce: {a.out}: no runs", file=sys.stderr)
            return 1
        v = check(out)
        print(v.report())
        if a.figure:
            figure(out, a.figure)
            print(f"figure: {a.figure}")
    finally:
        out.close()
    return 0 if not v.failures else 1


if __name__ == "__main__":
    sys.exit(main())
