# The Python reader (analysis/gradsweep/sweep.py, open_sweep): summary, filters, layer_stats,
# tensors, histograms and the Jacobian checked against h5py; a store directory without its
# index; a sweep killed mid-way (the journal lists runs the index lacks); two shards; bad input.
. "$(dirname "$0")/lib.sh"
need_h5py
"$PY" -c "import pandas" 2>/dev/null || { echo "skip: no pandas"; exit 77; }
d=$(scratch reader)
check=$GS_SOURCE_DIR/tests/reader_check.py
export PYTHONPATH=$GS_SOURCE_DIR/analysis
cat > "$d/r.yaml" <<'Y'
name: reader
seed: 5
replicates: 2
data: {kind: gaussian_mixture, classes: 3, dim: 5, samples: 48}
model: {depth: 2, width: 6, activation: [tanh, relu], sigma_w: [1.0, 2.5]}
train: {steps: 6, batch: 16, lr: 0.05}
record: {every: 2, grads: [0, 4], weights: true, level: full, hist: {bins: 8, min: -8, max: 1},
         probe_batch: 4, activations: true, deltas: true, jacobian: {inputs: 2}}
Y
expect_rc 0 "$GS_EXE" run "$d/r.yaml" -o "$d/out.h5" -q --commit-runs 3
# Shards of one sweep (same name and seed, a different fixed depth), and of another sweep.
expect_rc 0 "$GS_EXE" run "$d/r.yaml" -o "$d/s2.h5" -q model.depth=2 record.level=basic
expect_rc 0 "$GS_EXE" run "$d/r.yaml" -o "$d/s3.h5" -q model.depth=3 record.level=basic
expect_rc 0 "$GS_EXE" run "$d/r.yaml" -o "$d/other.h5" -q seed=6
"$PY" "$check" main "$d" || fail "reader checks (api, store directory, shards, bad input)"
# A sweep killed mid-way: every journaled run is in the summary, also those the index lacks.
cat > "$d/k.yaml" <<'Y'
name: killed
seed: 7
replicates: 1
data: {kind: gaussian_mixture, classes: 3, dim: 8, samples: 256}
model: {depth: [2, 4], width: 24, activation: [tanh, relu], sigma_w: [1.0, 2.0]}
train: {steps: 1000, batch: 32, lr: 0.05}
record: {every: 10, grads: [0]}
Y
expect_rc 0 "$GS_EXE" run "$d/k.yaml" -o "$d/ref.h5" -q -j 2
# Kill as soon as the journal holds two segments: the index (rewritten at the first commit, then
# at most every commit_seconds) lists one run at most.
rm -rf "$d/k.h5" "$d/k.h5.d"
"$GS_EXE" run "$d/k.yaml" -o "$d/k.h5" -q -j 1 --commit-runs 1 --commit-seconds 600 >/dev/null 2>&1 &
pid=$!
# Waits on progress, not on the clock (sanitizer builds are slow), with a 10-minute hang guard.
for _ in $(seq 60000); do
    [ "$(wc -l <"$d/k.h5.d/journal" 2>/dev/null || echo 0)" -ge 3 ] && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.01
done
kill -9 "$pid" 2>/dev/null || fail "the sweep ended before it could be killed"
wait "$pid" || true
"$PY" "$check" killed "$d/k.h5" "$d/ref.h5" || fail "reader on a killed sweep"
echo "it_reader: ok"
