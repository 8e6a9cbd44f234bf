#!/usr/bin/env bash
# Reproduction "isometry", reduced (scripts/reproduce.sh --reduced): the claim and margins are in the
# header of experiments/isometry.yaml; the check must print REPRODUCED and draw the figure.
source "$(dirname "$0")/lib.sh"
reproduce_reduced isometry
# The check can fail: orthogonal weights scaled by sigma_w = 1.5 are no isometry (every singular
# value of a linear net is 1.5^(depth+1)), and the net trains no faster than a Gaussian one.
expect_rc 0 "$GS_EXE" run "$GS_SOURCE_DIR/experiments/isometry.yaml" -o "$d/wrong.h5" -q -j 2 \
    model.depth=2,8,32 replicates=1 model.sigma_w=1.5
expect_rc 1 "$PY" "$GS_SOURCE_DIR/analysis/gradsweep/reproduce.py" isometry "$d/wrong.h5"
expect_out "isometry: NOT REPRODUCED"
expect_out "FAILED: linear orthogonal: every singular value within "
echo "physics_isometry: ok"
