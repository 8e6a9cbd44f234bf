#!/usr/bin/env bash
# Reproduction "schoenholz2017", reduced (scripts/reproduce.sh --reduced): the claim and margins are in the
# header of experiments/schoenholz2017.yaml; the check must print REPRODUCED and draw the figure.
source "$(dirname "$0")/lib.sh"
need_h5py
"$PY" -c "import pandas, matplotlib" 2>/dev/null || { echo "skip: no pandas/matplotlib"; exit 77; }
d=$(scratch physics_schoenholz2017)
expect_rc 0 env GS_PYTHON="$PY" "$GS_SOURCE_DIR/scripts/reproduce.sh" schoenholz2017 --reduced -o "$d" -j 2
expect_out "schoenholz2017: REPRODUCED"
[ -s "$d/schoenholz2017.png" ] || fail "figure $d/schoenholz2017.png not written"
echo "physics_schoenholz2017: ok"
