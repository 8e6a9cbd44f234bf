"""python3 -m gradsweep.report OUT.h5 [-o DIR] [--step S ...]: the standard figures of a sweep
(figures.py) as PNGs plus DIR/index.html with the resolved spec, counts by status and verdict and
a per-configuration table. Reads the output only through gradsweep.open_sweep; draws the figures
the sweep's axes and records allow and says in the HTML why it skipped the others.

Exit status: 0 written; 1 written, but a figure failed (the error is in the HTML and on stderr);
2 usage error or not a gradsweep output.
"""
import argparse
import html
import math
import os
import shutil
import subprocess
import sys
import traceback

import numpy as np

from . import figures as F
from . import open_sweep
from .figures import Skip

MODEL_KEYS = ("depth", "activation", "sigma_w", "sigma_b", "init", "leaky_alpha", "elu_alpha",
              "norm", "residual_every")
MEAN_FIELD_INITS = ("normal", "uniform")  # Var(w) = sigma_w^2 / fan_in: the theory's sigma_w


def spec_section(spec, section):
    """{key: value} of the scalar keys of one top-level section of the resolved spec YAML (the
    writer's canonical layout: `section:` then two-space indented `key: value`); list values
    (sweep axes) are left out. Numbers become int/float."""
    out, inside = {}, False
    for line in spec.splitlines():
        if line and not line.startswith(" "):
            inside = line.rstrip() == f"{section}:"
        elif inside and line.startswith("  ") and not line.startswith("   "):
            key, _, val = line.strip().partition(":")
            val = val.strip().strip('"')
            if val.startswith(("[", "{")) or not val:
                continue
            for conv in (int, float):
                try:
                    val = conv(val)
                    break
                except ValueError:
                    pass
            out[key] = val
    return out


def default_outdir(path):
    """OUT.h5 -> OUT_report, OUT.h5.d -> OUT_report, anything else -> NAME_report."""
    p = path.rstrip("/")
    for ext in (".h5.d", ".h5"):
        if p.endswith(ext):
            return p[: -len(ext)] + "_report"
    return p + "_report"


class Ctx:
    """What every figure builder needs: the open sweep, its summary with the fixed model keys
    added as columns (from the spec), the colour axis (sigma_w) and the facet axes."""

    def __init__(self, sw, steps, outdir):
        self.sw, self.outdir = sw, outdir
        self.name = str(sw.attrs.get("name", "")) or os.path.basename(outdir)
        self.axes = list(sw.axes)
        cfg = sw.summary.copy()
        model = spec_section(sw.spec, "model")
        for key in MODEL_KEYS:
            if key not in cfg.columns and key in model:
                cfg[key] = model[key]
        self.cfg = cfg
        self.train = spec_section(sw.spec, "train")
        vary = F.varying(cfg, self.axes)
        self.vary = vary
        self.hue = next((a for a in ("sigma_w", "init") if a in vary), None)
        self.facet = [a for a in vary if a != self.hue]
        self.status = dict(zip(cfg["run_id"], cfg["status"]))
        self.loss = sw.layer_stats("loss")
        self.steps = steps if steps else self.default_steps()
        self.crit_sources = set()

    def default_steps(self):
        """Step 0 and the last step that the finished ("ok") runs reached (all runs if none)."""
        if self.loss.empty:
            return [0]
        ok = self.loss[self.loss["run_id"].map(self.status) == "ok"]
        last = int((ok if len(ok) else self.loss)["step"].max())
        first = int(self.loss["step"].min())
        return [first] if last == first else [first, last]

    def pick(self, n):
        """At most n runs to show one panel each: replicate 0, the deepest depth when other
        axes vary, then evenly spaced in plan order. Returns (rows, how many candidates)."""
        rows = self.cfg
        if "replicate" in rows.columns:
            rows = rows[rows["replicate"] == rows["replicate"].min()]
        if "depth" in self.vary and len(self.vary) > 1:
            rows = rows[rows["depth"] == rows["depth"].max()]
        total = len(rows)
        if total > n:
            rows = rows.iloc[sorted(set(np.linspace(0, total - 1, n).round().astype(int)))]
        return rows, total

    def run_title(self, row):
        keys = self.vary if self.vary else []
        return F.label(keys, [row[k] for k in keys]) if keys else f"run {row['run_id']}"


# ---------------------------------------------------------------- the critical line (figure 2)

def theory_exe():
    """The gradsweep binary for `theory --critical`: $GS_EXE, the build next to the analysis
    directory (build/release/gradsweep), or gradsweep on PATH; None when there is none."""
    env = os.environ.get("GS_EXE")
    if env and os.access(env, os.X_OK):
        return env
    analysis = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    cand = os.path.join(os.path.dirname(analysis), "build", "release", "gradsweep")
    if os.access(cand, os.X_OK):
        return cand
    return shutil.which("gradsweep")


def cli_critical(exe, act, sigma_b, alpha):
    """sigma_w with chi1 = 1 from `gradsweep theory --critical ACT --sigma-b B --csv` (NaN when
    the line has none); None when the command fails."""
    cmd = [exe, "theory", "--critical", str(act), "--sigma-b", repr(float(sigma_b)), "--csv"]
    if alpha is not None:
        cmd += ["--alpha", repr(float(alpha))]
    try:
        res = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
        if res.returncode != 0:
            return None
        head, row = res.stdout.strip().splitlines()[:2]
        return float(row.split(",")[head.split(",").index("sigma_w")])
    except (OSError, ValueError, IndexError, subprocess.SubprocessError):
        return None


def interp_critical(sub):
    """sigma_w where the summary's chi1 (mean per sigma_w) crosses 1, linear in
    (ln sigma_w, ln chi1) between the two bracketing values (exact for ReLU, chi1 = sigma_w^2/2);
    NaN when it does not cross in the swept range."""
    if "chi1" not in sub.columns:
        return math.nan
    c = sub.groupby("sigma_w")["chi1"].mean()
    c = c[np.isfinite(c) & (c > 0) & (c.index.to_numpy(dtype=float) > 0)]
    x, y = np.log(c.index.to_numpy(dtype=float)), np.log(c.to_numpy(dtype=float))
    for i in range(len(x)):
        if y[i] == 0:
            return float(np.exp(x[i]))
        if i and y[i - 1] * y[i] < 0:
            return float(np.exp(x[i - 1] + (x[i] - x[i - 1]) * -y[i - 1] / (y[i] - y[i - 1])))
    return math.nan


def make_critical(ctx):
    """critical(sub-frame) -> sigma_w on the line chi1 = 1 for that panel's runs. Uses the
    theory CLI for the mean-field inits without norm or residual blocks, else interpolates the
    chi1 column; records which in ctx.crit_sources for the caption."""
    exe, cache = theory_exe(), {}

    def critical(sub):
        r = sub.iloc[0]
        plain = (str(r.get("norm", "none")) == "none" and int(r.get("residual_every", 0)) == 0)
        if not plain:
            ctx.crit_sources.add("none: mean-field theory does not describe normalized or "
                                 "residual nets")
            return math.nan
        inits = set(map(str, sub["init"])) if "init" in sub else {"normal"}
        if exe and inits <= set(MEAN_FIELD_INITS) and "activation" in sub:
            act = str(r["activation"])
            alpha = {"leaky_relu": r.get("leaky_alpha"), "elu": r.get("elu_alpha")}.get(act)
            key = (act, float(r.get("sigma_b", 0.0)), alpha)
            if key not in cache:
                cache[key] = cli_critical(exe, act, key[1], alpha)
            if cache[key] is not None:
                ctx.crit_sources.add(f"from `gradsweep theory --critical` ({exe}) at the "
                                     "sweep's σ_b")
                return cache[key]
        ctx.crit_sources.add("interpolated where the summary column chi1 crosses 1")
        return interp_critical(sub)

    return critical


# ---------------------------------------------------------------- figure builders

def fig_profile(ctx):
    df = ctx.sw.layer_stats("grad_norm", step=ctx.steps)
    steps = [s for s in ctx.steps if (df["step"] == s).any()] if len(df) else []
    if not steps:
        raise Skip(f"no grad_norm rows at steps {ctx.steps}")
    fig = F.grad_profile(df, steps, ctx.name, ctx.hue, ctx.facet)
    hue = "one curve per σ_w" if ctx.hue == "sigma_w" else (
        f"one curve per {ctx.hue}" if ctx.hue else "one curve")
    return fig, (f"‖∂L/∂W_l‖ of every weight layer l (0 = first, L−1 = readout) at steps "
                 f"{', '.join(map(str, steps))}, {hue} (geometric mean over replicates)"
                 + (f", one panel per {', '.join(ctx.facet)}" if ctx.facet else "")
                 + ". On the log axis exponential vanishing is a straight line rising with l "
                 "(small near the input), exploding one falling with l.")


def phase_facets(ctx):
    """Panels of figures 2 and 3: per activation (swept or not) and per other swept axis."""
    keys = ["activation"] if "activation" in ctx.cfg.columns else []
    return keys + [a for a in ctx.facet if a not in ("depth", "sigma_w", "activation")]


def fig_phase(ctx):
    if "sigma_w" not in ctx.vary:
        raise Skip("σ_w is not swept: a phase diagram needs at least two σ_w values "
                   f"(this sweep has {ctx.cfg.groupby(ctx.vary).ngroups if ctx.vary else 1} "
                   "configuration(s))")
    fig = F.phase_diagram(ctx.cfg, ctx.name, make_critical(ctx), phase_facets(ctx))
    return fig, ("log10 of the ratio of the first layer's to the readout's gradient norm at "
                 "step 0 (summary columns grad_norm_first_step0 / grad_norm_last_step0, mean "
                 "over replicates) per depth and σ_w: negative (dark) where gradients vanish "
                 "toward the input, positive where they explode. Dashed: the mean-field "
                 "critical line χ₁ = 1 (vertical: χ₁ does not depend on depth); critical σ_w: "
                 f"{'; '.join(sorted(ctx.crit_sources))}.")


def fig_trainability(ctx):
    if "depth" not in ctx.vary and "sigma_w" not in ctx.vary:
        raise Skip("neither depth nor σ_w is swept: a trainability map needs several "
                   "configurations over (depth × σ_w)")
    acc = ctx.cfg.get("eval_accuracy")
    metric = "eval_accuracy" if acc is not None and np.isfinite(acc).any() else "final_loss"
    fig = F.trainability(ctx.cfg, ctx.name, metric, phase_facets(ctx))
    what = ("held-out accuracy at the last evaluation (eval_accuracy)" if metric ==
            "eval_accuracy" else "training loss at the last step (final_loss; the sweep has "
            "no held-out accuracy)")
    return fig, (f"{what}, mean over replicates, per depth and σ_w; × marks configurations "
                 "with a diverged run. Black line: 6·ξ_c, the depth up to which Schoenholz et "
                 "al. (2017) predict a net trains, from the summary column xi_c at each σ_w "
                 "(off the top where ξ_c is infinite).")


def fig_loss(ctx):
    loss = {"cross_entropy": "training loss (cross-entropy, nats)",
            "mse": "training loss (mean squared error)"}.get(ctx.train.get("loss"),
                                                         "training loss")
    fig = F.loss_curves(ctx.loss, ctx.status, ctx.name, ctx.hue, ctx.facet, loss)
    n_div = sum(v == "diverged" for v in ctx.status.values())
    return fig, (f"Loss of every run against the step, coloured by "
                 f"{'σ_w' if ctx.hue == 'sigma_w' else ctx.hue or 'run'}"
                 + (f", one panel per {', '.join(ctx.facet)}" if ctx.facet else "")
                 + f". Diverged runs ({n_div}) are dashed, × at their last finite loss.")


def snapshot_steps(ctx):
    """Candidate gradient snapshot steps from the record attributes (the explicit list, the
    {every: k} multiples, 0 and the last step of {log: n})."""
    a, steps = ctx.sw.attrs, set()
    steps.update(int(s) for s in np.atleast_1d(a.get("record_grads", [])))
    n = int(ctx.train.get("steps", ctx.cfg["steps"].min() if "steps" in ctx.cfg else 0) or 0)
    every, log = int(a.get("record_grad_every", 0) or 0), int(a.get("record_grad_log", 0) or 0)
    if every:
        steps.update(range(0, n, every))
    if log:
        steps.update({0, max(n - 1, 0)})
    return sorted(steps)


def tensor_hist(ctx, row, step):
    """counts [L, k] of log10|dL/dW_l| from the stored gradient tensors at `step`."""
    vals, layer = [], 0
    while True:
        try:
            g = np.abs(np.asarray(ctx.sw.tensor(row["run_id"], "grads", layer, step),
                                  dtype=float)).ravel()
        except KeyError:
            break
        vals.append(g)
        layer += 1
    if not vals:
        return None
    pos = np.concatenate([v[np.isfinite(v) & (v > 0)] for v in vals])
    lo, hi = (math.floor(np.log10(pos.min())), math.ceil(np.log10(pos.max()))) if len(pos) \
        else (-12, 2)
    edges = np.linspace(lo, max(hi, lo + 1), 4 * (max(hi, lo + 1) - lo) + 1)
    with np.errstate(divide="ignore"):
        counts = np.array([np.histogram(np.log10(v[np.isfinite(v) & (v > 0)]), edges)[0]
                           for v in vals])
    return dict(step=step, edges=edges, counts=counts, total=[v.size for v in vals],
                source="stored gradient tensors (record.grads)")


def fig_histograms(ctx):
    rows, total = ctx.pick(4)
    panels = []
    if int(ctx.sw.attrs.get("record_hist_bins", 0) or 0) > 0:
        for _, r in rows.iterrows():
            try:
                h = ctx.sw.histogram(r["run_id"], "grad")
            except KeyError:
                continue
            st = np.asarray(h["step"])
            for j in sorted({0, len(st) - 1}) if len(st) else []:
                tot = np.asarray(h["counts"])[j].sum(-1) + np.asarray(h["outside"])[j].sum(-1)
                panels.append(dict(title=ctx.run_title(r), step=int(st[j]), edges=h["edges"],
                                   counts=np.asarray(h["counts"])[j], total=tot,
                                   source="hist/ groups (record.hist)"))
    else:
        cand = snapshot_steps(ctx)
        if not cand:
            raise Skip("neither record.hist histograms nor record.grads snapshots were recorded")
        for _, r in rows.iterrows():
            got = [p for p in (tensor_hist(ctx, r, s) for s in (cand[0], *cand[:0:-1])) if p]
            for p in got[:1] + [q for q in got[1:2] if q["step"] != got[0]["step"]]:
                panels.append(dict(p, title=ctx.run_title(r)))
    fig = F.grad_histograms(panels, ctx.name)
    shown = f"{len(rows)} of {total} configurations" if total > len(rows) else "each configuration"
    return fig, ("Distribution of log10 |∂L/∂W_l| over the entries of each layer's weight "
                 "gradient (Glorot & Bengio 2010), one line per layer, at the first and last "
                 f"recorded step, for {shown} (replicate 0"
                 + (", deepest net" if "depth" in ctx.vary and len(ctx.vary) > 1 else "")
                 + "). Curves spreading apart toward layer 0 are vanishing gradients.")


def fig_units(ctx):
    rows, total = ctx.pick(6)
    ids = list(rows["run_id"])
    dead, sat = ctx.sw.layer_stats("dead_frac", runs=ids), ctx.sw.layer_stats("sat_frac", runs=ids)
    if dead.empty and sat.empty:
        raise Skip("dead_frac and sat_frac were not recorded (output older than schema_minor 2)")
    labels = {"dead_frac": ("dead units", "fraction of units dead"),
              "sat_frac": ("saturated", "fraction of entries saturated")}
    panels = []
    for _, r in rows.iterrows():
        for name, df in (("dead_frac", dead), ("sat_frac", sat)):
            d = df[df["run_id"] == r["run_id"]] if len(df) else df
            if len(d) and np.isfinite(d["value"].astype(float)).any():
                panels.append(dict(title=f"{ctx.run_title(r)}: {labels[name][0]}",
                                   ylabel=labels[name][1], legend="hidden layer", df=d))
    if not panels:
        raise Skip("the activations are neither ReLU-family nor saturating (dead_frac and "
                   "sat_frac are NaN), or the nets have no hidden layer")
    fig = F.layer_series(panels, ctx.name, "dead / saturated units per hidden layer",
                         "fraction", ylim=(-0.03, 1.03))
    return fig, ("Per hidden layer against the step: the fraction of dead units (ReLU family: "
                 "h ≤ 0 on every row of the batch) or of saturated activations (tanh, sigmoid, "
                 "...: |f′(h)| below 1% of f′(0)); docs/probes.md defines both. "
                 f"{len(rows)} of {total} configurations (replicate 0).")


def fig_jacobian(ctx):
    if int(ctx.sw.attrs.get("record_jacobian_inputs", 0) or 0) <= 0:
        raise Skip("record.jacobian is off: no Jacobian singular values were recorded")
    hue = "init" if "init" in ctx.vary else ctx.hue
    rows = ctx.cfg
    if "depth" in ctx.vary:
        rows = rows[rows["depth"] == rows["depth"].max()]
    facet = [a for a in ctx.vary if a not in (hue, "depth")]
    panels, _ = F.groups(rows, facet)
    out, step = [], 0
    for title, sub in panels:
        curves = {}
        for _, r in sub.iterrows():
            try:
                j = ctx.sw.jacobian(r["run_id"])
            except KeyError:
                continue
            hit = np.nonzero(np.asarray(j["step"]) == step)[0]
            if len(hit):
                curves.setdefault(r[hue] if hue else "all", []).append(
                    np.asarray(j["sv"])[hit[0]].ravel())
        if curves:
            out.append(dict(title=(title + ", " if title else "")
                            + f"depth {rows['depth'].iloc[0]}" if "depth" in rows else title,
                            curves=[(h, np.concatenate(v)) for h, v in sorted(curves.items())]))
    if not out:
        raise Skip("no run has Jacobian singular values at step 0")
    fig = F.jacobian_densities(out, ctx.name, step, "σ_w" if hue == "sigma_w" else hue or "")
    return fig, ("Density of log10 of the singular values of the input-output Jacobian "
                 "∂h_L/∂x at initialisation (step 0), pooled over the recorded probe inputs "
                 f"and replicates, one line per {'σ_w' if hue == 'sigma_w' else hue or 'run'}"
                 + (", deepest net" if "depth" in ctx.vary else "") + ". Dynamical isometry "
                 "(Pennington et al. 2017) is all the mass near 0 (singular values near 1).")


def fig_update(ctx):
    rows, total = ctx.pick(6)
    df = ctx.sw.layer_stats("update_ratio", runs=list(rows["run_id"]))
    if df.empty:
        raise Skip("update_ratio was not recorded (record.level basic, or an output older "
                   "than schema_minor 2)")
    panels = [dict(title=ctx.run_title(r), df=df[df["run_id"] == r["run_id"]])
              for _, r in rows.iterrows() if (df["run_id"] == r["run_id"]).any()]
    fig = F.layer_series(panels, ctx.name, "update / weight ratio per layer",
                         "‖ΔW_l‖ / ‖W_l‖ per step", ylog=True)
    return fig, ("Relative size of each step's update of every weight layer, ‖ΔW_l‖ / ‖W_l‖, "
                 "against the step (log scale; around 1e-3 is the usual healthy range, layers "
                 f"far below it barely learn). {len(rows)} of {total} configurations "
                 "(replicate 0).")


FIGURES = [
    ("grad_profile", "Per-layer gradient norm", fig_profile),
    ("phase_diagram", "Phase diagram: vanishing and exploding at initialisation", fig_phase),
    ("trainability", "Trainability map", fig_trainability),
    ("loss_curves", "Loss curves", fig_loss),
    ("grad_histograms", "Per-layer gradient histograms", fig_histograms),
    ("unit_fractions", "Dead and saturated units", fig_units),
    ("jacobian_spectrum", "Jacobian singular values", fig_jacobian),
    ("update_ratio", "Update / weight ratio", fig_update),
]


# ---------------------------------------------------------------- HTML

def esc(x):
    return html.escape(str(x))


def num(v):
    try:
        v = float(v)
    except (TypeError, ValueError):
        return esc(v)
    return "" if math.isnan(v) else f"{v:.4g}"


def counts(series):
    vc = series.fillna("").replace("", "(none)").value_counts()
    return ", ".join(f"{k} {v}" for k, v in vc.items())


def config_table(ctx, limit=300):
    """One row per configuration (replicates pooled)."""
    cfg = ctx.cfg
    keys = [a for a in ctx.axes if a in cfg.columns]
    with np.errstate(divide="ignore", invalid="ignore"):
        cfg = cfg.assign(_ratio=np.log10(cfg["grad_norm_first_step0"].astype(float)
                                         / cfg["grad_norm_last_step0"].astype(float)))
    acc = "eval_accuracy" in cfg and np.isfinite(cfg["eval_accuracy"]).any()
    head = keys + ["runs", "status", "verdict", "final loss (median)"] + \
        (["eval accuracy (mean)"] if acc else []) + ["log10 first/last ‖∂L/∂W‖ at step 0",
                                                     "chi1", "xi_c"]
    body = []
    grouped = cfg.groupby(keys, sort=False) if keys else [((), cfg)]
    for i, (k, g) in enumerate(grouped):
        if i == limit:
            body.append(f"<tr><td colspan={len(head)}>... {len(cfg)} runs in all; the table stops "
                        f"at {limit} configurations</td></tr>")
            break
        k = k if isinstance(k, tuple) else (k,)
        fin = g["_ratio"][np.isfinite(g["_ratio"])]
        cells = [esc(F.fmt(v)) for v in k] + [str(len(g)), esc(counts(g["status"])),
                                               esc(counts(g.get("verdict", g["status"] * 0)))]
        cells += [num(g["final_loss"].median())]
        cells += [num(g["eval_accuracy"].mean())] if acc else []
        cells += [num(fin.mean() if len(fin) else math.nan),
                  num(g["chi1"].mean() if "chi1" in g else math.nan),
                  num(g["xi_c"].mean() if "xi_c" in g else math.nan)]
        body.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    return ("<table><tr>" + "".join(f"<th>{esc(h)}</th>" for h in head) + "</tr>\n"
            + "\n".join(body) + "</table>")


STYLE = """body{font-family:sans-serif;max-width:1300px;margin:1em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #ccc;padding:2px 6px;
text-align:left}img{max-width:100%;border:1px solid #ddd}pre{background:#f6f6f6;padding:8px;
overflow-x:auto;font-size:12px}.skip{color:#8a5a00}.fail{color:#b00020}"""


def write_html(ctx, path, results):
    sw, a = ctx.sw, ctx.sw.attrs
    meta = [("file", path), ("schema", f"{a.get('schema', '')} (minor {a.get('schema_minor', 0)})"),
            ("written by", f"gradsweep {a.get('gradsweep_version', '?')} on "
                           f"{a.get('hostname', '?')}, created {a.get('created', '?')}"),
            ("command", a.get("command_line", "")),
            ("runs", f"{len(ctx.cfg)} committed of {a.get('n_runs', '?')} planned"),
            ("axes", ", ".join(ctx.axes) or "(none: a single configuration)")]
    out = [f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>gradsweep report: "
           f"{esc(ctx.name)}</title><style>{STYLE}</style></head><body>",
           f"<h1>gradsweep report: {esc(ctx.name)}</h1><table>"]
    out += [f"<tr><th>{esc(k)}</th><td>{esc(v)}</td></tr>" for k, v in meta]
    out.append("</table><h2>Contents</h2><ol>")
    out += [f"<li><a href='#{fid}'>{esc(t)}</a>{'' if png else ' (not drawn)'}</li>"
            for fid, t, png, _, _ in results]
    out.append("<li><a href='#summary'>Summary</a></li><li><a href='#spec'>Spec</a></li></ol>")
    for n, (fid, title, png, caption, kind) in enumerate(results, 1):
        out.append(f"<h2 id='{fid}'>Figure {n}: {esc(title)}</h2>")
        if png:
            out.append(f"<p><a href='{esc(png)}'><img src='{esc(png)}' alt='{esc(title)}'></a></p>"
                       f"<p>{esc(caption)}</p>")
        else:
            out.append(f"<p class='{kind}'>{'Not drawn' if kind == 'skip' else 'Failed'}: "
                       f"{esc(caption)}</p>")
    out.append("<h2 id='summary'>Summary</h2>"
               f"<p>Status: {esc(counts(ctx.cfg['status']))}. Verdict: "
               f"{esc(counts(ctx.cfg['verdict'])) if 'verdict' in ctx.cfg else '(not recorded)'}"
               " (verdicts: docs/probes.md).</p>" + config_table(ctx))
    out.append(f"<h2 id='spec'>Resolved spec</h2><pre>{esc(sw.spec)}</pre>")
    links = [f"<a href='{esc(png)}'>{esc(png)}</a>" for _, _, png, _, _ in results if png]
    rel = os.path.relpath(os.path.abspath(path), os.path.abspath(ctx.outdir))
    out.append(f"<h2>Links</h2><p>Figures: {' · '.join(links) or '(none)'}</p>"
               f"<p>Data: <a href='{esc(rel)}'>{esc(rel)}</a> (schema: docs/schema.md; "
               "statistics: docs/probes.md; theory: docs/theory.md; this report: "
               "docs/analysis.md)</p></body></html>\n")
    with open(os.path.join(ctx.outdir, "index.html"), "w", encoding="utf-8") as f:
        f.write("\n".join(out))


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python3 -m gradsweep.report",
                                 description=__doc__.split("\n\n")[0])
    ap.add_argument("path", help="OUT.h5 (or its OUT.h5.d directory)")
    ap.add_argument("-o", "--out", help="output directory (default: OUT_report)")
    ap.add_argument("--step", type=int, action="append", metavar="S",
                    help="steps of figure 1 (repeatable; default 0 and the last step)")
    args = ap.parse_args(argv)
    outdir = args.out or default_outdir(args.path)
    try:
        sw = open_sweep(args.path)
    except (ValueError, OSError) as e:
        print(f"gradsweep.report: {e}", file=sys.stderr)
        return 2
    with sw:
        try:
            os.makedirs(outdir, exist_ok=True)
        except OSError as e:
            print(f"gradsweep.report: {outdir}: {e.strerror}", file=sys.stderr)
            return 1
        ctx = Ctx(sw, args.step, outdir)
        results, failed = [], 0
        for fid, title, build in FIGURES:
            try:
                fig, caption = build(ctx)
                F.save(fig, os.path.join(outdir, fid + ".png"))
                results.append((fid, title, fid + ".png", caption, "ok"))
            except Skip as s:
                results.append((fid, title, None, str(s), "skip"))
            except Exception as e:  # a bug: keep the other figures, report it, exit 1
                failed += 1
                traceback.print_exc()
                results.append((fid, title, None, f"{type(e).__name__}: {e}", "fail"))
                print(f"gradsweep.report: figure {fid} failed: {e}", file=sys.stderr)
        write_html(ctx, args.path, results)
    drawn = sum(1 for r in results if r[2])
    print(f"{os.path.join(outdir, 'index.html')}: {drawn} figures, {len(results) - drawn} not "
          f"drawn" + (f" ({failed} failed)" if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
