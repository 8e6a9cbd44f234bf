# Training on data from an HDF5 file: a relative data.path resolves against the spec's directory;
# classification (int labels) and regression (float targets); bad files fail with exit 1 and a
# message naming the file and the dataset.
. "$(dirname "$0")/lib.sh"
need_h5py
d=$(scratch hdf5data)
mkdir -p "$d/specs/data" "$d/elsewhere"
"$PY" - "$d/specs/data/set.h5" <<'PY'
import sys, h5py, numpy as np
rng = np.random.default_rng(0)
x = rng.normal(size=(300, 7)).astype(np.float32)
with h5py.File(sys.argv[1], "w") as f:
    f["X"] = x
    f["labels"] = (x[:, 0] > 0).astype(np.int32) + 2 * (x[:, 1] > 0).astype(np.int32)
    f["targets"] = np.stack([x[:, 0] * x[:, 1], np.sin(x[:, 2])], axis=1)
    xn = x.copy(); xn[5, 3] = np.nan
    f["Xnan"] = xn
    f["short"] = np.zeros(10, dtype=np.int32)
PY
cat > "$d/specs/h5.yaml" <<'Y'
name: h5
seed: 5
data: {kind: hdf5, path: data/set.h5, x: /X, y: /labels}
model: {depth: [1, 3], width: 16, activation: relu}
train: {steps: 100, batch: 32, lr: 0.1, loss: [cross_entropy, mse]}
record: {grads: [0, 99]}
Y
cd "$d/elsewhere"
expect_rc 0 "$GS_EXE" run ../specs/h5.yaml -o out.h5 -q
expect_out "4 of 4 runs"
"$PY" - out.h5 <<'PY' || fail "hdf5 data: stored shapes"
import sys, h5py
with h5py.File(sys.argv[1], "r") as f:
    for rid in f["runs"]:
        g = f["runs"][rid]
        assert g.attrs["d_in"] == 7 and g.attrs["d_out"] == 4, dict(g.attrs)
        assert g["grads/W000"].shape == (2, 16, 7)
        assert g.attrs["data.path"] == "data/set.h5"
        assert g["loss"][-1] < g["loss"][0], "loss did not decrease"
PY
# Regression targets with mse.
expect_rc 0 "$GS_EXE" run ../specs/h5.yaml -o reg.h5 -q data.y=/targets train.loss=mse
expect_out "2 of 2 runs"
# Errors name the file and the dataset; nothing is trained.
expect_rc 1 "$GS_EXE" run ../specs/h5.yaml -o e1.h5 -q data.y=/targets train.loss=cross_entropy
expect_out "set.h5: /targets: train.loss cross_entropy needs integer labels"
expect_rc 1 "$GS_EXE" run ../specs/h5.yaml -o e2.h5 -q data.x=/Xnan
expect_out "set.h5: /Xnan: non-finite value nan"
expect_rc 1 "$GS_EXE" run ../specs/h5.yaml -o e3.h5 -q data.y=/short
expect_out "/short: 10 rows, but /X has 300"
expect_rc 1 "$GS_EXE" run ../specs/h5.yaml -o e4.h5 -q data.path=nowhere.h5
expect_out "nowhere.h5"
expect_rc 1 "$GS_EXE" run ../specs/h5.yaml -o e5.h5 -q train.batch=301
expect_out "train.batch 301 exceeds the 300 samples"
for e in e1 e2 e3 e4 e5; do [ ! -e $e.h5 ] && [ ! -e $e.h5.d ] || fail "$e: a failed run left an output"; done
echo "it_hdf5data: ok"
