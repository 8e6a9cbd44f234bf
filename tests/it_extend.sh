# Adding a value to an axis leaves the existing runs' ids, seeds and data bitwise identical,
# and --resume on the extended spec trains only the new runs.
. "$(dirname "$0")/lib.sh"
need_h5py
d=$(scratch extend)
expect_rc 0 "$GS_EXE" run "$SPECS/small.yaml" -o "$d/base.h5" -j 2 -q
expect_rc 0 "$GS_EXE" run "$SPECS/small.yaml" -o "$d/wide.h5" -j 2 -q \
    model.depth=1,3,6,10 model.sigma_w=0.8,1.6,2.5
"$PY" "$GS_SOURCE_DIR/tests/h5compare.py" "$d/base.h5" "$d/wide.h5" --subset
# The ids and seeds listed by `list` agree too.
"$GS_EXE" list "$SPECS/small.yaml" --csv | cut -d, -f2,3 | tail -n +2 | sort > "$d/a.txt"
"$GS_EXE" list "$SPECS/small.yaml" --csv model.depth=1,3,6,10 model.sigma_w=0.8,1.6,2.5 \
    | cut -d, -f2,3 | tail -n +2 | sort > "$d/b.txt"
[ "$(comm -23 "$d/a.txt" "$d/b.txt" | wc -l)" = 0 ] || fail "ids/seeds changed when extending"
# Resume the base output with the extended grid: only the 48 - 24 new runs are trained.
expect_rc 0 "$GS_EXE" run "$SPECS/small.yaml" -o "$d/base.h5" -j 2 --resume \
    model.depth=1,3,6,10 model.sigma_w=0.8,1.6,2.5 --progress 100
expect_out "48 runs (24 already in"
"$PY" "$GS_SOURCE_DIR/tests/h5compare.py" "$d/wide.h5" "$d/base.h5"
echo "it_extend: ok"
