#!/bin/bash
# The R readers (analysis/R/gradsweep.R) against h5py on a small sweep, their errors, and the
# figures script (analysis/R/figures.R). Skipped (77) without Rscript, hdf5r, ggplot2 or h5py.
source "$(dirname "$0")/lib.sh"
RS=${GS_RSCRIPT:-Rscript}
command -v "$RS" >/dev/null 2>&1 || { echo "skip: $RS not found"; exit 77; }
"$RS" -e 'library(hdf5r); library(ggplot2)' >/dev/null 2>&1 ||
    { echo "skip: R lacks hdf5r or ggplot2 (Debian r-cran-hdf5r, r-cran-ggplot2)"; exit 77; }
need_h5py
RDIR=$GS_SOURCE_DIR/analysis/R
d=$(scratch r_analysis)
mkdir -p "$d/out" "$d/elsewhere"

# depth x sigma_w x activation, a non-square first layer (5 -> 7) to catch a transposed tensor.
cat >"$d/r.yaml" <<'EOF'
name: rcheck
seed: 5
replicates: 1
data: {kind: gaussian_mixture, classes: 3, dim: 5, samples: 64}
model:
  depth: [1, 3]
  width: 7
  activation: [tanh, relu]
  init: normal
  sigma_w: [0.7, 2.0]
  sigma_b: 0.1
train: {steps: 10, batch: 16, lr: 0.05}
record:
  every: 2
  grads: [0, 4, 9]
  weights: true
  dtype: float32
EOF
(cd "$d/out" && "$GS_EXE" run ../r.yaml -o r.h5 -q >/dev/null) || fail "gradsweep run failed"
H5=../out/r.h5 # read from another directory: the external links resolve against the index

# 1. The readers dump what they read, at full precision, for h5py to compare.
cat >"$d/dump.R" <<EOF
source("$RDIR/gradsweep.R")
p <- "$H5"
s <- read_summary(p)
stopifnot(is.character(s\$run_id), is.character(s\$activation), is.character(s\$status))
writeLines(attr(s, "axes"), "axes.txt")
writeLines(names(s), "columns.txt")
full <- function(x) { # every double in %.17g, so the text gives back the same double
    for (c in names(x)) if (is.double(x[[c]])) x[[c]] <- sprintf("%.17g", x[[c]])
    x
}
write.csv(full(s), "summary.csv", row.names = FALSE)
write.csv(full(read_layer_stats(p, "grad_norm")), "grad_norm.csv", row.names = FALSE)
write.csv(full(read_layer_stats(p, "act_std", step = c(2, 8))), "act_std.csv", row.names = FALSE)
write.csv(full(read_layer_stats(p, "loss", step = 4)), "loss.csv", row.names = FALSE)
id <- s\$run_id[s\$depth == 3 & s\$activation == "tanh" & s\$sigma_w == 2][1]
w <- read_tensor(p, id, 0, 4)
writeLines(c(id, paste(dim(w), collapse = " ")), "tensor_meta.txt")
write.table(full(as.data.frame(w)), "grads_W000_s4.csv", sep = ",", quote = FALSE,
            row.names = FALSE, col.names = FALSE)
write.table(full(as.data.frame(read_tensor(p, id, 2, 9, group = "weights"))), "weights_W002_s9.csv", sep = ",", quote = FALSE,
            row.names = FALSE, col.names = FALSE)
writeLines(sprintf("%.17g", read_tensor(p, id, 3, 0, kind = "b")), "grads_b003_s0.txt")
EOF
(cd "$d/elsewhere" && "$RS" ../dump.R) || fail "R readers failed"

"$PY" - "$d/out/r.h5" "$d/elsewhere" <<'EOF' || fail "R readers disagree with h5py"
import csv, math, sys
import h5py, numpy as np
path, rdir = sys.argv[1], sys.argv[2]
f = h5py.File(path, "r")
summ = f["summary"][()]
def rows(name):
    with open(f"{rdir}/{name}") as fh:
        return list(csv.DictReader(fh))
def same(a, b):
    return (math.isnan(a) and math.isnan(b)) or a == b
def num(v):
    return float("nan") if v in ("NA", "NaN") else float(v)
ids = [x.decode() for x in summ["run_id"]]
axes = [a if isinstance(a, str) else a.decode() for a in f["summary"].attrs["axes"]]
assert open(f"{rdir}/axes.txt").read().split() == axes, axes
assert open(f"{rdir}/columns.txt").read().split() == list(summ.dtype.names)
s = rows("summary.csv")
assert [r["run_id"] for r in s] == ids, "run ids differ"
for r, h in zip(s, summ):
    assert r["activation"] == h["activation"].decode()
    assert int(r["depth"]) == h["depth"] and float(r["sigma_w"]) == h["sigma_w"]
    assert float(r["final_loss"]) == h["final_loss"], (r["final_loss"], h["final_loss"])
    assert int(r["seed"]) == h["seed"] and r["verdict"] == h["verdict"].decode()
print(f"summary: {len(ids)} runs, axes {axes}, final_loss exact")

def check_stats(name, steps=None, per_layer=True):
    got = rows(f"{name}.csv")
    n = 0
    for rid in ids:
        run = f["runs"][rid]
        st = run["step"][()]
        data = run[name][()]
        mine = [r for r in got if r["run_id"] == rid]
        t_sel = [t for t in range(len(st)) if steps is None or st[t] in steps]
        want = [(int(st[t]), l, data[t, l] if per_layer else data[t])
                for t in t_sel for l in (range(data.shape[1]) if per_layer else [None])]
        assert len(mine) == len(want), (name, rid, len(mine), len(want))
        for r, (step, l, v) in zip(mine, want):
            assert int(r["step"]) == step and (r["layer"] == "NA" if l is None else int(r["layer"]) == l)
            assert same(num(r["value"]), float(v)), (name, rid, step, l, r["value"], v)
            n += 1
    # the axis columns ride along with every row
    for r in got:
        h = summ[ids.index(r["run_id"])]
        assert r["activation"] == h["activation"].decode() and int(r["depth"]) == h["depth"]
    return n
n = check_stats("grad_norm")
print(f"grad_norm [T, L]: {n} values equal")
n = check_stats("act_std", steps={2, 8})
print(f"act_std [T, H] at steps 2, 8: {n} values equal")
n = check_stats("loss", steps={4}, per_layer=False)
print(f"loss [T] at step 4: {n} values equal")
# a deep run's layers differ, so a transposed [T, L] read cannot pass
deep = [rid for rid in ids if f["runs"][rid]["grad_norm"].shape[1] == 4][0]
gn = f["runs"][deep]["grad_norm"][()]
assert len(set(np.round(gn[0], 12))) == 4

rid, dims = open(f"{rdir}/tensor_meta.txt").read().split("\n")[:2]
run = f["runs"][rid]
w = np.loadtxt(f"{rdir}/grads_W000_s4.csv", delimiter=",")
s4 = list(run["grads/step"][()]).index(4)
ref = run["grads/W000"][s4].astype(np.float64)
assert dims == "7 5" and ref.shape == (7, 5), (dims, ref.shape)  # [fan_out, fan_in]
assert np.array_equal(w, ref), "grads/W000 differs"
w2 = np.loadtxt(f"{rdir}/weights_W002_s9.csv", delimiter=",")
s9 = list(run["weights/step"][()]).index(9)
assert np.array_equal(w2, run["weights/W002"][s9].astype(np.float64)), "weights/W002 differs"
b = np.array([float(x) for x in open(f"{rdir}/grads_b003_s0.txt").read().split()])
assert np.array_equal(b, run["grads/b003"][0].astype(np.float64)), "grads/b003 differs"
print(f"read_tensor: grads/W000 [7, 5] at step 4, weights/W002 at step 9, grads/b003 exact")
EOF

# 2. Errors name what is missing.
cd "$d/elsewhere"
id=$(sed -n 1p tensor_meta.txt)
expect_rc 1 "$RS" -e "source('$RDIR/gradsweep.R'); read_tensor('$H5', '$id', 0, 3)"
expect_out "has no grads snapshot at step 3; available steps: 0, 4, 9"
expect_rc 1 "$RS" -e "source('$RDIR/gradsweep.R'); read_tensor('$H5', '$id', 4, 0)"
expect_out "has no grads/W004 (it has: W000 W001 W002 W003)"
expect_rc 1 "$RS" -e "source('$RDIR/gradsweep.R'); read_tensor('$H5', 'ffff', 0, 0)"
expect_out "no run 'ffff'"
expect_rc 1 "$RS" -e "source('$RDIR/gradsweep.R'); read_layer_stats('$H5', 'no_such')"
expect_out "no run has a dataset 'no_such'"
expect_rc 1 "$RS" -e "source('$RDIR/gradsweep.R'); read_summary('$d/out/r.h5.d/seg-000001.h5')"
expect_out "not a gradsweep index"
expect_rc 1 "$RS" -e "source('$RDIR/gradsweep.R'); read_summary('missing.h5')"
expect_out "missing.h5: no such file"

# 3. Figures: both PNGs, and the critical sigma_w of gradsweep theory, on the right side of chi1.
expect_rc 2 "$RS" "$RDIR/figures.R" "$H5"
expect_out "usage:"
GS_EXE=$GS_EXE "$RS" "$RDIR/figures.R" "$H5" figs >fig.log 2>&1 || { cat fig.log; fail "figures.R failed"; }
for png in figs/fig1_grad_norm_per_layer.png figs/fig2_phase_diagram.png; do
    [ -s "$png" ] || fail "$png missing or empty"
    [ "$(head -c 4 "$png" | tail -c 3)" = PNG ] || fail "$png is not a PNG"
done
want=$("$GS_EXE" theory --critical tanh --sigma-b 0.1 --csv | awk -F, 'NR == 2 {print $3}')
"$PY" - figs/fig2_critical_sigma_w.csv "$d/out/r.h5" "$want" <<'EOF' || fail "critical line wrong"
import csv, sys
import h5py
rows = {r["panel"]: r for r in csv.DictReader(open(sys.argv[1]))}
assert set(rows) == {"tanh", "relu"}, rows
assert float(rows["tanh"]["sigma_w"]) == float(sys.argv[3]), (rows["tanh"], sys.argv[3])
assert abs(float(rows["relu"]["sigma_w"]) - 2 ** 0.5) < 1e-12
for h in h5py.File(sys.argv[2], "r")["summary"][()]:
    crit = float(rows[h["activation"].decode()]["sigma_w"])
    assert (h["chi1"] < 1) == (h["sigma_w"] < crit), (h["activation"], h["sigma_w"], h["chi1"])
print("critical sigma_w:", {k: r["sigma_w"] for k, r in rows.items()}, "consistent with chi1")
EOF
# without a gradsweep binary the figures are still drawn, with a note instead of the line
GS_EXE= PATH=/usr/bin:/bin "$RS" "$RDIR/figures.R" "$H5" figs2 >fig2.log 2>&1 ||
    { cat fig2.log; fail "figures.R without GS_EXE failed"; }
grep -q "no critical line: gradsweep binary not found" fig2.log || fail "no note: $(cat fig2.log)"
[ -s figs2/fig2_phase_diagram.png ] && [ ! -e figs2/fig2_critical_sigma_w.csv ] ||
    fail "figs2 wrong: $(ls figs2)"
echo "PASS: R readers match h5py; errors; figures $(stat -c %s figs/*.png | tr '\n' ' ')bytes"
