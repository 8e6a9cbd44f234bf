"""Compare two gradsweep outputs run by run, bitwise.

usage: h5compare.py A.h5 B.h5 [--subset]
Every run of A must be in B with identical attributes and datasets (bytes, NaN included) and an
identical /summary row. Without --subset, B must hold no other runs. Both files must list each run
exactly once in /summary, in /runs and in their journal. Exit 0 when equal, 1 with a reason."""
import os
import sys

import h5py
import numpy as np

VOLATILE = {"created", "command_line", "hostname"}


def fail(msg):
    print("h5compare: " + msg)
    sys.exit(1)


def journal_ids(path):
    jpath = path + ".d/journal"
    ids = []
    with open(jpath) as f:
        lines = f.read().split("\n")
    for line in lines[1:]:
        if line.strip():
            ids.extend(line.split()[1:])
    if len(ids) != len(set(ids)):
        fail(f"{jpath}: a run is journaled twice")
    return set(ids)


def same_value(a, b):
    a, b = np.asarray(a), np.asarray(b)
    if a.dtype == object or b.dtype == object:  # variable-length strings: compare the text
        return a.dtype == b.dtype and a.shape == b.shape and a.tolist() == b.tolist()
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()


def compare_obj(pa, pb, name):
    if dict(pa.attrs).keys() != dict(pb.attrs).keys():
        fail(f"{name}: attribute names differ: {sorted(pa.attrs)} vs {sorted(pb.attrs)}")
    for k in pa.attrs:
        if k in VOLATILE:
            continue
        if k == "DIMENSION_LIST" or k == "REFERENCE_LIST":
            continue
        if not same_value(pa.attrs[k], pb.attrs[k]):
            fail(f"{name}: attribute {k} differs: {pa.attrs[k]!r} vs {pb.attrs[k]!r}")
    if isinstance(pa, h5py.Dataset):
        if not isinstance(pb, h5py.Dataset):
            fail(f"{name}: dataset vs group")
        if pa.dtype != pb.dtype or pa.shape != pb.shape:
            fail(f"{name}: {pa.dtype}{pa.shape} vs {pb.dtype}{pb.shape}")
        if pa[()].tobytes() != pb[()].tobytes():
            fail(f"{name}: data differ")
        return
    if sorted(pa.keys()) != sorted(pb.keys()):
        fail(f"{name}: members differ: {sorted(pa.keys())} vs {sorted(pb.keys())}")
    for k in pa.keys():
        compare_obj(pa[k], pb[k], f"{name}/{k}")


def check_once(f, path):
    ids = [r.decode() if isinstance(r, bytes) else r for r in f["summary"]["run_id"]]
    if len(ids) != len(set(ids)):
        fail(f"{path}: /summary lists a run twice")
    if set(ids) != set(f["runs"].keys()):
        fail(f"{path}: /summary and /runs disagree")
    if set(ids) != journal_ids(path):
        fail(f"{path}: journal and /summary disagree")
    return ids


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    subset = "--subset" in sys.argv
    a_path, b_path = args
    with h5py.File(a_path, "r") as fa, h5py.File(b_path, "r") as fb:
        ids_a, ids_b = check_once(fa, a_path), check_once(fb, b_path)
        if not subset and set(ids_a) != set(ids_b):
            fail(f"run sets differ: {len(ids_a)} vs {len(ids_b)} runs")
        if not set(ids_a) <= set(ids_b):
            fail(f"{len(set(ids_a) - set(ids_b))} runs of A missing from B")
        sa, sb = fa["summary"][()], fb["summary"][()]
        rows_b = {r["run_id"]: r for r in sb}
        for r in sa:
            rb = rows_b[r["run_id"]]
            for col in r.dtype.names:
                if col in sb.dtype.names and not same_value(r[col], rb[col]):
                    fail(f"summary {r['run_id']}: column {col} differs")
        for rid in ids_a:
            compare_obj(fa["runs"][rid], fb["runs"][rid], f"/runs/{rid}")
        if not subset:
            for k in fa.attrs:
                if k not in VOLATILE and not same_value(fa.attrs[k], fb.attrs[k]):
                    fail(f"root attribute {k} differs")
    print(f"h5compare: {len(ids_a)} runs identical")


if __name__ == "__main__":
    main()
