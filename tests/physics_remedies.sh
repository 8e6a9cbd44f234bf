#!/usr/bin/env bash
# Reproduction "remedies", reduced (scripts/reproduce.sh --reduced): the claim and margins are in the
# header of experiments/remedies.yaml; the check must print REPRODUCED and draw the figure.
source "$(dirname "$0")/lib.sh"
reproduce_reduced remedies
# The check can fail: a residual branch of weight alpha = 2 (x + 2 F(x)) is no identity path, the
# delta profile is not flat and the vanishing net does not train (here it diverges). Only the
# residual runs are needed; the file is checked as it is (the other cells are absent).
expect_rc 0 "$GS_EXE" run "$GS_SOURCE_DIR/experiments/remedies.yaml" -o "$d/wrong.h5" -q -j 2 \
    replicates=1 model.width=48 model.sigma_w=1.0 model.norm=none train.clip_norm=0 train.steps=60 \
    model.residual_alpha=2
expect_rc 1 "$PY" "$GS_SOURCE_DIR/analysis/gradsweep/reproduce.py" remedies "$d/wrong.h5"
expect_out "remedies: NOT REPRODUCED"
expect_out "+ residual (every [2]): loss inf"
echo "physics_remedies: ok"
