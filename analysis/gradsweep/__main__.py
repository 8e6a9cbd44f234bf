"""Command line of the gradsweep reader (Debian's interpreter: /usr/bin/python3):
    PYTHONPATH=analysis python3 -m gradsweep summary OUT.h5 [OUT2.h5 ...]
    PYTHONPATH=analysis python3 -m gradsweep profile OUT.h5 -o profile.png [--step 0] [--where depth=32 ...]
OUT.h5 may also be the store directory OUT.h5.d (a sweep without its index, or still running).
Exit 0; 1 with a message for a path that is not a gradsweep output or a filter that matches
nothing."""
import argparse
import sys

from . import open_sweep, profile


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python3 -m gradsweep",
                                 description="Read a gradsweep output (docs/schema.md).")
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("summary", help="print the summary table, status and verdict counts")
    s.add_argument("path", nargs="+", help="OUT.h5 or OUT.h5.d; several: shards of one sweep")
    p = sub.add_parser("profile", help="per-layer gradient norm profile figure")
    p.add_argument("path")
    p.add_argument("-o", "--out", default="profile.png")
    p.add_argument("--step", type=int, default=0)
    p.add_argument("--where", action="append", default=[], help="column=value filter")
    a = ap.parse_args(argv)
    try:
        if a.cmd == "summary":
            with open_sweep(a.path if len(a.path) > 1 else a.path[0]) as sw:
                runs = sw.summary
            print(runs.to_string(index=False, max_rows=60))
            print("\nstatus counts:", runs["status"].value_counts().to_dict())
            if (runs["verdict"] != "").any():  # "" for runs written before verdicts
                print("verdict counts:", runs["verdict"].value_counts().to_dict())
        else:
            print(profile(a.path, a.out, a.step, a.where))
    except ValueError as e:
        print(f"gradsweep: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
