"""Independent check of every probe statistic (docs/probes.md) in numpy.

Usage: probe_check.py OUT.h5 DATA.h5

The output must come from plain nets (no norm, no residual, biases on) trained with a full batch,
no held-out split, every step recorded (record.every 1, snapshots every step with weights, float64
tensors, level full, histograms every step, activations, deltas and the Jacobian). From the stored
weights of each step this script recomputes the forward and backward pass in numpy, and from
them every statistic, the per-example gradients (one backward per example, the slow way), the
histograms, the probe tensors, the Jacobian singular values and the verdict, and compares them
with what gradsweep stored.
"""
import math
import sys

import h5py
import numpy as np

np.seterr(all="ignore")  # diverging runs overflow on purpose; the comparison judges them

REL = 1e-9


def act(name, x, alpha):
    """f(x) and f'(x), with gradsweep's conventions at kinks."""
    if name == "tanh":
        t = np.tanh(x)
        return t, 1 - t * t
    if name == "sigmoid":
        s = 1 / (1 + np.exp(-x))
        return s, s * (1 - s)
    if name == "relu":
        return np.maximum(x, 0), (x > 0).astype(float)
    if name == "leaky_relu":
        return np.where(x > 0, x, alpha * x), np.where(x > 0, 1.0, alpha)
    if name == "linear":
        return x.copy(), np.ones_like(x)
    if name == "softsign":
        return x / (1 + abs(x)), 1 / (1 + abs(x)) ** 2
    raise SystemExit(f"probe_check: activation {name} not covered")


DEAD = {"relu", "leaky_relu", "elu", "selu"}
SAT = {"tanh", "sigmoid", "softsign", "hard_tanh"}


class Net:
    def __init__(self, W, b, actname, alpha, loss):
        self.W, self.b, self.act, self.alpha, self.loss = W, b, actname, alpha, loss

    def forward(self, x):
        hs, as_, ins = [], [], []
        a = x
        for l, (W, b) in enumerate(zip(self.W, self.b)):
            ins.append(a)
            h = a @ W.T + b
            hs.append(h)
            if l + 1 < len(self.W):
                a, _ = act(self.act, h, self.alpha)
                as_.append(a)
        return hs, as_, ins

    def loss_grad(self, out, y):
        """Mean loss over the rows and dL/dout."""
        B, k = out.shape
        if self.loss == "cross_entropy":
            m = out.max(axis=1, keepdims=True)
            e = np.exp(out - m)
            p = e / e.sum(axis=1, keepdims=True)
            lp = out - m - np.log(e.sum(axis=1, keepdims=True))
            loss = -lp[np.arange(B), y].mean()
            d = p.copy()
            d[np.arange(B), y] -= 1
            return loss, d / B
        t = np.zeros((B, k))
        t[np.arange(B), y] = 1
        r = out - t
        return (r * r).mean(), 2 * r / (B * k)

    def backward(self, x, y):
        hs, as_, ins = self.forward(x)
        loss, d = self.loss_grad(hs[-1], y)
        L = len(self.W)
        deltas, dus, gW, gb = [None] * L, [None] * L, [None] * L, [None] * L
        for l in range(L - 1, -1, -1):
            if l < L - 1:
                _, df = act(self.act, hs[l], self.alpha)
                d = d * df
            deltas[l] = d  # dL/dh_l (no norm: also dL/du_l)
            dus[l] = d
            gW[l] = d.T @ ins[l]
            gb[l] = d.sum(axis=0)
            d = d @ self.W[l]
        return loss, hs, as_, ins, deltas, dus, gW, gb

    def jacobian(self, x):
        hs, _, _ = self.forward(x[None, :])
        J = self.W[0]
        for l in range(1, len(self.W)):
            _, df = act(self.act, hs[l - 1][0], self.alpha)
            J = self.W[l] @ (df[:, None] * J)
        return J


def close(name, got, want, rel=REL):
    """Entries agree to rel, relative to the entry or, near 0, to the array's largest entry.
    NaN must match NaN. Returns the worst relative error."""
    got, want = np.asarray(got, float), np.asarray(want, float)
    if got.shape != want.shape:
        raise AssertionError(f"{name}: shape {got.shape} != {want.shape}")
    nan_g, nan_w = np.isnan(got), np.isnan(want)
    if not np.array_equal(nan_g, nan_w):
        raise AssertionError(f"{name}: NaN pattern differs: got {got!r} want {want!r}")
    g, w = got[~nan_w], want[~nan_w]
    if w.size == 0:
        return 0.0
    scale = np.max(np.abs(w))
    err = np.abs(g - w)
    bad = err > rel * (np.abs(w) + scale * 1e-3) + 1e-300
    if bad.any():
        i = int(np.argmax(bad))
        raise AssertionError(f"{name}: got {g[i]!r} want {w[i]!r} (entry {i})")
    return float(np.max(err / np.maximum(np.abs(w), scale * 1e-3 + 1e-300)))


def hist_counts(v, bins, lo, hi):
    v = np.asarray(v, float).ravel()
    w = (hi - lo) / bins
    out = np.zeros(4, np.int64)  # zero, below, above, nan
    cnt = np.zeros(bins, np.int64)
    out[3] = np.isnan(v).sum()
    a = np.abs(v[~np.isnan(v)])
    out[0] = (a == 0).sum()
    nz = a[a > 0]
    # docs/probes.md: the edges 10^(lo + j w) (the last 10^hi) decide, |v| >= edge opens a bin.
    edges = 10.0 ** (lo + np.arange(bins + 1) * w)
    edges[-1] = 10.0 ** hi
    out[1] = (nz < edges[0]).sum()
    out[2] = (nz >= edges[-1]).sum()
    inside = nz[(nz >= edges[0]) & (nz < edges[-1])]
    k = np.searchsorted(edges, inside, side="right") - 1
    np.add.at(cnt, k, 1)
    return cnt, out


def verdict_of(rows, actname, H):
    """rows: list of dicts with step, loss, finite, delta_norm, dead, sat. Returns (verdict, step)."""
    sev = ["healthy", "vanishing", "exploding", "saturated", "dead", "diverged"]
    best, best_step = "healthy", -1
    loss0 = rows[0]["loss"]
    for r in rows:
        states = []
        if not r["finite"] or r["loss"] > 1e4 * max(loss0, 1.0):
            states.append("diverged")
        if actname in DEAD and np.nanmax(r["dead"]) >= 0.9:
            states.append("dead")
        if actname in SAT and np.nanmax(r["sat"]) >= 0.9:
            states.append("saturated")
        if H >= 2:
            ratio = r["delta_norm"][0] / r["delta_norm"][H - 1]
            if ratio > 1e3:
                states.append("exploding")
            if ratio < 1e-3:
                states.append("vanishing")
        for s in states:
            if sev.index(s) > sev.index(best):
                best, best_step = s, r["step"]
    return best, best_step


def check_run(g, x, y):
    a = g.attrs
    actname = a["model.activation"]
    alpha = float(a.get("model.leaky_alpha", 0.01)) if actname == "leaky_relu" else 0.0
    loss = a["train.loss"]
    L = int(a["n_layers"])
    H = L - 1
    steps = g["step"][:]
    snap = g["grads/step"][:]
    assert np.array_equal(steps, snap), "test needs a snapshot at every recorded step"
    T = len(steps)
    worst = {}

    def upd(k, v):
        worst[k] = max(worst.get(k, 0.0), v)

    W0 = [g[f"weights/W{l:03d}"][0] for l in range(L)]
    rows = []
    bins = g["hist/grad"].shape[2] if "hist" in g else 0
    if bins:
        edges = g["hist/edges"][:]
        lo, hi = float(edges[0]), float(edges[-1])
    P = g["probe/index"].shape[0]
    pidx = g["probe/index"][:]
    assert np.array_equal(pidx, np.arange(P)), "probe batch = the first samples (no split)"
    for t in range(T):
        W = [g[f"weights/W{l:03d}"][t] for l in range(L)]
        b = [g[f"weights/b{l:03d}"][t] for l in range(L)]
        net = Net(W, b, actname, alpha, loss)
        lv, hs, as_, ins, deltas, dus, gW, gb = net.backward(x, y)
        B = x.shape[0]
        upd("loss", close("loss", g["loss"][t], lv))
        for l in range(L):
            upd("grads", close(f"grads/W{l}", g[f"grads/W{l:03d}"][t], gW[l]))
        upd("grad_norm", close("grad_norm", g["grad_norm"][t], [np.linalg.norm(m) for m in gW]))
        upd("delta_norm", close("delta_norm", g["delta_norm"][t], [np.linalg.norm(d) for d in deltas]))
        upd("q", close("q", g["q"][t], [np.mean(h * h) for h in hs]))
        upd("grad_mean_abs", close("grad_mean_abs", g["grad_mean_abs"][t], [np.abs(m).mean() for m in gW]))
        upd("grad_max_abs", close("grad_max_abs", g["grad_max_abs"][t], [np.abs(m).max() for m in gW]))
        upd("bias_grad_norm", close("bias_grad_norm", g["bias_grad_norm"][t], [np.linalg.norm(v) for v in gb]))
        upd("act_mean", close("act_mean", g["act_mean"][t], [m.mean() for m in as_]))
        upd("act_std", close("act_std", g["act_std"][t], [m.std() for m in as_]))
        upd("weight_norm", close("weight_norm", g["weight_norm"][t], [np.linalg.norm(m) for m in W]))
        upd("weight_dist_init", close("weight_dist_init", g["weight_dist_init"][t],
                                      [np.linalg.norm(m - m0) for m, m0 in zip(W, W0)]))
        if t + 1 < T:
            Wn = [g[f"weights/W{l:03d}"][t + 1] for l in range(L)]
            upd("update_ratio", close("update_ratio", g["update_ratio"][t],
                                      [np.linalg.norm(n - m) / np.linalg.norm(m) for n, m in zip(Wn, W)]))
        # dead / saturated fractions
        dead = np.full(H, np.nan)
        sat = np.full(H, np.nan)
        for l in range(H):
            if actname in DEAD:
                dead[l] = np.mean(np.all(hs[l] <= 0, axis=0))
            if actname in SAT:
                _, df = act(actname, hs[l], alpha)
                _, df0 = act(actname, np.zeros(1), alpha)
                sat[l] = np.mean(np.abs(df) < 0.01 * df0[0])
        close("dead_frac", g["dead_frac"][t], dead)
        close("sat_frac", g["sat_frac"][t], sat)
        # delta_slope: least squares of ln delta_norm over hidden layers
        dn = np.array([np.linalg.norm(d) for d in deltas])
        if H >= 2:
            upd("delta_slope", close("delta_slope", g["delta_slope"][t], np.polyfit(np.arange(H), np.log(dn[:H]), 1)[0], rel=1e-8))
        # per-example gradients, one backward per example
        per = [net.backward(x[i:i + 1], y[i:i + 1])[6] for i in range(B)]
        pes = []
        for l in range(L):
            gi = np.array([p[l] for p in per])
            G = gi.mean(axis=0)
            close(f"mean of per-example grads W{l}", G, gW[l])
            var = np.mean(np.sum((gi - G) ** 2, axis=(1, 2)))
            pes.append((var, np.sum(G * G) / var))
        upd("pe_grad_var", close("pe_grad_var", g["pe_grad_var"][t], [p[0] for p in pes], rel=1e-8))
        upd("pe_grad_snr", close("pe_grad_snr", g["pe_grad_snr"][t], [p[1] for p in pes], rel=1e-8))
        if bins:
            for l in range(L):
                c, o = hist_counts(gW[l], bins, lo, hi)
                assert np.array_equal(g["hist/grad"][t, l], c), (t, l, g["hist/grad"][t, l], c)
                assert np.array_equal(g["hist/grad_outside"][t, l], o)
                assert g["hist/grad"][t, l].sum() + o.sum() == gW[l].size
                c, o = hist_counts(deltas[l], bins, lo, hi)
                assert np.array_equal(g["hist/delta"][t, l], c), (t, l)
                assert np.array_equal(g["hist/delta_outside"][t, l], o)
                assert c.sum() + o.sum() == deltas[l].size
        # probe batch tensors: a separate pass on the first P samples
        _, phs, _, _, pdel, _, _, _ = net.backward(x[:P], y[:P])
        for l in range(L):
            if f"probe/h{l:03d}" in g:
                upd("probe_h", close(f"probe/h{l}", g[f"probe/h{l:03d}"][t], phs[l]))
            if f"probe/delta{l:03d}" in g:
                upd("probe_delta", close(f"probe/delta{l}", g[f"probe/delta{l:03d}"][t], pdel[l]))
        # Jacobian singular values at this step
        if "jacobian" in g:
            js = list(g["jacobian/step"][:])
            j = js.index(steps[t])
            m = g["jacobian/sv"].shape[1]
            for i in range(m):
                J = net.jacobian(x[i])
                if np.isfinite(J).all() and np.isfinite(net.forward(x[i:i + 1])[0][-1]).all():
                    sv = np.linalg.svd(J, compute_uv=False)
                else:  # docs/probes.md: a non-finite Jacobian has NaN singular values
                    sv = np.full(min(J.shape), np.nan)
                upd("jacobian", close("jacobian/sv", g["jacobian/sv"][j, i], sv, rel=1e-8))
                close("jacobian/mean_sq", g["jacobian/mean_sq"][j, i], np.mean(sv * sv), rel=1e-8)
                close("jacobian/max", g["jacobian/max"][j, i], sv.max(), rel=1e-8)
        rows.append({"step": int(steps[t]), "loss": lv, "finite": np.isfinite(lv),
                     "delta_norm": dn, "dead": dead, "sat": sat})
    v, vs = verdict_of(rows, actname, H)
    assert a["verdict"] == v and int(a["verdict_step"]) == vs, (a["verdict"], a["verdict_step"], v, vs)
    return worst, v


def main():
    out, data = sys.argv[1], sys.argv[2]
    with h5py.File(data, "r") as f:
        x = f["X"][:].astype(float)
        y = f["labels"][:].astype(int)
    worst, verdicts = {}, {}
    with h5py.File(out, "r") as f:
        for rid in f["runs"]:
            w, v = check_run(f["runs"][rid], x, y)
            verdicts[v] = verdicts.get(v, 0) + 1
            for k, e in w.items():
                worst[k] = max(worst.get(k, 0.0), e)
    print("probe_check: %d runs, verdicts %s" % (sum(verdicts.values()), verdicts))
    for k in sorted(worst):
        print(f"  {k:18s} worst relative error {worst[k]:.2e}")


if __name__ == "__main__":
    main()
