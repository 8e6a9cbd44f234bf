#!/usr/bin/env bash
# Reproduction "glorot2010", reduced (scripts/reproduce.sh --reduced): the claim and margins are in the
# header of experiments/glorot2010.yaml; the check must print REPRODUCED and draw the figure.
source "$(dirname "$0")/lib.sh"
reproduce_reduced glorot2010
# The check can fail: with sigma_b = 1 the tanh pre-activations sit at q* ~ 1 where tanh' < 1
# (chi1 = 0.40 at sigma_w = 1), so even Xavier's gradients shrink towards the input.
expect_rc 0 "$GS_EXE" run "$GS_SOURCE_DIR/experiments/glorot2010.yaml" -o "$d/wrong.h5" -q -j 2 \
    replicates=1 train.steps=20 record.hist.every=10 model.sigma_b=1
expect_rc 1 env PYTHONPATH="$GS_SOURCE_DIR/analysis" "$PY" -m gradsweep.reproduce glorot2010 "$d/wrong.h5"
expect_out "glorot2010: NOT REPRODUCED"
expect_out "FAILED: tanh Xavier: |spread|"
# An output without record.hist cannot be checked: a failure that names the missing histograms.
expect_rc 0 "$GS_EXE" run "$GS_SOURCE_DIR/experiments/glorot2010.yaml" -o "$d/nohist.h5" -q -j 2 \
    replicates=1 train.steps=2 record.hist=none
expect_rc 1 env PYTHONPATH="$GS_SOURCE_DIR/analysis" "$PY" -m gradsweep.reproduce glorot2010 \
    "$d/nohist.h5" --figure "$d/nohist.png"
expect_out "has no hist/delta (the spec needs record.hist)"
echo "physics_glorot2010: ok"
