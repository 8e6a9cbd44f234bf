#!/usr/bin/python3
"""Independent check of gradsweep's training against PyTorch (run by tests/it_torch.sh).

usage: torch_check.py GRADSWEEP_EXE WORKDIR [--pending] [--case NAME ...]

Drives the real CLI end to end: writes small HDF5 data sets, one spec per case of CASES (a case is
a list of spec overrides by dotted key; a list value is a sweep axis), runs `gradsweep run`, and
for every stored run rebuilds the net in torch from the run's attributes and its step-0 weights
(weights/W<l>, b<l>, gamma<l>, beta<l>, running_mean<l>, running_var<l>), then walks the run's
steps with torch's autograd and torch.optim: at every step it compares the loss, the learning
rate, the per-layer gradient norms, the global norm and the clipping flag with the run's
statistics, and at every snapshot step the stored gradients and weights with torch's (a
trajectory check: torch carries its own parameters forward from step 0 and is never reset from
the file). Cases in PENDING need C features that have not landed; they run only with --pending.

Adding a case is adding one line to CASES: {"key.path": value, ...}. The torch side reads every
setting from the run attributes (docs/schema.md), never from the case.

Exit 0 when every comparison is within tolerance, 1 otherwise (the caller skips the test only
when `import torch` fails).
"""
import argparse
import math
import os
import re
import subprocess
import sys
import time

import h5py
import numpy as np
import torch
import torch.nn.functional as F

# ---- tolerances ----
# Comparison metric: for a tensor, max |torch - gradsweep| / max |gradsweep| (normwise relative,
# so an entry that happens to be near zero by cancellation does not dominate); for a scalar the
# plain relative error.
# float64: both sides evaluate the same formulas in IEEE double with a different association of
# the sums (OpenBLAS dgemm vs torch's kernels, log-softmax/erf/expm1 implementations). With at most
# ~30 terms per sum, a few layers, and 3 steps of well-conditioned updates the expected difference
# is a few dozen ulp: the largest error measured over all cases is 5e-15 (the table the script
# prints; OpenBLAS on x86-64, torch 1.13). The one amplifier is Adam/RMSprop's g / (sqrt(v) + eps)
# for an entry |g| ~ eps, which this data never produces. 1e-12 leaves a factor ~200 for other
# BLAS kernels and CPUs while any error of formula (a wrong constant, a missing term, an
# off-by-one step counter, a float32 intermediate) shows up at 1e-8 or far above.
TOL = {"float64": 1e-12,
       # float32: the same sums in single precision (eps 6e-8) with different association and
       # different transcendental implementations; a few ulp per operation, grown by depth and 3
       # steps (float32 torch vs float64 gradsweep already differ by only ~5e-7, so the tolerance
       # cannot tell the two precisions apart: check_run also requires every stored float32-run
       # tensor to be exactly a float32 value). 2e-5 ~ 300 ulp of float32.
       "float32": 2e-5}

ACTIVATIONS = ["linear", "tanh", "sigmoid", "relu", "leaky_relu", "elu", "selu", "gelu",
               "softplus", "swish", "silu", "softsign", "hard_tanh"]

BASE = {
    "seed": 7,
    "data.kind": "hdf5", "data.path": "cls.h5", "data.x": "/X", "data.y": "/y",
    "model.depth": 3, "model.width": 7, "model.activation": "tanh", "model.sigma_b": 0.5,
    "train.steps": 3, "train.batch": "full", "train.optimizer": "sgd", "train.lr": 0.1,
    "train.loss": "cross_entropy",
    "record.grads": [0, 1, 2], "record.weights": True, "record.dtype": "float64",
}

# Each case: (name, overrides of BASE). A list value is a sweep axis.
CASES = [
    ("act_xent", {"model.activation": ACTIVATIONS}),
    ("act_mse", {"model.activation": ACTIVATIONS, "train.loss": "mse",
                 "train.optimizer": "momentum", "train.lr": 0.05}),
    ("act_alpha", {"model.activation": ["leaky_relu", "elu"], "model.leaky_alpha": 0.2,
                   "model.elu_alpha": 0.7}),
    ("regression", {"data.path": "reg.h5", "data.y": "/t", "train.loss": "mse",
                    "model.activation": ["tanh", "gelu", "softplus"], "train.optimizer": "adam",
                    "train.lr": 0.01}),
    ("optimizers", {"train.optimizer": ["sgd", "momentum", "adam", "adamw", "rmsprop"],
                    "train.weight_decay": [0, 0.05], "train.lr": 0.02}),
    ("nesterov", {"train.optimizer": "momentum", "train.nesterov": True, "train.momentum": 0.8,
                  "train.weight_decay": 0.01, "model.activation": "relu"}),
    ("adam_hp", {"train.optimizer": ["adam", "adamw"], "train.beta1": 0.8, "train.beta2": 0.95,
                 "train.eps": 1e-6, "train.weight_decay": 0.1, "train.lr": 0.005}),
    ("rmsprop_hp", {"train.optimizer": "rmsprop", "train.rho": 0.9, "train.eps": 1e-4,
                    "train.lr": 0.003, "model.activation": "selu"}),
    ("depth", {"model.depth": [0, 1, 5], "model.width": 4, "model.activation": "swish"}),
    ("schedule", {"train.schedule": ["cosine", "step"], "train.warmup": [0, 1],
                  "train.step_size": 1, "train.gamma": 0.5}),
    ("clip_norm", {"train.clip_norm": 0.05}),
    ("clip_value", {"train.clip_value": 0.02, "train.optimizer": "momentum"}),
    ("normalize", {"data.normalize": True, "model.activation": "gelu"}),
    # architecture and precision options
    ("no_bias", {"model.bias": False, "model.activation": ["tanh", "relu"],
                 "train.optimizer": ["sgd", "adam"], "train.lr": 0.02}),
    # With biases before batchnorm, adaptive optimizers (adam, rmsprop) turn the bias gradient's
    # round-off noise (its exact value is 0) into full-size steps of arbitrary sign, so those are
    # checked without biases.
    ("batchnorm", {"model.norm": "batchnorm", "model.norm_momentum": 0.2,
                   "model.activation": ["relu", "tanh"], "train.optimizer": ["sgd", "momentum"],
                   "train.lr": 0.02}),
    ("batchnorm_adam", {"model.norm": "batchnorm", "model.bias": False,
                        "model.activation": ["relu", "gelu"], "train.optimizer": ["adam", "rmsprop"],
                        "train.lr": 0.02}),
    ("layernorm", {"model.norm": "layernorm", "model.norm_eps": 1e-3,
                   "model.activation": ["gelu", "tanh"], "train.optimizer": ["sgd", "adamw"],
                   "train.weight_decay": 0.05, "train.lr": 0.02}),
    ("norm_no_bias", {"model.norm": ["batchnorm", "layernorm"], "model.bias": False}),
    ("residual", {"model.depth": 6, "model.width": 5, "model.residual_every": [1, 2, 4],
                  "model.residual_alpha": 0.5}),
    ("residual_norm", {"model.depth": 5, "model.width": 5, "model.residual_every": 2,
                       "model.norm": ["batchnorm", "layernorm"], "model.activation": "relu"}),
    ("widths", {"model.width": {"layers": [5, 8, 6]}, "model.activation": ["tanh", "elu"]}),
    ("float32", {"train.dtype": "float32", "model.activation": ["tanh", "relu", "gelu"],
                 "train.optimizer": ["sgd", "adam"], "train.lr": 0.02}),
    ("float32_norm", {"train.dtype": "float32", "model.norm": ["batchnorm", "layernorm"],
                      "train.optimizer": "momentum", "train.lr": 0.02}),
]

# Cases whose C side has not landed yet (run with --pending); a line moves to CASES when it does.
PENDING = []

N, D, K, KREG = 24, 5, 3, 2  # samples, input dim, classes, regression targets


def write_data(workdir):
    rng = np.random.default_rng(12345)
    x = rng.normal(size=(N, D))
    y = rng.permutation(np.arange(N) % K).astype(np.int32)  # every class present
    with h5py.File(os.path.join(workdir, "cls.h5"), "w") as f:
        f["X"] = x
        f["y"] = y
    # Regression: a second X with a feature on another scale (for data.normalize).
    xr = rng.normal(size=(N, D))
    t = np.stack([np.sin(xr[:, 0]) + xr[:, 1] * xr[:, 2], xr[:, 3] - 0.5 * xr[:, 4]], axis=1)
    with h5py.File(os.path.join(workdir, "reg.h5"), "w") as f:
        f["X"] = xr * np.array([1.0, 3.0, 0.5, 1.0, 2.0]) + 1.0
        f["t"] = t


# ---- spec writing (flow-style YAML, plain scalars) ----

def yaml_value(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    if isinstance(v, float):
        return repr(v)
    if isinstance(v, str):
        return v
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(yaml_value(e) for e in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{k}: {yaml_value(e)}" for k, e in v.items()) + "}"
    raise TypeError(f"cannot write {v!r} as YAML")


def write_spec(path, name, overrides):
    flat = dict(BASE)
    flat.update(overrides)
    top, sections = {"name": name}, {}
    for key, v in flat.items():
        if "." in key:
            sec, sub = key.split(".", 1)
            sections.setdefault(sec, {})[sub] = v
        else:
            top[key] = v
    with open(path, "w") as f:
        for k, v in top.items():
            f.write(f"{k}: {yaml_value(v)}\n")
        for sec, kv in sections.items():
            f.write(f"{sec}:\n")
            for k, v in kv.items():
                f.write(f"  {k}: {yaml_value(v)}\n")


# ---- the torch net ----

def act_fn(name, alpha):
    def softplus(x):
        # torch's softplus returns x itself above threshold 20, gradsweep x + log1p(e^-x); they
        # differ by < e^-20 ~ 2e-9, which would exceed TOL. Our pre-activations stay far below.
        assert float(x.detach().max()) < 20.0, "softplus: pre-activation beyond torch's threshold"
        return F.softplus(x, beta=1.0, threshold=20.0)
    table = {
        "linear": lambda x: x,
        "tanh": torch.tanh,
        "sigmoid": torch.sigmoid,
        "relu": F.relu,
        "leaky_relu": lambda x: F.leaky_relu(x, negative_slope=alpha),
        "elu": lambda x: F.elu(x, alpha=alpha),
        "selu": F.selu,
        "gelu": lambda x: F.gelu(x, approximate="none"),  # exact erf form
        "softplus": softplus,
        "swish": F.silu,
        "silu": F.silu,
        "softsign": F.softsign,
        "hard_tanh": lambda x: F.hardtanh(x, -1.0, 1.0),
    }
    return table[name]


class TorchNet:
    """Fully-connected net: hidden layer = activation(norm(W a + b)), linear readout; optional
    residual blocks (docs/spec.md). widths = [d_in, h_1, ..., h_depth, d_out]."""

    def __init__(self, widths, activation, alpha, bias, norm, eps, momentum, residual_every,
                 residual_alpha, dtype):
        self.n = list(widths)
        self.L = len(widths) - 1
        self.act = act_fn(activation, alpha)
        self.bias, self.norm, self.eps, self.momentum = bias, norm, eps, momentum
        self.k, self.res_alpha, self.dtype = residual_every, residual_alpha, dtype
        self.W = [None] * self.L
        self.b = [None] * self.L if bias else None
        H = self.L - 1 if norm != "none" else 0
        self.gamma, self.beta = [None] * H, [None] * H
        self.rmean = [None] * H if norm == "batchnorm" else None
        self.rvar = [None] * H if norm == "batchnorm" else None

    def load(self, get):
        """get(kind, l) -> numpy array of weights/<kind><lll> at step 0."""
        def t(a, grad=True):
            return torch.tensor(np.asarray(a, dtype=np.float64), dtype=self.dtype).requires_grad_(grad)
        for l in range(self.L):
            self.W[l] = t(get("W", l))
            if tuple(self.W[l].shape) != (self.n[l + 1], self.n[l]):
                raise KeyError(f"weights/W{l:03d} is {tuple(self.W[l].shape)}, the attributes "
                               f"give widths {self.n}")
            if self.bias:
                self.b[l] = t(get("b", l))
        for l in range(len(self.gamma)):
            self.gamma[l] = t(get("gamma", l))
            self.beta[l] = t(get("beta", l))
            if self.rmean is not None:  # torch.nn.BatchNorm1d's initial state, as the C side's
                self.rmean[l] = torch.zeros(self.n[l + 1], dtype=self.dtype)
                self.rvar[l] = torch.ones(self.n[l + 1], dtype=self.dtype)

    def named_params(self):
        """(group kind, l, tensor) for every trainable tensor."""
        out = [("W", l, w) for l, w in enumerate(self.W)]
        if self.bias:
            out += [("b", l, b) for l, b in enumerate(self.b)]
        out += [("gamma", l, g) for l, g in enumerate(self.gamma)]
        out += [("beta", l, g) for l, g in enumerate(self.beta)]
        return out

    def buffers(self):
        if self.rmean is None:
            return []
        return ([("running_mean", l, t) for l, t in enumerate(self.rmean)] +
                [("running_var", l, t) for l, t in enumerate(self.rvar)])

    def hidden(self, l, a):
        """Weight layer l < L-1 (hidden layer l+1): linear -> [norm] -> activation."""
        h = F.linear(a, self.W[l], self.b[l] if self.bias else None)
        if self.norm == "batchnorm":
            h = F.batch_norm(h, self.rmean[l], self.rvar[l], self.gamma[l], self.beta[l],
                             training=True, momentum=self.momentum, eps=self.eps)
        elif self.norm == "layernorm":
            h = F.layer_norm(h, (self.n[l + 1],), self.gamma[l], self.beta[l], eps=self.eps)
        return self.act(h)

    def forward(self, x):
        depth = self.L - 1
        out = x
        if depth >= 1:
            out = self.hidden(0, x)  # hidden layer 1: never inside a skip
        i = 2  # next hidden layer, 1-based
        while i <= depth:
            if self.k > 0 and i + self.k - 1 <= depth:  # a full block: hidden layers i..i+k-1
                f = out
                for j in range(i, i + self.k):
                    f = self.hidden(j - 1, f)
                out = out + self.res_alpha * f
                i += self.k
            else:  # no skips, or the trailing partial block
                out = self.hidden(i - 1, out)
                i += 1
        return F.linear(out, self.W[-1], self.b[-1] if self.bias else None)


def make_optimizer(cfg, params):
    opt, lr, wd = cfg["train.optimizer"], cfg["train.lr"], cfg["train.weight_decay"]
    betas, eps = (cfg["train.beta1"], cfg["train.beta2"]), cfg["train.eps"]
    if opt == "sgd":
        return torch.optim.SGD(params, lr=lr, weight_decay=wd)
    if opt == "momentum":
        return torch.optim.SGD(params, lr=lr, momentum=cfg["train.momentum"], dampening=0,
                               nesterov=cfg["train.nesterov"] == "true", weight_decay=wd)
    if opt == "adam":
        return torch.optim.Adam(params, lr=lr, betas=betas, eps=eps, weight_decay=wd)
    if opt == "adamw":
        return torch.optim.AdamW(params, lr=lr, betas=betas, eps=eps, weight_decay=wd)
    if opt == "rmsprop":
        return torch.optim.RMSprop(params, lr=lr, alpha=cfg["train.rho"], eps=eps, weight_decay=wd)
    raise ValueError(f"optimizer {opt}")


def lr_at(cfg, t):
    """docs/spec.md "Learning-rate schedules", computed independently of the C code."""
    eta, W, T = cfg["train.lr"], cfg["train.warmup"], cfg["train.steps"]
    if t < W:
        return eta * (t + 1) / W
    tp, Tp = t - W, T - W
    sched = cfg["train.schedule"]
    if sched == "constant":
        return eta
    if sched == "cosine":
        return eta * 0.5 * (1.0 + math.cos(math.pi * tp / Tp))
    if sched == "step":
        return eta * cfg["train.gamma"] ** (tp // cfg["train.step_size"])
    raise ValueError(f"schedule {sched}")


def hidden_widths(cfg, depth):
    if cfg.get("model.width_list"):  # per-layer widths, "5,8,6" (docs/schema.md)
        return [int(e) for e in str(cfg["model.width_list"]).split(",")]
    w = cfg["model.width"]
    if isinstance(w, (int, np.integer)):
        return [int(w)] * depth
    if isinstance(w, np.ndarray):
        return [int(e) for e in w.ravel()]
    ws = [int(e) for e in re.findall(r"\d+", str(w))]  # "5,8,6" or "{layers: [5, 8, 6]}"
    return ws if len(ws) == depth else [ws[0]] * depth if len(ws) == 1 else ws


def load_data(cfg, specdir, dtype):
    with h5py.File(os.path.join(specdir, cfg["data.path"]), "r") as f:
        x = np.asarray(f[cfg["data.x"]], dtype=np.float64)
        y = np.asarray(f[cfg["data.y"]])
    if cfg["data.normalize"] == "true":  # population std; a constant feature becomes 0
        x = x - x.mean(axis=0)
        sd = np.sqrt((x * x).mean(axis=0))
        x = np.where(sd > 0, x / np.where(sd > 0, sd, 1.0), 0.0)
    xt = torch.tensor(x, dtype=dtype)
    if np.issubdtype(y.dtype, np.integer):
        return xt, torch.tensor(y.astype(np.int64)), None
    y = y.reshape(len(y), -1)
    return xt, None, torch.tensor(y.astype(np.float64), dtype=dtype)


# ---- comparison ----

class Checker:
    def __init__(self, tol):
        self.tol = tol
        self.failures = []
        self.max = {}  # quantity -> max relative error

    def cmp(self, what, quantity, mine, theirs):
        a = np.asarray(mine, dtype=np.float64)
        b = np.asarray(theirs, dtype=np.float64)
        if a.shape != b.shape:
            self.failures.append(f"{what}: shape torch {a.shape} vs gradsweep {b.shape}")
            return
        if not (np.all(np.isfinite(a)) and np.all(np.isfinite(b))):
            self.failures.append(f"{what}: non-finite values")
            return
        scale = float(np.max(np.abs(b))) if b.size else 0.0
        diff = float(np.max(np.abs(a - b))) if b.size else 0.0
        rel = diff / scale if scale > 0 else diff
        self.max[quantity] = max(self.max.get(quantity, 0.0), rel)
        if not rel <= self.tol:
            self.failures.append(f"{what}: relative error {rel:.3e} > {self.tol:.0e} "
                                 f"(max |diff| {diff:.3e}, scale {scale:.3e})")

    def fail(self, msg):
        self.failures.append(msg)


def attr(v):
    return v.decode() if isinstance(v, bytes) else v


def check_run(run, specdir, chk, tag, mutate=None):
    """Replays one stored run in torch and compares it. mutate: None, or "grad" / "lr" to plant a
    deliberate error (the self-test, which must be caught)."""
    cfg = {k: attr(v) for k, v in run.attrs.items()}
    if cfg["status"] != "ok" or cfg["steps_done"] != cfg["train.steps"]:
        chk.fail(f"{tag}: status {cfg['status']}, steps_done {cfg['steps_done']}")
        return
    dtype = torch.float64 if cfg.get("train.dtype", "float64") == "float64" else torch.float32
    depth = int(cfg["model.depth"])
    act = cfg["model.activation"]
    alpha = (cfg["model.leaky_alpha"] if act == "leaky_relu" else
             cfg["model.elu_alpha"] if act == "elu" else 0.0)
    widths = [int(cfg["d_in"])] + hidden_widths(cfg, depth) + [int(cfg["d_out"])]
    net = TorchNet(widths, act, alpha, cfg.get("model.bias", "true") == "true",
                   cfg.get("model.norm", "none"), cfg.get("model.norm_eps", 1e-5),
                   cfg.get("model.norm_momentum", 0.1), int(cfg.get("model.residual_every", 0)),
                   cfg.get("model.residual_alpha", 1.0), dtype)
    wsteps = list(run["weights/step"][()])
    gsteps = list(run["grads/step"][()])
    if wsteps[:1] != [0] or gsteps != wsteps:
        chk.fail(f"{tag}: snapshot steps weights {wsteps}, grads {gsteps}; need step 0 in both")
        return

    def stored(group, kind, l, s):
        name = f"{group}/{kind}{l:03d}"
        if name not in run:
            raise KeyError(f"{name} missing")
        a = run[name][s]
        # A float32 run computes in float32: every stored tensor is a float32 value (exactly so in
        # a float64 record). A float64 computation rounds to float32 only on storage.
        if dtype == torch.float32 and a.dtype == np.float64 and \
                not np.array_equal(a.astype(np.float32).astype(np.float64), a):
            chk.fail(f"{tag}: {name}[{s}] holds values that are not float32 in a float32 run")
        return a

    try:
        net.load(lambda kind, l: stored("weights", kind, l, 0))
    except KeyError as e:
        chk.fail(f"{tag}: {e.args[0]}")
        return
    # No extra tensors either (e.g. b<l> with model.bias false, gamma<l> without a norm).
    expect = {f"{k}{l:03d}" for k, l, _ in net.named_params()}
    for group, extra in (("grads", set()), ("weights", {f"{k}{l:03d}" for k, l, _ in net.buffers()})):
        have = {n for n in run[group] if not n.startswith(("fan_", "step"))}
        if have != expect | extra:
            chk.fail(f"{tag}: {group}/ holds {sorted(have)}, expected {sorted(expect | extra)}")
            return

    x, labels, targets = load_data(cfg, specdir, dtype)
    if labels is not None:
        if cfg["train.loss"] == "mse":
            targets = F.one_hot(labels, int(cfg["d_out"])).to(dtype)
    params = [p for _, _, p in net.named_params()]
    opt = make_optimizer(cfg, params)
    rows = {int(s): r for r, s in enumerate(run["step"][()])}
    clip_norm, clip_value = cfg["train.clip_norm"], cfg["train.clip_value"]
    lr_scale = 1.0 + 1e-7 if mutate == "lr" else 1.0

    for t in range(int(cfg["train.steps"])):
        lr = lr_at(cfg, t)
        for g in opt.param_groups:
            g["lr"] = lr * lr_scale
        snap = wsteps.index(t) if t in wsteps else None
        if snap is not None:  # the parameters that produce this step's gradient
            for kind, l, p in net.named_params():
                chk.cmp(f"{tag} step {t} weights/{kind}{l:03d}", "weights", p.detach(),
                        stored("weights", kind, l, snap))
        opt.zero_grad(set_to_none=False)
        out = net.forward(x)
        loss = F.cross_entropy(out, labels) if cfg["train.loss"] == "cross_entropy" else \
            F.mse_loss(out, targets)
        loss.backward()
        if snap is not None:  # running statistics: stored after the step's forward pass
            for kind, l, p in net.buffers():
                chk.cmp(f"{tag} step {t} weights/{kind}{l:03d}", "weights", p.detach(),
                        stored("weights", kind, l, snap))
        r = rows.get(t)
        if r is not None:
            chk.cmp(f"{tag} step {t} loss", "loss", loss.item(), run["loss"][r])
            chk.cmp(f"{tag} step {t} lr", "stats", lr, run["lr"][r])
            chk.cmp(f"{tag} step {t} grad_norm", "stats",
                    [float(torch.linalg.norm(w.grad)) for w in net.W], run["grad_norm"][r])
            gnorm = float(torch.linalg.norm(torch.cat([p.grad.reshape(-1) for p in params])))
            chk.cmp(f"{tag} step {t} grad_norm_global", "stats", gnorm,
                    run["grad_norm_global"][r])
        if snap is not None:
            for kind, l, p in net.named_params():
                mine = p.grad.detach().clone()
                theirs = np.array(stored("grads", kind, l, snap))
                if mutate == "grad" and t == 0 and kind == "W" and l == 0:
                    i = np.unravel_index(np.argmax(np.abs(theirs)), theirs.shape)
                    theirs[i] *= 1.0 + 3.0 * chk.tol  # just beyond tolerance
                if kind == "b" and net.norm == "batchnorm" and l < net.L - 1:
                    # A bias before batchnorm cancels in the normalization: its exact gradient is
                    # 0 and both sides hold round-off noise, so compare magnitudes against the
                    # layer's weight gradient instead of each other.
                    ref = float(np.max(np.abs(np.asarray(stored("grads", "W", l, snap)))))
                    for side, v in (("torch", mine.numpy()), ("gradsweep", theirs)):
                        if not float(np.max(np.abs(v))) <= chk.tol * ref:
                            chk.fail(f"{tag} step {t} grads/b{l:03d} ({side}) before batchnorm: "
                                     f"max {float(np.max(np.abs(v))):.3e} is not ~0 "
                                     f"(weight gradient scale {ref:.3e})")
                    continue
                chk.cmp(f"{tag} step {t} grads/{kind}{l:03d}", "grads", mine, theirs)
        clipped = 0
        if clip_norm > 0:
            n = float(torch.nn.utils.clip_grad_norm_(params, clip_norm))
            clipped = int(n > clip_norm)
        elif clip_value > 0:
            clipped = int(any(bool((p.grad.abs() > clip_value).any()) for p in params))
            torch.nn.utils.clip_grad_value_(params, clip_value)
        if r is not None and int(run["clipped"][r]) != clipped:
            chk.fail(f"{tag} step {t}: clipped {int(run['clipped'][r])}, torch {clipped}")
        opt.step()
    chk.cmp(f"{tag} final_loss", "loss", run["loss"][rows[int(cfg["train.steps"]) - 1]],
            cfg["final_loss"])


def run_case(exe, workdir, name, overrides):
    spec = os.path.join(workdir, f"{name}.yaml")
    out = os.path.join(workdir, f"{name}.h5")
    write_spec(spec, f"torch_{name}", overrides)
    p = subprocess.run([os.path.abspath(exe) if os.sep in exe else exe, "run", spec, "-o", out, "-q", "--force"], cwd=workdir,
                       capture_output=True, text=True)
    if p.returncode != 0:
        return None, f"{name}: gradsweep run exit {p.returncode}: {p.stderr.strip()}"
    return out, None


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("exe")
    ap.add_argument("workdir")
    ap.add_argument("--pending", action="store_true", help="also run the PENDING cases")
    ap.add_argument("--case", action="append", help="run only these cases")
    args = ap.parse_args()
    torch.set_num_threads(1)
    t0 = time.time()
    os.makedirs(args.workdir, exist_ok=True)
    workdir = os.path.abspath(args.workdir)
    write_data(workdir)
    cases = CASES + (PENDING if args.pending else [])
    if args.case:
        cases = [c for c in CASES + PENDING if c[0] in args.case]
    bad = 0
    print(f"{'case':14} {'runs':>4} {'loss':>9} {'grads':>9} {'weights':>9} {'stats':>9}  result")
    for name, overrides in cases:
        out, err = run_case(args.exe, workdir, name, overrides)
        if err:
            print(f"{name:14}  FAIL {err}")
            bad += 1
            continue
        dtypes = overrides.get("train.dtype", "float64")
        tol = max(TOL[d] for d in (dtypes if isinstance(dtypes, list) else [dtypes]))
        chk = Checker(tol)
        with h5py.File(out, "r") as f:
            ids = list(f["runs"])
            if len(ids) != int(f.attrs["n_runs"]) or not ids:
                chk.fail(f"{name}: {len(ids)} runs stored of {f.attrs['n_runs']}")
            for rid in ids:
                run = f["runs"][rid]
                tag = f"{name} {rid} ({run.attrs['model.activation']}, " \
                      f"{run.attrs['train.optimizer']})"
                check_run(run, workdir, chk, tag)
        m = chk.max
        print(f"{name:14} {len(ids):4d} " + " ".join(f"{m.get(q, float('nan')):9.1e}"
              for q in ("loss", "grads", "weights", "stats")) +
              f"  {'ok' if not chk.failures else 'FAIL'} (tol {tol:.0e})")
        for msg in chk.failures[:15]:
            print("   ", msg)
        if len(chk.failures) > 15:
            print(f"    ... and {len(chk.failures) - 15} more")
        bad += bool(chk.failures)

    # Self-test: the comparison must catch a gradient off by 3x the tolerance in one entry, and a
    # learning rate off by 1e-7 (relative) through the trajectory.
    first = os.path.join(workdir, f"{cases[0][0]}.h5")
    if os.path.exists(first) and not args.case:
        with h5py.File(first, "r") as f:
            run = f["runs"][list(f["runs"])[0]]
            for mutate in ("grad", "lr"):
                chk = Checker(TOL["float64"])
                check_run(run, workdir, chk, f"mutant {mutate}", mutate=mutate)
                caught = bool(chk.failures)
                print(f"self-test: planted {mutate} error {'caught' if caught else 'NOT CAUGHT'}")
                bad += not caught
    print(f"torch {torch.__version__}; {time.time() - t0:.1f} s; "
          f"{'PENDING not run: ' + ', '.join(n for n, _ in PENDING) if not args.pending else ''}")
    if bad:
        print(f"FAIL: {bad} case(s) differ from torch")
        return 1
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
