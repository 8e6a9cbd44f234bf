#!/usr/bin/python3
"""Write scikit-learn's bundled digits data set (1797 8x8 images of the digits 0-9, no download)
to an HDF5 file gradsweep reads with `data: {kind: hdf5, path: ..., x: /X, y: /y}`.

    /usr/bin/python3 analysis/digits_to_h5.py data/digits.h5

Datasets: /X float64 [1797, 64], pixel intensities 0..16 as in sklearn (use data.normalize: true
to standardize them); /y int32 [1797], labels 0..9. Needs Debian's python3-sklearn and python3-h5py.
"""
import os
import sys

import h5py
import numpy as np
from sklearn.datasets import load_digits


def main(argv):
    if len(argv) != 2:
        print("usage: digits_to_h5.py OUT.h5", file=sys.stderr)
        return 2
    out = argv[1]
    digits = load_digits()
    x = np.asarray(digits.data, dtype=np.float64)
    y = np.asarray(digits.target, dtype=np.int32)
    assert x.shape == (1797, 64) and y.shape == (1797,)
    if os.path.dirname(out):
        os.makedirs(os.path.dirname(out), exist_ok=True)
    tmp = out + ".tmp"
    with h5py.File(tmp, "w") as f:
        f["X"] = x
        f["y"] = y
        f.attrs["source"] = "sklearn.datasets.load_digits"
    os.replace(tmp, out)
    print(f"{out}: X {x.shape} float64, y {y.shape} int32, classes {int(y.max()) + 1}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
