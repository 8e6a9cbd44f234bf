# -j 1 and -j 2 give bitwise-identical stored tensors, statistics and summary.
. "$(dirname "$0")/lib.sh"
need_h5py
d=$(scratch determinism)
expect_rc 0 "$GS_EXE" run "$SPECS/small.yaml" -o "$d/j1.h5" -j 1 -q
expect_rc 0 "$GS_EXE" run "$SPECS/small.yaml" -o "$d/j2.h5" -j 2 -q --commit-runs 3
"$PY" "$GS_SOURCE_DIR/tests/h5compare.py" "$d/j1.h5" "$d/j2.h5"
# float64 storage keeps tensors exact; still identical across thread counts.
expect_rc 0 "$GS_EXE" run "$SPECS/small.yaml" -o "$d/f64a.h5" -j 1 -q record.dtype=float64 model.depth=3
expect_rc 0 "$GS_EXE" run "$SPECS/small.yaml" -o "$d/f64b.h5" -j 2 -q record.dtype=float64 model.depth=3
"$PY" "$GS_SOURCE_DIR/tests/h5compare.py" "$d/f64a.h5" "$d/f64b.h5"
echo "it_determinism: ok"
