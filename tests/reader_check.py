"""Checks of the Python reader (analysis/gradsweep/sweep.py) against h5py, for tests/it_reader.sh.
Usage: reader_check.py main DIR (DIR holds out.h5, s2.h5, s3.h5, other.h5 of it_reader.sh) |
killed KILLED.h5 REF.h5 (exit 3: the index did not lag the journal, kill later)."""
import os
import sys

import h5py
import numpy as np
import pandas as pd

from gradsweep import open_sweep


def h5_summary(path):
    with h5py.File(path, "r") as f:
        df = pd.DataFrame(f["summary"][()])
    for c in df.columns[df.dtypes == object]:
        df[c] = df[c].str.decode("utf-8")
    return df


def raises(exc, fn, *words):
    try:
        fn()
    except exc as e:
        for w in words:
            assert w in str(e), (w, str(e))
        return
    raise AssertionError(f"no {exc.__name__} from {fn}")


def check_summary(sw, path):
    ref = h5_summary(path)
    s = sw.summary
    assert list(s.columns) == list(ref.columns), (list(s.columns), list(ref.columns))
    pd.testing.assert_frame_equal(s, ref)
    assert all(isinstance(v, str) for v in s["run_id"]) and all(isinstance(v, str) for v in
                                                                s["status"])
    with h5py.File(path, "r") as f:
        assert sw.axes == [a.decode() if isinstance(a, bytes) else a
                           for a in f["summary"].attrs["axes"]]
        assert sw.spec == f.attrs["spec"] and sw.attrs["name"] == f.attrs["name"]
        assert sw.attrs["n_runs"] == len(ref)


def check_filters(sw):
    s = sw.summary
    t = sw.runs(activation="tanh")
    assert len(t) == (s.activation == "tanh").sum() > 0 and (t.activation == "tanh").all()
    both = sw.runs(activation="relu", sigma_w=2.5, replicate=1)
    assert len(both) == 1 and both.iloc[0].sigma_w == 2.5
    lst = sw.runs(sigma_w=[1.0, 2.5], activation=("tanh",))
    assert len(lst) == len(t)
    st = sw.runs(replicate={0})
    assert len(st) == len(s) // 2
    fn = sw.runs(sigma_w=lambda c: c > 1)
    assert len(fn) == (s.sigma_w > 1).sum() and (fn.sigma_w > 1).all()
    assert len(sw.runs(activation="sigmoid")) == 0
    assert len(sw.runs()) == len(s)
    raises(KeyError, lambda: sw.runs(colour="red"), "colour", "sigma_w", "run_id")


def check_layer_stats(sw, path):
    s = sw.summary
    with h5py.File(path, "r") as f:
        runs = f["runs"]
        # [T, L] with one step, all runs
        gn = sw.layer_stats("grad_norm", step=4)
        assert list(gn.columns) == ["run_id"] + sw.axes + ["step", "layer", "value"]
        for rid, g in gn.groupby("run_id"):
            h = runs[rid]
            t = list(h["step"][()]).index(4)
            assert np.array_equal(g["value"], h["grad_norm"][t]), rid
            assert (g["step"] == 4).all() and list(g["layer"]) == list(range(3))
            row = s[s.run_id == rid].iloc[0]
            assert (g["activation"] == row.activation).all() and (g["sigma_w"] == row.sigma_w).all()
        assert gn.run_id.nunique() == len(s)
        # [T, H] with a list of steps (one absent), two runs given as a DataFrame
        sub = sw.runs(activation="relu", replicate=0)
        dead = sw.layer_stats("dead_frac", step=[0, 4, 99], runs=sub)
        assert set(dead.run_id) == set(sub.run_id) and set(dead.step) == {0, 4}
        for rid, g in dead.groupby("run_id"):
            ref = runs[rid]["dead_frac"][()][[0, 2]].ravel()
            assert np.array_equal(g["value"], ref) and g["layer"].max() == 1
        # [T]: no layer column; all steps; runs as a list of ids
        rid = s.run_id[0]
        loss = sw.layer_stats("loss", runs=[rid])
        assert list(loss.columns) == ["run_id"] + sw.axes + ["step", "value"]
        assert np.array_equal(loss["value"], runs[rid]["loss"][()])
        assert np.array_equal(loss["step"], runs[rid]["step"][()])
        full = sw.layer_stats("pe_grad_snr")
        assert len(full) == sum(runs[r]["pe_grad_snr"].size for r in s.run_id)
        assert len(sw.layer_stats("no_such_statistic")) == 0
        raises(KeyError, lambda: sw.layer_stats("loss", runs=["0123456789abcdef"]),
               "0123456789abcdef")


def check_tensors(sw, path):
    s = sw.summary
    with h5py.File(path, "r") as f:
        for rid in s.run_id[:2]:
            g = f["runs"][rid]
            for group, kinds in (("grads", ("W", "b")), ("weights", ("W", "b"))):
                for kind in kinds:
                    for layer in range(3):
                        for i, step in enumerate(g[f"{group}/step"][()]):
                            a = sw.tensor(rid, group, layer, int(step), kind=kind)
                            assert np.array_equal(a, g[f"{group}/{kind}{layer:03d}"][i])
            for group, name in (("probe_h", "h"), ("probe_delta", "delta")):
                for layer in range(3):
                    a = sw.tensor(rid, group, layer, 4)
                    assert np.array_equal(a, g[f"probe/{name}{layer:03d}"][1]), (group, layer)
                    assert a.shape[0] == 4
            h = sw.histogram(rid)
            assert h["columns"] == ["zero", "below", "above", "nan"]
            for k, ds in (("step", "step"), ("edges", "edges"), ("counts", "grad"),
                          ("outside", "grad_outside")):
                assert np.array_equal(h[k], g[f"hist/{ds}"][()]), k
            hd = sw.histogram(rid, "delta")
            assert np.array_equal(hd["counts"], g["hist/delta"][()])
            j = sw.jacobian(rid)
            assert set(j) == {"step", "sv", "mean_sq", "max"}
            for k in j:
                assert np.array_equal(j[k], g[f"jacobian/{k}"][()]), k
    rid = s.run_id[0]
    raises(KeyError, lambda: sw.tensor(rid, "grads", 0, 3), "step 3", "0, 4")
    raises(KeyError, lambda: sw.tensor(rid, "grads", 7, 0), "grads/W007")
    raises(KeyError, lambda: sw.tensor(rid, "weights", 0, 0, kind="gamma"), "weights/gamma000")
    raises(KeyError, lambda: sw.tensor("feedfacefeedface", "grads", 0, 0), "feedfacefeedface")
    raises(ValueError, lambda: sw.tensor(rid, "activations", 0, 0), "activations")
    raises(ValueError, lambda: sw.histogram(rid, "weights"), "weights")


def api(path):
    with open_sweep(path) as sw:
        assert sw._summary is None and not sw._files  # lazy: nothing read yet
        check_summary(sw, path)
        assert not sw._files  # the summary reads no run group
        check_filters(sw)
        check_layer_stats(sw, path)
        check_tensors(sw, path)
        files = list(sw._files.values())
    assert not any(f.id.valid for f in files), "context manager left files open"
    print(f"api: {len(sw.summary)} runs")


def dironly(index, dirpath):
    ref = h5_summary(index).sort_values("run_id").reset_index(drop=True)
    with open_sweep(dirpath) as sw:
        assert sw.spec == "" and sw.axes == ["activation", "sigma_w"], sw.axes
        got = sw.summary.sort_values("run_id").reset_index(drop=True)
        pd.testing.assert_frame_equal(got, ref)
        rid = got.run_id[0]
        with h5py.File(index, "r") as f:
            assert np.array_equal(sw.tensor(rid, "grads", 1, 4), f["runs"][rid]["grads/W001"][1])
    print(f"dironly: {len(got)} runs")


def shards(a, b):
    ra, rb = h5_summary(a), h5_summary(b)
    with open_sweep([a, b, a + ".d"]) as sw:  # the third is the first again: duplicates dropped
        s = sw.summary
        assert len(s) == len(ra) + len(rb) and s.run_id.is_unique
        assert sw.axes == ["activation", "sigma_w", "depth"], sw.axes
        assert list(s.run_id) == list(ra.run_id) + list(rb.run_id)
        assert (s.depth[: len(ra)] == 2).all() and (s.depth[len(ra):] == 3).all()
        three = sw.runs(depth=3)
        assert list(three.run_id) == list(rb.run_id)
        gn = sw.layer_stats("grad_norm", step=0, runs=three)
        assert gn.layer.max() == 3 and (gn.depth == 3).all()
        rid = rb.run_id[1]
        with h5py.File(b, "r") as f:
            assert np.array_equal(sw.tensor(rid, "grads", 3, 4), f["runs"][rid]["grads/W003"][1])
    print(f"shards: {len(s)} runs")


def badshards(a, b):
    raises(ValueError, lambda: open_sweep([a, b]), "master_seed", b, a)
    print("badshards: refused")


def bad_input(d):
    """A missing path, a file that is not HDF5, HDF5 that is not an output, a segment, a
    directory without a journal, a list with a missing shard: ValueError naming the path."""
    with h5py.File(f"{d}/plain.h5", "w") as f:
        f["x"] = [1, 2]
    os.makedirs(f"{d}/empty", exist_ok=True)
    with open(f"{d}/text.h5", "w") as f:
        f.write("not hdf5")
    for p, why in [(f"{d}/nope.h5", "no such file"), (f"{d}/plain.h5", "not a gradsweep output"),
                   (f"{d}/out.h5.d/seg-000001.h5", "a segment"), (f"{d}/text.h5", "not an HDF5"),
                   (f"{d}/empty", "no journal"), ([f"{d}/out.h5", f"{d}/nope.h5"], "nope.h5")]:
        name = p[-1] if isinstance(p, list) else p
        raises(ValueError, lambda: open_sweep(p), name, why)
    print("bad input: refused")


def main(d):
    out = f"{d}/out.h5"
    api(out)
    os.rename(out, f"{d}/moved.h5")  # the store directory alone gives the same summary
    try:
        dironly(f"{d}/moved.h5", f"{out}.d")
    finally:
        os.rename(f"{d}/moved.h5", out)
    shards(f"{d}/s2.h5", f"{d}/s3.h5")
    badshards(f"{d}/s2.h5", f"{d}/other.h5")
    bad_input(d)


def killed(path, ref_path):
    d = path + ".d"
    with open(os.path.join(d, "journal")) as f:
        lines = f.read().split("\n")[1:-1]
    journal = [r for line in lines for r in line.split()[1:]]
    indexed = set(h5_summary(path).run_id) if os.path.exists(path) else set()
    if not journal or len(indexed) >= len(journal):
        print(f"killed: journal {len(journal)} runs, index {len(indexed)}: no lag")
        return 3
    ref = h5_summary(ref_path)
    for p in (path, d):
        with open_sweep(p) as sw:
            s = sw.summary
            assert set(s.run_id) == set(journal), (len(s), len(journal))
            want = ref[ref.run_id.isin(journal)].reset_index(drop=True)
            if p == path:  # plan order from the spec, the values of the complete sweep
                pd.testing.assert_frame_equal(s, want)
            else:
                assert set(sw.axes) <= set(want.columns)
                fixed = [c for c in want.columns if c not in ("run_id", "depth", "activation",
                                                               "sigma_w")]
                cols = ["run_id"] + sw.axes + fixed
                pd.testing.assert_frame_equal(
                    s.sort_values("run_id").reset_index(drop=True)[cols],
                    want.sort_values("run_id").reset_index(drop=True)[cols])
            late = [r for r in journal if r not in indexed]
            gn = sw.layer_stats("grad_norm", step=0, runs=late)
            assert set(gn.run_id) == set(late)
    print(f"killed: journal {len(journal)} runs, index {len(indexed)}")
    return 0


if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    sys.exit({"main": main, "killed": killed}[cmd](*args) or 0)
