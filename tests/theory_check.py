#!/usr/bin/env python3
"""Independent check of `gradsweep theory` (src/theory): q*, chi1, c*, chi_c and the critical
line recomputed here with numpy, by methods that share nothing with the C code:

- activations written out again from their formulas (scipy.special.ndtr for gelu's Phi);
- Gaussian expectations by composite Gauss-Legendre (20 nodes per panel, panels of width 0.25 on
  z in [-12, 12], split at the activation's kinks), 2-D ones directly in (z1, z2) with
  u1 = sqrt(q) z1, u2 = sqrt(q) (c z1 + sqrt(1 - c^2) z2) (the C code uses a shared-component
  decomposition and adaptive Gauss-Kronrod);
- q* by plain fixed-point iteration of the q-map from q = 1; c* by the Illinois false-position
  method on map(c) - c; the critical sigma_w by bisection (the C code: Brent and Newton).

Usage: theory_check.py GRADSWEEP_EXE. Exits 1 on a mismatch, printing every comparison.
Tolerances: the reference integrals are accurate to ~1e-13 (piecewise-analytic integrands,
20-point rules on panels much narrower than their analyticity strips) and the C code asks GSL
for 1e-12, so q*, chi1 and the critical sigma_w must agree to 1e-10 relative; c* (a root of
map(c) - c whose slope 1 - chi_c is as small as 0.01 here, which amplifies integration error
100-fold) to 1e-9 absolute and chi_c to 1e-9 relative. The largest deviation seen is 1.2e-13
(printed as dev); a wrong formula, kink or fixed point misses by orders of magnitude."""
import subprocess
import sys

import numpy as np
from scipy.special import ndtr

SELU_L = 1.0507009873554804934193349852946
SELU_A = 1.6732632423543772848170429916717
Z = 12.0
GLX, GLW = np.polynomial.legendre.leggauss(20)


def activation(name, alpha):
    """f, f', kinks (x), slopes at 0+/0-, slopes at +inf/-inf (from the formulas)."""
    sig = lambda x: 0.5 * (1.0 + np.tanh(0.5 * x))  # noqa: E731
    if name == "tanh":
        return np.tanh, lambda x: 1.0 / np.cosh(x) ** 2, [], (1, 1), (0, 0)
    if name == "sigmoid":
        return sig, lambda x: sig(x) * sig(-x), [], (0.25, 0.25), (0, 0)
    if name == "relu":
        return (lambda x: np.maximum(x, 0.0), lambda x: (x > 0) * 1.0, [0.0], (1, 0), (1, 0))
    if name == "leaky_relu":
        return (lambda x: np.where(x > 0, x, alpha * x), lambda x: np.where(x > 0, 1.0, alpha),
                [0.0], (1, alpha), (1, alpha))
    if name == "elu":
        return (lambda x: np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0))),
                lambda x: np.where(x > 0, 1.0, alpha * np.exp(np.minimum(x, 0))), [0.0],
                (1, alpha), (1, 0))
    if name == "selu":
        return (lambda x: SELU_L * np.where(x > 0, x, SELU_A * np.expm1(np.minimum(x, 0))),
                lambda x: SELU_L * np.where(x > 0, 1.0, SELU_A * np.exp(np.minimum(x, 0))),
                [0.0], (SELU_L, SELU_L * SELU_A), (SELU_L, 0))
    if name == "gelu":
        pdf = lambda x: np.exp(-0.5 * x * x) / np.sqrt(2 * np.pi)  # noqa: E731
        return (lambda x: x * ndtr(x), lambda x: ndtr(x) + x * pdf(x), [], (0.5, 0.5), (1, 0))
    if name == "softplus":
        return (lambda x: np.logaddexp(0.0, x), sig, [], (0.5, 0.5), (1, 0))
    if name in ("swish", "silu"):
        return (lambda x: x * sig(x), lambda x: sig(x) * (1 + x * sig(-x)), [], (0.5, 0.5),
                (1, 0))
    if name == "softsign":
        return (lambda x: x / (1 + np.abs(x)), lambda x: 1 / (1 + np.abs(x)) ** 2, [0.0], (1, 1),
                (0, 0))
    if name == "hard_tanh":
        return (lambda x: np.clip(x, -1, 1), lambda x: ((x > -1) & (x < 1)) * 1.0, [-1.0, 1.0],
                (1, 1), (0, 0))
    raise ValueError(name)


def gl_nodes(kinks_z):
    """Composite Gauss-Legendre nodes and weights on [-Z, Z], split at kinks_z."""
    edges = np.linspace(-Z, Z, 97)
    inside = [k for k in kinks_z if -Z < k < Z]
    edges = np.union1d(edges, inside)
    a, b = edges[:-1], edges[1:]
    x = 0.5 * (a + b) + 0.5 * (b - a) * GLX[:, None]
    w = 0.5 * (b - a) * GLW[:, None] * np.ones_like(x)
    return x.ravel(), w.ravel()


def phi(z):
    return np.exp(-0.5 * z * z) / np.sqrt(2.0 * np.pi)


def e1(g, kinks, q):
    """E[g(sqrt(q) z)]."""
    s = np.sqrt(q)
    z, w = gl_nodes([k / s for k in kinks])
    return float(np.sum(w * phi(z) * g(s * z)))


def e2(g, kinks, q, c):
    """E[g(u1) g(u2)], u1 = sqrt(q) z1, u2 = sqrt(q) (c z1 + sqrt(1 - c^2) z2)."""
    s, r = np.sqrt(q), np.sqrt(1.0 - c * c)
    z1, w1 = gl_nodes([k / s for k in kinks])
    if not kinks:  # one inner grid for every z1
        z2, w2 = gl_nodes([])
        inner = g(s * (c * z1[:, None] + r * z2[None, :])) @ (w2 * phi(z2))
    else:
        inner = np.empty_like(z1)
        for i, a in enumerate(z1):
            z2, w2 = gl_nodes([(k / s - c * a) / r for k in kinks])
            inner[i] = np.sum(w2 * phi(z2) * g(s * (c * a + r * z2)))
    return float(np.sum(w1 * phi(z1) * g(s * z1) * inner))


def qstar(f, kinks, sw, sb):
    """Fixed-point iteration of the q-map from q = 1: 0, inf or the limit."""
    q = 1.0
    for _ in range(200000):
        qn = sw * sw * e1(lambda x: f(x) ** 2, kinks, q) + sb * sb
        if qn > 1e30:
            return np.inf
        if qn < 1e-300:
            return 0.0
        if abs(qn - q) <= 1e-15 * q:
            return qn
        q = qn
    raise RuntimeError("q-map iteration did not converge")


def chi1(act, alpha, sw, sb):
    f, df, kinks, s0, sinf = activation(act, alpha)
    q = qstar(f, kinks, sw, sb)
    if q == 0.0 or np.isinf(q):
        sp, sm = s0 if q == 0.0 else sinf
        return q, sw * sw * 0.5 * (sp * sp + sm * sm)
    return q, sw * sw * e1(lambda x: df(x) ** 2, kinks, q)


def reference(act, alpha, sw, sb):
    f, df, kinks, s0, sinf = activation(act, alpha)
    q, x1 = chi1(act, alpha, sw, sb)
    if q == 0.0 or np.isinf(q):
        sp, sm = s0 if q == 0.0 else sinf
        return q, x1, (np.nan if sp == sm else 1.0), 1.0
    if x1 <= 1.0:
        return q, x1, 1.0, x1
    cmap = lambda c: (sw * sw * e2(f, kinks, q, c) + sb * sb) / q - c  # noqa: E731
    a, b = 0.0, 1.0 - 1e-6  # closer to 1 the 2-D rule loses accuracy (near-kinks)
    fa, fb = cmap(a), cmap(b)
    if fa <= 1e-14:
        c = 0.0
    else:
        assert fb < 0, (act, sw, sb, fb)
        side = 0
        for _ in range(200):  # Illinois false position
            c = (a * fb - b * fa) / (fb - fa)
            fc = cmap(c)
            if fc == 0 or abs(b - a) < 1e-14:
                break
            if fc * fb < 0:
                a, fa = b, fb
                side = 0
            else:
                fa = fa / 2 if side == 1 else fa
                side = 1
            b, fb = c, fc
            if abs(fc) < 1e-15:
                break
    return q, x1, c, sw * sw * e2(df, kinks, q, c)


def run_cli(exe, args):
    out = subprocess.run([exe, "theory", *args, "--csv"], check=True, capture_output=True,
                         text=True).stdout
    lines = out.strip().splitlines()
    head = lines[0].split(",")
    return [dict(zip(head, ln.split(","))) for ln in lines[1:]]


def close(a, b, rtol, atol=0.0):
    if np.isnan(a) or np.isnan(b):
        return np.isnan(a) and np.isnan(b)
    if np.isinf(a) or np.isinf(b):
        return a == b
    return abs(a - b) <= atol + rtol * abs(b)


POINTS = [  # activation, alpha, sigma_w, sigma_b
    ("tanh", 0, 1.5, 0.0), ("tanh", 0, 2.5, 0.3), ("tanh", 0, 1.2, 0.05), ("tanh", 0, 0.8, 0.1),
    ("tanh", 0, 0.8, 0.0), ("sigmoid", 0, 6.0, 0.5), ("sigmoid", 0, 12.0, 0.2),
    ("relu", 0, 1.2, 0.3), ("relu", 0, 1.6, 0.1), ("leaky_relu", 0.2, 1.3, 0.2),
    ("gelu", 0, 1.5, 0.1), ("gelu", 0, 1.6, 0.0), ("elu", 1.0, 1.2, 0.1), ("elu", 0.5, 1.3, 0.2),
    ("selu", 0, 0.9, 0.3), ("softplus", 0, 1.3, 0.2), ("swish", 0, 1.5, 0.3),
    ("softsign", 0, 3.0, 0.5), ("softsign", 0, 20.0, 3.0), ("hard_tanh", 0, 3.0, 0.1),
    ("hard_tanh", 0, 0.9, 0.5), ("hard_tanh", 0, 20.0, 50.0),  # c* near 1 at q* = 2896
]


def main():
    exe = sys.argv[1]
    bad = 0
    for act, alpha, sw, sb in POINTS:
        args = ["--activation", act, "--sigma-w", repr(sw), "--sigma-b", repr(sb)]
        if act in ("leaky_relu", "elu"):
            args += ["--alpha", repr(alpha)]
        row = run_cli(exe, args)[0]
        got = [float(row[k]) for k in ("q_star", "chi1", "c_star", "chi_c")]
        want = reference(act, alpha, sw, sb)
        tol = [(1e-10, 1e-14), (1e-10, 0.0), (0.0, 1e-9), (1e-9, 0.0)]
        ok = all(close(g, w, *t) for g, w, t in zip(got, want, tol))
        xi = float(row["xi_grad"])
        ok = ok and close(xi, np.inf if got[1] == 1 else -1 / np.log(got[1]), 1e-12)
        bad += not ok
        dev = max((abs(g - w) / (abs(w) if t[0] and w else 1.0)) if np.isfinite(g - w) else 0.0
                  for g, w, t in zip(got, want, tol))
        print(f"{'ok ' if ok else 'BAD'} {act:10s} sw={sw:<5g} sb={sb:<5g} dev={dev:.1e} "
              f"q*={got[0]:.12g}/{want[0]:.12g} chi1={got[1]:.12g}/{want[1]:.12g} "
              f"c*={got[2]:.10g}/{want[2]:.10g} chi_c={got[3]:.10g}/{want[3]:.10g}")
    # the critical line of tanh against bisection on the reference chi1
    sbs = [0.0, 0.05, 0.3, 1.0]
    rows = run_cli(exe, ["--critical", "tanh", "--sigma-b", ",".join(map(repr, sbs))])
    for sb, row in zip(sbs, rows):
        got = float(row["sigma_w"])
        if sb == 0.0:
            want = 1.0  # q* = 0 and chi1 = sigma_w^2 below, chaos above (docs/theory.md)
        else:
            lo, hi = 0.5, 5.0
            for _ in range(60):
                mid = 0.5 * (lo + hi)
                if chi1("tanh", 0, mid, sb)[1] < 1.0:
                    lo = mid
                else:
                    hi = mid
            want = 0.5 * (lo + hi)
        ok = close(got, want, 1e-10)
        bad += not ok
        print(f"{'ok ' if ok else 'BAD'} critical tanh sb={sb:<5g} dev={abs(got / want - 1):.1e} "
              f"sigma_w={got:.12g}/{want:.12g}")
    print(f"{bad} mismatches")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
