"""The lazy reader of gradsweep outputs (schema gradsweep/1, docs/schema.md): one index, a store
directory alone, a sweep still being written (its journal), or several shards of one sweep.
It reads only what is asked for; it never writes and takes no lock."""
import json
import os
import re
from collections import OrderedDict

import h5py
import numpy as np
import pandas as pd

SCHEMA = "gradsweep/1"
# /summary columns after the axes (docs/schema.md), with the run attribute each comes from and
# the value of a run (or an older output) that lacks it.
FIXED = (
    ("seed", "seed", 0),
    ("replicate", "replicate", 0),
    ("status", "status", ""),
    ("diverged_step", "diverged_step", -1),
    ("final_loss", "final_loss", np.nan),
    ("grad_norm_first_step0", "grad_norm_first_step0", np.nan),
    ("grad_norm_last_step0", "grad_norm_last_step0", np.nan),
    ("eval_loss", "final_eval_loss", np.nan),
    ("eval_accuracy", "final_eval_accuracy", np.nan),
    ("verdict", "verdict", ""),
    ("verdict_step", "verdict_step", -1),
    ("q_star", "q_star", np.nan),
    ("chi1", "chi1", np.nan),
    ("xi_grad", "xi_grad", np.nan),
    ("xi_c", "xi_c", np.nan),
    ("pred_slope", "pred_slope", np.nan),
    ("delta_slope0", "delta_slope0", np.nan),
)
FIXED_NAMES = ("run_id",) + tuple(c for c, _, _ in FIXED)
TENSOR_GROUPS = {"grads": "grads", "weights": "weights", "probe_h": "probe", "probe_delta": "probe"}
MAX_OPEN = 32  # segment files kept open at once


def _str(v):
    """Decode an HDF5 string (bytes, numpy bytes or str) to str; other values unchanged."""
    if isinstance(v, (bytes, np.bytes_)):
        return v.decode("utf-8")
    return v


def _decode(df):
    for col in df.columns[df.dtypes == object]:
        df[col] = df[col].map(_str)
    return df


def _open_h5(path):
    """h5py.File of path, or ValueError naming it when it is missing or not HDF5."""
    if not os.path.exists(path):
        raise ValueError(f"{path}: no such file or directory")
    try:
        return h5py.File(path, "r")
    except OSError as e:
        raise ValueError(f"{path}: not an HDF5 file ({e})") from None


def _column_name(key, keys):
    """Axis column name of a key path among the axis keys (the C index's rule, docs/schema.md):
    the key without its section, or the path with '_' for '.' when that collides."""
    short = key.split(".", 1)[-1]
    others = {k.split(".", 1)[-1] for k in keys if k != key}
    return key.replace(".", "_") if short in FIXED_NAMES or short in others else short


def _axis_value(attrs, key, width_str=False):
    """A run's value on axis `key` from its group attributes, as /summary shows it."""
    if key == "model.width" and width_str:
        lst = _str(attrs.get("model.width_list", ""))
        return f"[{lst}]" if lst else str(int(attrs[key]))
    v = _str(attrs.get(key, np.nan))
    return v.item() if isinstance(v, np.generic) else v


def _flow_list(text):
    """Items of a one-line YAML flow sequence '[a, b, {c: [d]}]' (top level split only)."""
    text = text.strip()
    if not (text.startswith("[") and text.endswith("]")):
        return None
    items, depth, cur, quote = [], 0, "", False
    for ch in text[1:-1]:
        if ch == '"':
            quote = not quote
        elif not quote and ch in "[{":
            depth += 1
        elif not quote and ch in "]}":
            depth -= 1
        if ch == "," and depth == 0 and not quote:
            items.append(cur.strip())
            cur = ""
        else:
            cur += ch
    if cur.strip():
        items.append(cur.strip())
    return [json.loads(i) if i.startswith('"') else i for i in items]


def _spec_values(spec, key):
    """The values of axis `key` as listed in the resolved spec text, or None."""
    sec, name = key.split(".", 1)
    m = re.search(rf"^{re.escape(sec)}:\n((?:[ ]+.*\n?)*)", spec, re.M)
    if not m:
        return None
    m = re.search(rf"^  {re.escape(name)}: (\[.*\])$", m.group(1), re.M)
    return _flow_list(m.group(1)) if m else None


def _position(values, v):
    """Index of summary value v among spec values (numbers compared as floats), or None."""
    for i, t in enumerate(values):
        if isinstance(v, (int, float, np.number)):
            try:
                if float(t) == float(v):
                    return i
            except ValueError:
                pass
        elif t == v:
            return i
    return None


class _Shard:
    """One output: an index and/or its store directory. Holds the index open."""

    def __init__(self, path):
        path = os.fspath(path)
        if isinstance(path, bytes):
            path = os.fsdecode(path)
        path = path.rstrip("/") or path
        self.path = path
        self.index = self.dir = None
        self.file = None
        if os.path.isdir(path):
            self.dir = path
            sib = path[:-2] if path.endswith(".d") else None
            if sib and os.path.isfile(sib):
                self.index = sib
        elif os.path.exists(path):
            self.index = path
            if os.path.isdir(path + ".d"):
                self.dir = path + ".d"
        else:
            raise ValueError(f"{path}: no such file or directory")
        if self.index:
            self.file = _open_h5(self.index)
            schema = _str(self.file.attrs.get("schema", ""))
            if schema != SCHEMA or "summary" not in self.file:
                self.file.close()
                what = "a segment, open its index OUT.h5" if schema.startswith(SCHEMA) else \
                    f"not a gradsweep output (schema {schema!r}, want {SCHEMA!r})"
                raise ValueError(f"{self.index}: {what}")
        self.journal, self.master_seed = self._read_journal()
        if self.file is None and self.journal is None:
            raise ValueError(f"{path}: not a gradsweep store directory (no journal)")

    def _read_journal(self):
        """run_id -> segment path of every committed run (complete lines, first one wins), and
        the journal's master seed; (None, None) without a journal."""
        jp = os.path.join(self.dir, "journal") if self.dir else None
        if not jp or not os.path.isfile(jp):
            return None, None
        with open(jp, "rb") as f:
            text = f.read().decode("utf-8", "replace")
        lines = text.split("\n")[:-1]  # a line counts only with its final newline
        if not lines or not lines[0].startswith("gradsweep-journal "):
            raise ValueError(f"{jp}: not a gradsweep journal")
        m = re.search(r"master_seed=(\d+)", lines[0])
        runs = OrderedDict()
        for line in lines[1:]:
            seg, *ids = line.split()
            for rid in ids:
                runs.setdefault(rid, os.path.join(self.dir, seg))
        return runs, int(m.group(1)) if m else None

    @property
    def attrs(self):
        if self.file is None:
            return {} if self.master_seed is None else {"master_seed": self.master_seed}
        return {k: _decode_attr(v) for k, v in self.file.attrs.items()}

    def locate(self, rid, in_index):
        """(segment file, group path) of a committed run."""
        if self.journal is not None and rid in self.journal:
            return self.journal[rid], f"runs/{rid}"
        if in_index:
            link = self.file["runs"].get(rid, getlink=True)
            if isinstance(link, h5py.ExternalLink):
                base = os.path.dirname(os.path.abspath(self.index))
                return os.path.join(base, link.filename), link.path.lstrip("/")
            return self.index, f"runs/{rid}"
        return None


def _decode_attr(v):
    if isinstance(v, np.ndarray) and v.dtype == object:
        return [_str(x) for x in v]
    v = _str(v)
    return v.item() if isinstance(v, np.generic) else v


class Sweep:
    """A gradsweep output opened for reading (see open_sweep)."""

    def __init__(self, paths):
        self._files = OrderedDict()  # segment path -> open h5py.File (LRU)
        self._shards = []
        try:
            for p in paths:
                self._shards.append(_Shard(p))
        except Exception:
            self.close()
            raise
        if not self._shards:
            raise ValueError("open_sweep: no path given")
        self._check_shards()
        first = next((s for s in self._shards if s.file is not None), self._shards[0])
        self.attrs = first.attrs
        self.spec = self.attrs.get("spec", "")
        self._summary = None
        self._where = None  # run_id -> (shard, in_index)
        self._axes = None

    def _check_shards(self):
        """Shards must be one sweep: the same spec name and master seed where known."""
        seen = {}
        for s in self._shards:
            a = s.attrs
            for key in ("name", "master_seed"):
                if key in a:
                    if key in seen and seen[key][0] != a[key]:
                        raise ValueError(f"{s.path}: {key} {a[key]!r} differs from "
                                         f"{seen[key][1]} ({seen[key][0]!r}): not shards of one "
                                         "sweep")
                    seen.setdefault(key, (a[key], s.path))

    # ---- summary ------------------------------------------------------------------------------
    @property
    def axes(self):
        """Axis column names, in spec order."""
        if self._axes is None:
            self._build()
        return list(self._axes)

    @property
    def summary(self):
        """One row per committed run (see open_sweep); built on first use."""
        if self._summary is None:
            self._build()
        return self._summary

    def _build(self):
        parts, keys, where = [], [], {}
        for s in self._shards:
            df, skeys = self._shard_summary(s)
            df = df[~df["run_id"].isin(where.keys())]
            for rid in df["run_id"]:
                where[rid] = s
            parts.append((s, df, skeys))
            keys += [k for k in skeys if k not in keys]
        keys += self._differing_keys(parts, keys)
        names = [_column_name(k, keys) for k in keys]
        frames = []
        for s, df, skeys in parts:
            for k, n in zip(keys, names):
                old = _column_name(k, skeys) if k in skeys else None
                if old is not None and old != n:
                    df = df.rename(columns={old: n})
                elif old is None:
                    df[n] = self._fixed_value(s, df, k)
            frames.append(df)
        cols = ["run_id"] + names + [c for c, _, _ in FIXED]
        frames = [f.reindex(columns=cols) for f in frames]
        full = [f for f in frames if len(f)] or frames[:1]  # an empty frame would upcast ints
        out = pd.concat(full, ignore_index=True)
        for c, _, default in FIXED:  # older outputs lack some columns
            if out[c].isna().any():
                out[c] = out[c].fillna(default)
            if isinstance(default, int) and len(out):
                out[c] = out[c].astype(np.uint64 if c == "seed" else np.int64)
            elif isinstance(default, float):
                out[c] = out[c].astype(np.float64)
        self._summary, self._axes, self._keys, self._where = out, names, keys, where

    def _fixed_value(self, s, df, key):
        """A key that is an axis of another shard but fixed in shard s: read from one run."""
        if len(df) == 0:
            return []
        g = self._group(df["run_id"].iloc[0], s)
        return _axis_value(g.attrs, key)

    def _differing_keys(self, parts, keys):
        """Config keys fixed within each shard but different between shards (overrides such as
        model.depth=2 in one shard and 3 in the other): extra axes of the union."""
        if len(parts) < 2:
            return []
        vals = []
        for s, df, _ in parts:
            if len(df):
                a = self._group(df["run_id"].iloc[0], s).attrs
                vals.append({k: _axis_value(a, k) for k in a if "." in k and k not in keys})
        extra = []
        for k in sorted(set().union(*vals)) if vals else []:
            seen = {repr(v.get(k)) for v in vals}
            if len(seen) > 1 and k != "model.width_list":
                extra.append(k)
        return extra

    def _shard_summary(self, s):
        """(summary DataFrame of shard s in plan order where known, its axis keys)."""
        if s.file is not None:
            ds = s.file["summary"]
            df = _decode(pd.DataFrame(ds[()]))
            keys = [_str(k) for k in ds.attrs.get("axis_keys", [])]
        else:
            df, keys = pd.DataFrame(columns=["run_id"]), None
        extra = [r for r in (s.journal or {}) if r not in set(df["run_id"])]
        if extra:
            attrs = [dict(self._group(r, s, in_index=False).attrs) for r in extra]
            if keys is None:  # no index: the axes are the config keys that vary
                cfg = sorted({k for a in attrs for k in a if "." in k} - {"model.width_list"})
                keys = [k for k in cfg if len({repr(_axis_value(a, k)) for a in attrs}) > 1]
            rows = self._rows(extra, attrs, keys, df)
            df = pd.concat([df, rows], ignore_index=True) if len(df) else rows
            df = self._plan_order(df, keys, _str(s.attrs.get("spec", "")))
        return df, keys or []

    def _rows(self, ids, attrs, keys, index_df):
        """Summary rows of runs not in the index, from their run-group attributes."""
        width_str = "model.width" in keys and (
            any("model.width_list" in a for a in attrs) or
            (len(index_df) and index_df.get(_column_name("model.width", keys),
                                            pd.Series([0])).dtype == object))
        rows = []
        for rid, a in zip(ids, attrs):
            r = {"run_id": rid}
            for k in keys:
                r[_column_name(k, keys)] = _axis_value(a, k, width_str)
            for col, attr, default in FIXED:
                r[col] = _decode_attr(a[attr]) if attr in a else default
            rows.append(r)
        df = pd.DataFrame(rows)
        for c in df.columns:  # the index's column types
            if c in index_df.columns and len(index_df) and index_df[c].dtype != object:
                df[c] = df[c].astype(index_df[c].dtype)
        if "seed" in df and df["seed"].dtype != object:
            df["seed"] = df["seed"].astype(np.uint64)
        return df

    @staticmethod
    def _plan_order(df, keys, spec):
        """Rows sorted in plan order (first axis slowest, replicate innermost) when every value
        is found in the spec's axis lists; otherwise as they are (index, then journal)."""
        lists = [_spec_values(spec, k) for k in keys]
        if not keys or any(v is None for v in lists):
            return df
        pos = []
        for k, vals in zip(keys, lists):
            p = [_position(vals, v) for v in df[_column_name(k, keys)]]
            if any(x is None for x in p):
                return df
            pos.append(p)
        order = np.lexsort([df["replicate"].to_numpy()] + pos[::-1])
        return df.iloc[order].reset_index(drop=True)

    # ---- runs ---------------------------------------------------------------------------------
    def runs(self, **filters):
        """Summary rows matching every filter: a scalar (==), a list/tuple/set (isin) or a
        callable on the column. KeyError naming the columns for an unknown one."""
        df = self.summary
        unknown = [k for k in filters if k not in df.columns]
        if unknown:
            raise KeyError(f"no column {', '.join(map(repr, unknown))} in the summary "
                           f"(columns: {', '.join(df.columns)})")
        mask = np.ones(len(df), dtype=bool)
        for k, v in filters.items():
            col = df[k]
            if callable(v):
                m = v(col)
            elif isinstance(v, (list, tuple, set, frozenset, np.ndarray, pd.Series, pd.Index)):
                m = col.isin(list(v))
            else:
                m = col == v
            mask &= np.asarray(m, dtype=bool)
        return df[mask].reset_index(drop=True)

    def _run_ids(self, runs):
        if runs is None:
            return list(self.summary["run_id"])
        if isinstance(runs, pd.DataFrame):
            return list(runs["run_id"])
        if isinstance(runs, str):
            return [runs]
        return list(runs)

    # ---- per-run data -------------------------------------------------------------------------
    def _segment(self, path):
        f = self._files.pop(path, None)
        if f is None:
            if len(self._files) >= MAX_OPEN:
                self._files.popitem(last=False)[1].close()
            if not os.path.isfile(path):
                raise KeyError(f"{path}: segment file missing")
            f = h5py.File(path, "r")
        self._files[path] = f
        return f

    def _group(self, rid, shard=None, in_index=None):
        """The h5py group /runs/<rid> of a committed run, opened from its segment."""
        if shard is None:
            if self._where is None:
                self._build()
            shard = self._where.get(rid)
            if shard is None:
                raise KeyError(f"run {rid!r} is not in this sweep ({len(self._where)} runs)")
        if in_index is None:  # the link itself, without following it into the segment
            in_index = shard.file is not None and \
                shard.file["runs"].get(rid, getlink=True) is not None
        loc = shard.locate(rid, in_index)
        if loc is None:
            raise KeyError(f"run {rid!r} is not committed in {shard.path}")
        f = self._segment(loc[0])
        if loc[1] not in f:
            raise KeyError(f"{loc[0]}: no group /{loc[1]}")
        return f[loc[1]]

    def segment_of(self, run_id):
        """(segment file, group path) holding a run."""
        g = self._group(run_id)
        return g.file.filename, g.name

    def layer_stats(self, name, step=None, runs=None):
        """Long DataFrame run_id, <axes>, step, layer, value of a [T, L] / [T, H] statistic
        (no layer column for a [T] one); see docs/schema.md for the names. step: None, an int
        or a list of ints; runs: None, a DataFrame from runs() or a list of run ids. Runs
        lacking the dataset are skipped; only that dataset and its step scale are read."""
        summ = self.summary.set_index("run_id")
        axes = self.axes
        want = None if step is None else np.atleast_1d(np.asarray(step, dtype=np.int64))
        grp, _, leaf = name.rpartition("/")
        cols = {"run_id": [], "step": [], "layer": [], "value": []}
        ndim = None
        for rid in self._run_ids(runs):
            if rid not in summ.index:
                raise KeyError(f"run {rid!r} is not in this sweep")
            g = self._group(rid)
            if name not in g:
                continue
            ds = g[name]
            steps = (g[grp] if grp else g)["step"][()]
            rows = np.arange(len(steps)) if want is None else np.nonzero(np.isin(steps, want))[0]
            if len(rows) == len(steps):
                vals = ds[()]
            elif len(rows):
                vals = ds[rows]
            else:
                vals = np.empty((0,) + ds.shape[1:])
            vals = np.asarray(vals, dtype=np.float64)
            ndim = vals.ndim
            n = 1 if vals.ndim == 1 else vals.shape[1]
            cols["run_id"].append(np.repeat(rid, len(rows) * n))
            cols["step"].append(np.repeat(steps[rows], n))
            cols["layer"].append(np.tile(np.arange(n), len(rows)))
            cols["value"].append(vals.ravel())
        out = {k: (np.concatenate(v) if v else np.array([], dtype=object if k == "run_id"
                                                          else np.int64 if k != "value"
                                                          else np.float64))
               for k, v in cols.items()}
        df = pd.DataFrame({"run_id": out["run_id"].astype(object)})
        if len(df):
            ax = summ.loc[df["run_id"], axes]
            for a in axes:
                df[a] = ax[a].to_numpy()
        else:
            for a in axes:
                df[a] = pd.Series(dtype=summ[a].dtype)
        df["step"] = out["step"].astype(np.int64)
        if ndim != 1:
            df["layer"] = out["layer"].astype(np.int64)
        df["value"] = out["value"]
        return df

    def tensor(self, run_id, group, layer, step, kind="W"):
        """One snapshot as a numpy array: grads/weights <kind><lll> at grads step `step`, or
        probe/h<lll> (group "probe_h") / probe/delta<lll> ("probe_delta") at probe step `step`."""
        if group not in TENSOR_GROUPS:
            raise ValueError(f"tensor: group {group!r} is not one of {', '.join(TENSOR_GROUPS)}")
        g = self._group(run_id)
        sub = TENSOR_GROUPS[group]
        if sub == "probe":
            kind = "h" if group == "probe_h" else "delta"
        path = f"{sub}/{kind}{int(layer):03d}"
        if path not in g:
            have = sorted(g[sub]) if sub in g else []
            raise KeyError(f"run {run_id}: no dataset {path}" +
                           (f" (the run has {sub}/: {', '.join(have)})" if have else
                            f" (the run has no {sub}/ group)"))
        steps_ds = f"{sub}/step" if f"{sub}/step" in g else "grads/step"
        steps = g[steps_ds][()]
        hit = np.nonzero(steps == step)[0]
        if not len(hit):
            raise KeyError(f"run {run_id}: no snapshot at step {step} in {path} "
                           f"(steps: {', '.join(map(str, steps))})")
        return g[path][int(hit[0])]

    def histogram(self, run_id, kind="grad"):
        """dict(step [R], edges [k+1] (log10), counts [R, L, k], outside [R, L, 4], columns)."""
        if kind not in ("grad", "delta"):
            raise ValueError(f"histogram: kind {kind!r} is not 'grad' or 'delta'")
        g = self._group(run_id)
        if "hist" not in g or kind not in g["hist"]:
            raise KeyError(f"run {run_id}: no histograms hist/{kind} (record.hist was off)")
        h = g["hist"]
        out = h[f"{kind}_outside"]
        cols = [_str(c) for c in out.attrs.get("columns", ["zero", "below", "above", "nan"])]
        return {"step": h["step"][()], "edges": h["edges"][()], "counts": h[kind][()],
                "outside": out[()], "columns": cols}

    def jacobian(self, run_id):
        """dict(step [J], sv [J, m, r], mean_sq [J, m], max [J, m])."""
        g = self._group(run_id)
        if "jacobian" not in g:
            raise KeyError(f"run {run_id}: no jacobian/ group (record.jacobian was off)")
        return {k: g["jacobian"][k][()] for k in ("step", "sv", "mean_sq", "max")}

    # ---- lifetime -----------------------------------------------------------------------------
    def close(self):
        """Close every file handle (idempotent)."""
        while self._files:
            self._files.popitem()[1].close()
        for s in self._shards:
            if s.file is not None:
                s.file.close()
                s.file = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def __repr__(self):
        paths = ", ".join(s.path for s in self._shards)
        n = "?" if self._summary is None else len(self._summary)
        return f"<gradsweep.Sweep {self.attrs.get('name', '')!r} {paths}: {n} runs>"


def open_sweep(path):
    """Open an output lazily: OUT.h5, OUT.h5.d, or a list of them (shards of one sweep)."""
    paths = [path] if isinstance(path, (str, bytes, os.PathLike)) else list(path)
    return Sweep(paths)
