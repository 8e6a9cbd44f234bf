#!/usr/bin/env bash
# gradsweep report / python3 -m gradsweep.report: a small depth x sigma_w x activation sweep with
# snapshots, histograms, Jacobian spectra and an eval split gets all eight figures (valid PNGs,
# referenced by index.html with the spec); a single configuration gets the figures it allows and
# the reasons for the others; the CLI's errors (missing file, not an output, usage, a Python
# without the packages).
. "$(dirname "$0")/lib.sh"
"$PY" -c "import h5py, numpy, pandas, matplotlib" 2>/dev/null ||
    { echo "skip: $PY lacks h5py/numpy/pandas/matplotlib"; exit 77; }
[ -f "$GS_SOURCE_DIR/analysis/gradsweep/__init__.py" ] ||
    { echo "skip: the gradsweep package (reader) is not in analysis/ yet"; exit 77; }
"$GS_EXE" report --help >/dev/null 2>&1 || { echo "skip: gradsweep has no report command"; exit 77; }
d=$(scratch report)

cat >"$d/grid.yaml" <<'EOF'
name: rgrid
seed: 11
data: {kind: gaussian_mixture, classes: 3, dim: 6, samples: 96}
model:
  depth: [2, 5]
  width: 8
  activation: [tanh, relu]
  sigma_w: [0.7, 1.6]
  sigma_b: 0.05
train: {steps: 20, batch: 16, lr: 0.05, eval_fraction: 0.25}
record:
  every: 2
  grads: [0, 19]
  hist: {bins: 20, every: 10}
  jacobian: {inputs: 2}
EOF
expect_rc 0 "$GS_EXE" run "$d/grid.yaml" -o "$d/grid.h5" -q -j 2

# the full report, default directory grid.h5 -> grid_report
expect_rc 0 "$GS_EXE" report "$d/grid.h5"
expect_out "8 figures, 0 not drawn"
html=$d/grid_report/index.html
[ -s "$html" ] || fail "no $html"
for f in grad_profile phase_diagram trainability loss_curves grad_histograms unit_fractions \
    jacobian_spectrum update_ratio; do
    png=$d/grid_report/$f.png
    [ -s "$png" ] || fail "$f.png missing or empty"
    [ "$(head -c 8 "$png" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] ||
        fail "$f.png is not a PNG"
    grep -qF "<img src='$f.png'" "$html" || fail "index.html does not show $f.png"
done
# the spec (escaped), the counts, the table, the source of the critical line
for s in 'name: &quot;rgrid&quot;' 'hist: {bins: 20, every: 10, min: -12, max: 2}' \
    'Status: ok 8.' '<th>sigma_w</th>' '<td>relu</td><td>1.6</td>' \
    '`gradsweep theory --critical`' 'held-out accuracy'; do
    grep -qF -- "$s" "$html" || fail "index.html lacks '$s'"
done

# a single configuration: no phase diagram or trainability map, and the reasons
cat >"$d/one.yaml" <<'EOF'
name: rone
seed: 2
data: {kind: gaussian_mixture, classes: 3, dim: 5, samples: 64}
model: {depth: 3, width: 8, activation: tanh}
train: {steps: 10, batch: 16, lr: 0.05}
record: {every: 1}
EOF
expect_rc 0 "$GS_EXE" run "$d/one.yaml" -o "$d/one.h5" -q
expect_rc 0 "$GS_EXE" report "$d/one.h5" -o "$d/one" --step 0 --step 7
expect_out "4 figures, 4 not drawn"
grep -qF "at steps 0, 7," "$d/one/index.html" || fail "--step 0 --step 7 not in figure 1"
for s in "Not drawn: σ_w is not swept: a phase diagram needs at least two σ_w values (this sweep has 1 configuration(s))" \
    "Not drawn: neither depth nor σ_w is swept" \
    "Not drawn: neither record.hist histograms nor record.grads snapshots were recorded" \
    "Not drawn: record.jacobian is off"; do
    grep -qF -- "$s" "$d/one/index.html" || fail "one/index.html lacks '$s'"
done
[ ! -e "$d/one/phase_diagram.png" ] || fail "a phase diagram for a single configuration"
for f in grad_profile loss_curves unit_fractions update_ratio; do
    [ -s "$d/one/$f.png" ] || fail "one: $f.png missing"
done

# the critical sigma_w without the binary: interpolated where chi1 crosses 1 (relu: exactly
# sqrt 2, as chi1 = sigma_w^2 / 2 is a power law); the resolved spec's scalar keys
PYTHONPATH=$GS_SOURCE_DIR/analysis "$PY" - <<'EOF' || fail "report helpers"
import math, pandas as pd
from gradsweep.report import interp_critical, spec_section, default_outdir
df = pd.DataFrame({"sigma_w": [1.0, 1.2, 1.6, 2.0]}).assign(chi1=lambda d: d.sigma_w ** 2 / 2)
assert abs(interp_critical(df) - math.sqrt(2)) < 1e-12, interp_critical(df)
assert math.isnan(interp_critical(df[df.sigma_w > 1.5]))
m = spec_section('name: "x"\nmodel:\n  depth: [2, 5]\n  width: 8\n  sigma_b: 0.05\n'
                 '  init: normal\ntrain:\n  steps: 3\n', "model")
assert m == {"width": 8, "sigma_b": 0.05, "init": "normal"}, m
assert default_outdir("a/b.h5") == "a/b_report" == default_outdir("a/b.h5.d/")
EOF

# CLI errors
expect_rc 2 "$GS_EXE" report "$d/nope.h5"
expect_out "nope.h5: No such file or directory"
expect_rc 2 "$GS_EXE" report
expect_out "usage: gradsweep report"
expect_rc 2 "$GS_EXE" report "$d/grid.h5" --bogus
expect_out "unexpected argument '--bogus'"
expect_rc 2 "$GS_EXE" report "$d/grid.h5" --step x
expect_out "--step 'x'"
echo "not hdf5" >"$d/text.h5"
expect_rc 2 "$GS_EXE" report "$d/text.h5"
expect_out "text.h5"
# a Python without the packages (no site-packages: -S), and one that does not exist
printf '#!/bin/sh\nexec %s -S "$@"\n' "$PY" >"$d/barepy"
chmod +x "$d/barepy"
GS_PYTHON=$d/barepy expect_rc 1 "$GS_EXE" report "$d/grid.h5"
expect_out "apt-get install python3-h5py python3-numpy python3-pandas python3-matplotlib"
GS_PYTHON=$d/no-such-python expect_rc 1 "$GS_EXE" report "$d/grid.h5"
expect_out "apt-get install"
GS_ANALYSIS_DIR=$d expect_rc 1 "$GS_EXE" report "$d/grid.h5"
expect_out "set GS_ANALYSIS_DIR"
echo "it_report: ok"
