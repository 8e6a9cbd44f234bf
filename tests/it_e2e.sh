# End to end: a small sweep runs, prints its summary and writes a file that matches the schema.
. "$(dirname "$0")/lib.sh"
need_h5py
d=$(scratch e2e)
expect_rc 0 "$GS_EXE" run "$SPECS/small.yaml" -o "$d/out.h5" -j 2 -q
expect_out "24 of 24 runs in $d/out.h5"
expect_out "look at it"
"$PY" "$GS_SOURCE_DIR/tests/schema_check.py" "$d/out.h5" 24
# The default output path is results/<name>.h5 under the working directory.
( cd "$d" && "$GS_EXE" run "$SPECS/small.yaml" -q model.depth=1 >/dev/null ) || fail "default -o"
[ -f "$d/results/small.h5" ] || fail "results/small.h5 not written"
echo "it_e2e: ok"
