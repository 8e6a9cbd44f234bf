# kill -9 at random moments, then --resume: the result is bitwise identical to an uninterrupted
# sweep, every run is stored exactly once, and the output opens in h5py after every kill.
# SIGINT stops cleanly with exit 3 and resumes the same way.
. "$(dirname "$0")/lib.sh"
need_h5py
d=$(scratch killresume)
spec=$SPECS/resume.yaml
expect_rc 0 "$GS_EXE" run "$spec" -o "$d/ref.h5" -j 2 -q
readable() {  # the output, if any commit happened, opens and every listed run reads completely
    [ -f "$1" ] || return 0
    "$PY" - "$1" <<'PY' || fail "output not readable after a kill: $1"
import sys, h5py
with h5py.File(sys.argv[1], "r") as f:
    ids = [r.decode() for r in f["summary"]["run_id"]]
    assert set(ids) == set(f["runs"]), "summary and runs disagree"
    for rid in ids:
        g = f["runs"][rid]
        g.visititems(lambda n, o: o[()] if isinstance(o, h5py.Dataset) else None)
PY
}
kills=0
for seed in 1 2 3 4; do
    RANDOM=$seed
    out=$d/k$seed.h5
    for round in 1 2 3; do
        "$GS_EXE" run "$spec" -o "$out" -j 2 -q --resume --commit-runs 2 >/dev/null 2>&1 &
        pid=$!
        # Sleep 0.05 .. 2.0 s, then kill -9 wherever the process is.
        sleep "$(printf '%d.%02d' $((RANDOM % 2)) $((RANDOM % 100)))"
        kill -9 "$pid" 2>/dev/null && kills=$((kills + 1)) || true
        wait "$pid" || true
        readable "$out"
    done
    expect_rc 0 "$GS_EXE" run "$spec" -o "$out" -j 2 -q --resume
    "$PY" "$GS_SOURCE_DIR/tests/h5compare.py" "$d/ref.h5" "$out"
done
[ "$kills" -ge 4 ] || fail "only $kills kills landed: the workload is too short to test resume"
# SIGINT: stop taking runs, commit what is finished, exit 3; resume finishes the job.
out=$d/int.h5
"$GS_EXE" run "$spec" -o "$out" -j 2 -q >"$d/int.log" 2>&1 &
pid=$!
sleep 0.7
kill -INT "$pid"
set +e; wait "$pid"; rc=$?; set -e
[ "$rc" = 3 ] || fail "SIGINT: expected exit 3, got $rc: $(cat "$d/int.log")"
grep -q -- "--resume" "$d/int.log" || fail "SIGINT: no hint to resume: $(cat "$d/int.log")"
readable "$out"
expect_rc 0 "$GS_EXE" run "$spec" -o "$out" -j 1 -q --resume
"$PY" "$GS_SOURCE_DIR/tests/h5compare.py" "$d/ref.h5" "$out"
echo "it_killresume: ok ($kills kills)"
