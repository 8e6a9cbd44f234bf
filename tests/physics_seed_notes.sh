#!/usr/bin/env bash
# Reproduction "seed_notes", reduced (scripts/reproduce.sh --reduced): the claim and margins are in the
# header of experiments/seed_notes.yaml; the check must print REPRODUCED and draw the figure.
source "$(dirname "$0")/lib.sh"
reproduce_reduced seed_notes
# The check can fail: with init normal (Var = s^2/fan_in) the gain per layer is s, not s sqrt(n),
# so s = 1.5 grows 1.5x per layer and the measured slopes miss ln(s sqrt(n)).
expect_rc 0 "$GS_EXE" run "$GS_SOURCE_DIR/experiments/seed_notes.yaml" -o "$d/wrong.h5" -q -j 2 \
    model.width=32 model.depth=6,12 replicates=1 train.steps=2 model.init=normal
expect_rc 1 "$PY" "$GS_SOURCE_DIR/analysis/gradsweep/reproduce.py" seed_notes "$d/wrong.h5"
expect_out "seed_notes: NOT REPRODUCED"
expect_out "FAILED: "
expect_rc 2 "$PY" "$GS_SOURCE_DIR/analysis/gradsweep/reproduce.py" seed_notes "$d/none.h5"
expect_out "no such file"
echo "physics_seed_notes: ok"
