# Training on MNIST idx files through the CLI: plain and gzip files (generated here), paths
# relative to the spec's directory, data.limit and data.normalize; a bad file fails the sweep
# with exit 1 and a message naming the file and field, before any training.
. "$(dirname "$0")/lib.sh"
need_h5py
d=$(scratch idxdata)
mkdir -p "$d/specs/data" "$d/elsewhere"
"$PY" - "$d/specs/data" <<'PY'
import gzip, struct, sys
import numpy as np
rng = np.random.default_rng(0)
n = 120
y = rng.integers(0, 10, size=n).astype(np.uint8)
x = (rng.random((n, 4, 4)) * 60).astype(np.uint8)
x[np.arange(n), y % 4, y // 4 % 4] = 255          # a label-dependent bright pixel
img = struct.pack(">IIII", 0x803, n, 4, 4) + x.tobytes()
lab = struct.pack(">II", 0x801, n) + y.tobytes()
d = sys.argv[1]
open(f"{d}/img", "wb").write(img)
open(f"{d}/lab", "wb").write(lab)
with gzip.open(f"{d}/img.gz", "wb") as f: f.write(img)
with gzip.open(f"{d}/lab.gz", "wb") as f: f.write(lab)
open(f"{d}/img.cut", "wb").write(img[:100])
bad = bytearray(lab); bad[8 + 7] = 12
open(f"{d}/lab.bad", "wb").write(bytes(bad))
PY
cat > "$d/specs/idx.yaml" <<'Y'
name: idx
seed: 3
data: {kind: mnist_idx, images: [data/img, data/img.gz], labels: data/lab.gz, limit: 100,
       normalize: [false, true]}
model: {depth: 1, width: 16, activation: relu}
train: {steps: 60, batch: 20, lr: 0.1}
Y
cd "$d/elsewhere"
expect_rc 0 "$GS_EXE" run ../specs/idx.yaml -o out.h5 -q
expect_out "4 of 4 runs"
"$PY" - out.h5 <<'PY' || fail "idx data: stored runs"
import sys, h5py
with h5py.File(sys.argv[1], "r") as f:
    by = {}
    for rid in f["runs"]:
        g = f["runs"][rid]
        assert g.attrs["d_in"] == 16 and g.attrs["d_out"] == 10, dict(g.attrs)
        assert g["loss"][-1] < g["loss"][0], "loss did not decrease"
        img = g.attrs["data.images"]; img = img.decode() if isinstance(img, bytes) else img
        nz = g.attrs["data.normalize"]; nz = nz.decode() if isinstance(nz, bytes) else nz
        by.setdefault(nz, set()).add(img)
    assert by == {"false": {"data/img", "data/img.gz"}, "true": {"data/img", "data/img.gz"}}, by
PY
expect_rc 1 "$GS_EXE" run ../specs/idx.yaml -o e1.h5 -q data.images=data/img.cut
expect_out "img.cut: pixels: truncated"
expect_rc 1 "$GS_EXE" run ../specs/idx.yaml -o e2.h5 -q data.labels=data/lab.bad
expect_out "lab.bad: labels[7]: 12 out of range 0..9"
expect_rc 1 "$GS_EXE" run ../specs/idx.yaml -o e3.h5 -q data.labels=data/img
expect_out "img: magic: 0x00000803, expected 0x00000801"
expect_rc 1 "$GS_EXE" run ../specs/idx.yaml -o e4.h5 -q data.labels=data/nope
expect_out "data/nope: data.labels: cannot open"
[ ! -e e1.h5 ] && [ ! -e e2.h5 ] || fail "a bad data file created an output"
echo "ok"
