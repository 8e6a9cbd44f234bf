"""Reproduction "remedies" (experiments/remedies.yaml): batchnorm and gradient clipping rescue an
exploding ReLU net, residual blocks rescue a vanishing one. Check and figure for
`python3 -m gradsweep.reproduce remedies OUT.h5`."""

import math

import numpy as np

try:
    from gradsweep.reproduce import PALETTE, Verdict, fmt, hidden_profile, new_figure, save_figure
except ImportError:  # reproduce.py run as a file: its directory is on sys.path
    from reproduce import PALETTE, Verdict, fmt, hidden_profile, new_figure, save_figure

EXPLODING, VANISHING = 1.6, 1.0  # sigma_w of the two baselines


def remedies_table(out):
    """/summary with the remedy of each run, its chance loss and tail (median loss, last 20%)."""
    s = out.summary.copy()
    s["chance"] = [math.log(int(out.attr(r, "d_out"))) for r in s.run_id]
    s["tail_loss"] = [out.tail_loss(r, 0.2, np.median) for r in s.run_id]
    s["sw"] = [float(out.col(r, "model.sigma_w")) for r in s.run_id]
    s["norm"] = [out.col(r, "model.norm") for r in s.run_id]
    s["clip_at"] = [float(out.col(r, "train.clip_norm")) for r in s.run_id]
    s["every"] = [int(out.col(r, "model.residual_every")) for r in s.run_id]
    s["log10_ratio"] = [math.log10(hidden_profile(out, r)[0] / hidden_profile(out, r)[-1])
                        for r in s.run_id]
    plain = (s.norm == "none") & (s.clip_at == 0) & (s.every == 0)
    s["remedy"] = np.where(plain, "none", "mixed")
    s.loc[(s.norm == "batchnorm") & (s.clip_at == 0) & (s.every == 0), "remedy"] = "batchnorm"
    s.loc[(s.norm == "none") & (s.clip_at > 0) & (s.every == 0), "remedy"] = "clip"
    s.loc[(s.norm == "none") & (s.clip_at == 0) & (s.every > 0), "remedy"] = "residual"
    return s


def check_remedies(out):
    v = Verdict("remedies", "batch normalization and gradient clipping rescue an exploding net "
                "(30-layer ReLU, sigma_w 1.6: plain SGD diverges); residual blocks rescue a "
                "vanishing one (sigma_w 1: stalls at chance) and flatten its gradient profile.")
    s = remedies_table(out)
    r0 = s.run_id.iloc[0]
    chance = float(s.chance.iloc[0])
    v.fact(f"depth {out.col(r0, 'model.depth')}, width {out.col(r0, 'model.width')}, activation "
           f"{out.col(r0, 'model.activation')}, lr {out.col(r0, 'train.lr')}, "
           f"{len(out.ds(r0, 'loss'))} loss rows, chance ln(classes) = {fmt(chance, 4)}")

    def cell(sw, remedy):
        return s[(np.isclose(s.sw, sw)) & (s.remedy == remedy)]

    base = cell(EXPLODING, "none")
    v.require(len(base) > 0 and bool((base.status == "diverged").all()),
              f"exploding baseline (sigma_w {EXPLODING}): status {sorted(set(base.status))} "
              f"on {len(base)} runs (needs diverged)")
    if len(base):
        dev = float(np.max(np.abs(base.delta_slope0 - base.pred_slope)))
        v.require(bool((base.delta_slope0 < 0).all()) and dev <= 0.05,
                  f"its step-0 slope of ln||dL/dh_l|| {fmt(base.delta_slope0.mean())} per layer "
                  f"(exploding: < 0), mean field {fmt(base.pred_slope.iloc[0])} (worst deviation "
                  f"{fmt(dev, 2)} <= 0.05)")
    bn = cell(EXPLODING, "batchnorm")
    v.require(len(bn) > 0 and bool(((bn.status == "ok") & (bn.tail_loss < 0.75 * chance)).all()),
              f"+ batchnorm: status {sorted(set(bn.status))}, loss {fmt(bn.tail_loss.min())} .. "
              f"{fmt(bn.tail_loss.max())} on {len(bn)} runs (trains: < 0.75 ln(classes) = "
              f"{fmt(0.75 * chance)})")
    cl = cell(EXPLODING, "clip")
    c = sorted(set(cl.clip_at))
    v.require(len(cl) > 0 and bool(((cl.status == "ok") & (cl.tail_loss < 0.95 * chance)).all()),
              f"+ clip norm {c}: status {sorted(set(cl.status))}, loss {fmt(cl.tail_loss.min())} "
              f".. {fmt(cl.tail_loss.max())} on {len(cl)} runs (finite and learning: < 0.95 "
              f"ln(classes) = {fmt(0.95 * chance)})")
    vb = cell(VANISHING, "none")
    v.require(len(vb) > 0 and bool((vb.tail_loss > 0.95 * chance).all()),
              f"vanishing baseline (sigma_w {VANISHING}): loss {fmt(vb.tail_loss.min(), 4)} .. "
              f"{fmt(vb.tail_loss.max(), 4)} on {len(vb)} runs (stalled: > 0.95 ln(classes))")
    if len(vb):
        dev = float(np.max(np.abs(vb.delta_slope0 - vb.pred_slope)))
        v.require(bool((vb.log10_ratio < -3).all()) and dev <= 0.05,
                  f"its step-0 slope {fmt(vb.delta_slope0.mean())} per layer, mean field "
                  f"{fmt(vb.pred_slope.iloc[0])} (worst deviation {fmt(dev, 2)} <= 0.05); "
                  f"log10 first/last hidden-layer delta ratio at most {fmt(vb.log10_ratio.max())} "
                  f"(< -3); verdicts {sorted(set(vb.verdict))}")
    rs = cell(VANISHING, "residual")
    v.require(len(rs) > 0 and bool(((rs.tail_loss < 0.25 * chance)
                                    & (np.abs(rs.delta_slope0) < 0.02)).all()),
              f"+ residual (every {sorted(set(rs.every))}): loss {fmt(rs.tail_loss.min())} .. "
              f"{fmt(rs.tail_loss.max())} (< 0.25 ln(classes)), step-0 slope "
              f"{fmt(rs.delta_slope0.abs().max(), 2)} at most in size (flat: < 0.02)")
    if len(cl):
        frac = np.mean([np.mean(out.ds(r, "clipped")) for r in cl.run_id])
        v.fact(f"clipping was active on {100 * frac:.0f}% of the recorded steps")
    mixed, er = s[s.remedy == "mixed"], cell(EXPLODING, "residual")
    v.fact(f"other combinations ({len(mixed)} runs): {int((mixed.tail_loss < 0.5 * chance).sum())}"
           " trained")
    if len(er):
        v.fact(f"residual alone also rescues sigma_w {EXPLODING} (loss "
               f"{fmt(er.tail_loss.max())} at most)")
    return v


def figure_remedies(out, png):
    s = remedies_table(out)
    chance = float(s.chance.iloc[0])
    fig, axes = new_figure(3, width=14.0)
    colour = {"none": PALETTE[7], "batchnorm": PALETTE[0], "clip": PALETTE[1],
              "residual": PALETTE[2]}
    for sw, ax in ((EXPLODING, axes[0]), (VANISHING, axes[1])):
        for rem in ("none", "batchnorm", "clip", "residual"):
            sub = s[np.isclose(s.sw, sw) & (s.remedy == rem)]
            for j, rid in enumerate(sub.run_id):
                loss = np.where(np.isfinite(out.ds(rid, "loss")), out.ds(rid, "loss"), np.nan)
                st = out.ds(rid, "step")
                lab = (rem if rem != "clip" else f"clip norm {sub.clip_at.iloc[0]:g}") \
                    if j == 0 else None
                if rem == "none" and j == 0:
                    lab = "no remedy" + (" (diverged: NaN)" if (sub.status == "diverged").any()
                                         else "")
                ax.plot(st, loss, color=colour[rem], lw=2.0 if rem == "none" else 1.0, label=lab)
                if rem == "none" and not np.isfinite(out.ds(rid, "loss")[-1]):
                    ax.plot(st[-1], min(2 * chance, 4.5), "x", color=colour[rem], ms=9, mew=2)
        ax.axhline(chance, color="black", ls="--", lw=1, label="ln(classes)")
        kind = "exploding" if sw == EXPLODING else "vanishing"
        ax.set(xlabel="step", ylabel="training loss (nats)", ylim=(0, 2 * chance),
               title=f"{kind}: sigma_w = {sw:g}")
        ax.legend(fontsize=7)
    ax = axes[2]
    for sw, rem, ls in ((EXPLODING, "none", "o-"), (EXPLODING, "batchnorm", "o-"),
                        (VANISHING, "none", "s--"), (VANISHING, "residual", "s--")):
        sub = s[np.isclose(s.sw, sw) & (s.remedy == rem)]
        if len(sub):
            d = hidden_profile(out, sub.run_id.iloc[0])
            ax.semilogy(np.arange(len(d)), d / d[-1], ls, ms=3, color=colour[rem],
                        label=f"sigma_w {sw:g}, {rem}")
    ax.set(xlabel="hidden layer l (0 = input side)", ylabel="||dL/dh_l|| / last layer's, step 0",
           title="back-propagated delta at init")
    ax.legend(fontsize=7)
    r0 = s.run_id.iloc[0]
    save_figure(fig, png, f"remedies: {out.col(r0, 'model.depth')}-layer ReLU, plain SGD "
                f"(lr {out.col(r0, 'train.lr')}) — baselines vs remedies")
