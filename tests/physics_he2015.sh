#!/usr/bin/env bash
# Reproduction "he2015", reduced (scripts/reproduce.sh --reduced): the claim and margins are in the
# header of experiments/he2015.yaml; the check must print REPRODUCED and draw the figure.
source "$(dirname "$0")/lib.sh"
need_h5py
"$PY" -c "import pandas, matplotlib" 2>/dev/null || { echo "skip: no pandas/matplotlib"; exit 77; }
d=$(scratch physics_he2015)
expect_rc 0 env GS_PYTHON="$PY" "$GS_SOURCE_DIR/scripts/reproduce.sh" he2015 --reduced -o "$d" -j 2
expect_out "he2015: REPRODUCED"
[ -s "$d/he2015.png" ] || fail "figure $d/he2015.png not written"
echo "physics_he2015: ok"
