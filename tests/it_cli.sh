# CLI behaviour: help, version, exit codes, refusal of existing/busy outputs, list and dry-run.
. "$(dirname "$0")/lib.sh"
d=$(scratch cli)
spec=$SPECS/small.yaml
expect_rc 0 "$GS_EXE" --version;            expect_out "gradsweep 0."
expect_rc 0 "$GS_EXE" --help;               expect_out "run SPEC"
expect_rc 0 "$GS_EXE" run --help;           expect_out "--resume"; expect_out "relu"
expect_rc 0 "$GS_EXE" list --help;          expect_out "--csv"
expect_rc 2 "$GS_EXE";                      expect_out "usage"
expect_rc 2 "$GS_EXE" frobnicate;           expect_out "unknown command 'frobnicate'"
expect_rc 2 "$GS_EXE" run;                  expect_out "usage: gradsweep run"
expect_rc 2 "$GS_EXE" run "$spec" --bogus;  expect_out "unknown or incomplete option '--bogus'"
expect_rc 2 "$GS_EXE" run "$spec" -j 0;     expect_out "thread count"
expect_rc 2 "$GS_EXE" run "$spec" --resume --force; expect_out "exclude each other"
expect_rc 2 "$GS_EXE" run "$d/missing.yaml" -o "$d/x.h5"; expect_out "missing.yaml"
# Spec errors: exit 2, file:line and a suggestion.
printf 'name: bad\nmodel:\n  depth: 2\n  width: 8\n  activaton: tanh\ntrain: {steps: 5}\n' > "$d/bad.yaml"
expect_rc 2 "$GS_EXE" run "$d/bad.yaml" -o "$d/bad.h5"
expect_out "bad.yaml:5"; expect_out "did you mean 'activation'"
expect_rc 2 "$GS_EXE" list "$spec" model.activaton=tanh; expect_out "did you mean 'model.activation'"
# list: one row per run, csv header, axis columns.
expect_rc 0 "$GS_EXE" list "$spec" --csv
[ "$(wc -l <<<"$OUT")" = 25 ] || fail "list --csv: expected 25 lines, got $(wc -l <<<"$OUT")"
expect_out "index,run_id,seed,replicate,model.depth,model.activation,model.sigma_w"
expect_rc 0 "$GS_EXE" list "$spec" model.depth=4
[ "$(wc -l <<<"$OUT")" = 9 ] || fail "list with override: expected 9 lines"
# dry-run: counts, flops and size, and it writes nothing.
expect_rc 0 "$GS_EXE" run "$spec" -o "$d/dry.h5" --dry-run
expect_out "24 runs"; expect_out "FLOP"; expect_out "estimated output"; expect_out "estimated memory"
[ ! -e "$d/dry.h5" ] || fail "--dry-run wrote the output"
# Output budget: per-run sizes in the dry run, a limit that refuses before anything is created,
# --force-output, bad sizes.
expect_rc 0 "$GS_EXE" run "$spec" -o "$d/dry.h5" --dry-run record.hist.bins=20 record.activations=true
expect_out "in all before compression; per run"; expect_out " smallest, "; expect_out " median, "
expect_out " largest (run "; expect_out "histograms"
one="model.depth=1 model.activation=tanh model.sigma_w=0.8 replicates=1"
expect_rc 0 "$GS_EXE" list "$spec" --csv $one
id=$(tail -1 <<<"$OUT" | cut -d, -f2)
expect_rc 0 "$GS_EXE" run "$spec" -o "$d/dry.h5" --dry-run --max-output 1k $one
expect_out "over the limit:    1 runs above --max-output 1 kB, the largest run $id"
[ ! -e "$d/dry.h5" ] || fail "--dry-run wrote the output"
expect_rc 2 "$GS_EXE" run "$spec" -o "$d/sub/big.h5" -q --max-output 20K $one
expect_out "gradsweep: run $id would write about"; expect_out "more than --max-output 20 kB"
expect_out "grads snapshots"; expect_out "--force-output"
[ ! -e "$d/sub" ] || fail "a refused run created $d/sub"
expect_rc 2 "$GS_EXE" run "$spec" -o "$d/big.h5" -q --max-output 1k
expect_out "runs are over the limit"
expect_rc 0 "$GS_EXE" run "$spec" -o "$d/sub/big.h5" -q --max-output 20K --force-output $one
[ -e "$d/sub/big.h5" ] || fail "--force-output did not write the output"
expect_rc 0 "$GS_EXE" run "$spec" -o "$d/big2.h5" -q --max-output 50M $one
for bad in 0 -5G 5X 1e9 ""; do
    expect_rc 2 "$GS_EXE" run "$spec" -o "$d/x.h5" --max-output "$bad"
    expect_out "--max-output: expected a size > 0 in bytes"
done
[ ! -e "$d/x.h5" ] || fail "a bad --max-output wrote the output"
expect_rc 0 "$GS_EXE" run --help; expect_out "--max-output SIZE"; expect_out "powers of"
expect_out "--force-output"; expect_out "record.jacobian"; expect_out "train.stop_on"
# Record keys and train.stop_on on the command line; a snapshot step past the run is an error.
expect_rc 0 "$GS_EXE" list "$spec" --csv $one 'train.stop_on=[],[dead,diverged]'
expect_out ',train.stop_on'; expect_out ',"diverged,dead"'
[ "$(sed -n 2p <<<"$OUT" | cut -d, -f2)" = "$id" ] || fail "stop_on [] changed the run id"
expect_rc 2 "$GS_EXE" list "$spec" train.stop_on=healthy; expect_out "'healthy' cannot stop a run"
expect_rc 2 "$GS_EXE" list "$spec" record.level=ful; expect_out "did you mean 'full'"
expect_rc 2 "$GS_EXE" run "$spec" -o "$d/x.h5" train.steps=30
expect_out "record.grads: step 59 is beyond train.steps = 30"
# Architecture keys: the example spec lists and dry-runs; per-layer widths on the command line.
arch=$GS_SOURCE_DIR/experiments/architectures.yaml
expect_rc 0 "$GS_EXE" list "$arch" --csv
[ "$(wc -l <<<"$OUT")" = 9 ] || fail "architectures: expected 9 lines, got $(wc -l <<<"$OUT")"
expect_out "index,run_id,seed,replicate,model.norm,model.residual_every,train.dtype"
expect_rc 0 "$GS_EXE" run "$arch" -o "$d/arch.h5" --dry-run; expect_out "8 runs"
[ ! -e "$d/arch.h5" ] || fail "--dry-run wrote the output"
expect_rc 0 "$GS_EXE" run --help; expect_out "integer | {layers: [w1, ...]}"
expect_rc 0 "$GS_EXE" list "$spec" --csv model.depth=3 'model.width=12,[12,6,12]'
expect_out ',"[12,6,12]"'
expect_rc 2 "$GS_EXE" list "$spec" 'model.width=[12,6]'
expect_out "command line: model.width=[12,6]: 2 layer widths [12,6], but model.depth is 1"
expect_rc 2 "$GS_EXE" list "$arch" 'model.width=[32,64,16,16,32]'
expect_out "architectures.yaml:13: model.residual_every: 2: the residual block of hidden layers"
# A stored layer list reads back: --resume with a spec that lacks the run names it.
expect_rc 0 "$GS_EXE" run "$spec" -o "$d/w.h5" -q model.depth=2 'model.width=[12,12]' \
    model.activation=tanh model.sigma_w=0.8 replicates=1
expect_rc 2 "$GS_EXE" run "$spec" -o "$d/w.h5" -q --resume model.depth=2 model.width=12 \
    model.activation=tanh model.sigma_w=0.8 replicates=1
expect_out "with model.width=[12,12] (the spec has 12)"
# An existing output is refused without --resume/--force, replaced with --force.
expect_rc 0 "$GS_EXE" run "$spec" -o "$d/o.h5" -q model.depth=1
expect_rc 2 "$GS_EXE" run "$spec" -o "$d/o.h5" -q model.depth=1; expect_out "--force"
expect_rc 0 "$GS_EXE" run "$spec" -o "$d/o.h5" -q --force model.depth=3
expect_rc 0 "$GS_EXE" run "$spec" -o "$d/o.h5" -q --resume model.depth=3
expect_out "8 of 8 runs"
# A second process on the same output is refused while the first holds it.
"$GS_EXE" run "$SPECS/resume.yaml" -o "$d/busy.h5" -j 1 -q >/dev/null 2>&1 &
pid=$!
for _ in $(seq 50); do [ -e "$d/busy.h5.d/lock" ] && break; sleep 0.1; done
expect_rc 1 "$GS_EXE" run "$SPECS/resume.yaml" -o "$d/busy.h5" -q --resume
expect_out "in use"
kill -TERM "$pid"; set +e; wait "$pid"; rc=$?; set -e
[ "$rc" = 3 ] || [ "$rc" = 0 ] || fail "SIGTERM: expected exit 3, got $rc"
# A signal after the last run is committed interrupts nothing: exit 0. (SIGINT right at the end is
# racy to provoke from here; the driver checks that every run is stored before reporting 3.)
echo "it_cli: ok"
