# gradsweep info / status on a sweep while it is being written (the writer holds the lock), after
# kill -9, after --resume has finished it, against a spec that extends or shrinks the plan, and
# on bad inputs (missing file, not HDF5, a segment, another schema, usage errors).
. "$(dirname "$0")/lib.sh"
need_h5py
d=$(scratch info)
spec=$SPECS/resume.yaml
out=$d/out.h5
# committed: the complete (newline-terminated) lines of the journal; journal_runs: their run ids
committed() { local j=$out.d/journal; [ -f "$j" ] && head -n "$(wc -l <"$j")" "$j" || true; }
journal_runs() { committed | awk 'NR > 1 {n += NF - 1} END {print n + 0}'; }

# -- while it runs: one run per commit, so the journal grows while we look
"$GS_EXE" run "$spec" -o "$out" -j 1 -q --commit-runs 1 train.steps=1500 >"$d/run.log" 2>&1 &
pid=$!
# Waits on progress, not on the clock (sanitizer builds on a loaded machine are slow): until two
# runs are journaled, or the sweep has ended (a failure), with a 10-minute guard against a hang.
for _ in $(seq 6000); do
    [ "$(journal_runs)" -ge 2 ] && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
done
[ "$(journal_runs)" -ge 2 ] || fail "no two commits before the sweep ended: $(cat "$d/run.log")"
expect_rc 0 "$GS_EXE" info "$out"
expect_out "schema_minor 2"
expect_out "of 48 planned"
expect_out "axes        model.depth (3): 2, 5, 9"
expect_out "model.sigma_w (4):"
set +e; "$GS_EXE" status "$out" >"$d/st.txt" 2>&1; rc=$?; set -e
[ "$rc" = 1 ] || fail "status while running: exit $rc: $(cat "$d/st.txt")"
grep -q "^missing (" "$d/st.txt" || fail "status while running lists no missing runs"
kill -9 "$pid" 2>/dev/null || fail "the sweep ended before the kill: make it longer"
wait "$pid" || true

# -- after kill -9: the journal is the truth; info and status agree with it
n=$(journal_runs)
expect_rc 0 "$GS_EXE" info "$out"
expect_out "runs        $n committed of 48 planned"
expect_rc 1 "$GS_EXE" status "$out"
expect_out "48 runs planned:"
expect_out "$((48 - n)) missing"
set +e; "$GS_EXE" status "$out" --csv >"$d/st.csv"; rc=$?; set -e
[ "$rc" = 1 ] || fail "status --csv on a partial output: exit $rc"
[ "$(wc -l <"$d/st.csv")" = 49 ] || fail "status --csv: $(wc -l <"$d/st.csv") lines, want 49"
head -1 "$d/st.csv" | grep -qx \
    "run_id,state,status,verdict,verdict_step,model.depth,model.activation,model.sigma_w,replicate" ||
    fail "csv header: $(head -1 "$d/st.csv")"
[ "$(grep -c ',missing,' "$d/st.csv")" = $((48 - n)) ] || fail "csv missing count"
[ "$(grep -Ec ',(done|failed),' "$d/st.csv")" = "$n" ] || fail "csv done + failed != $n"
# every committed id of the journal is done or failed in the csv
for id in $(committed | awk 'NR > 1 {for (i = 2; i <= NF; i++) print $i}'); do
    grep -Eq "^$id,(done|failed)," "$d/st.csv" || fail "journaled run $id not done/failed"
done
# without the index (killed before its first rewrite): info reads the journal alone
mkdir "$d/noidx"
cp -r "$out.d" "$d/noidx/out.h5.d"
expect_rc 0 "$GS_EXE" info "$d/noidx/out.h5"
expect_out "no index yet"
expect_out "runs        $n committed"
expect_rc 2 "$GS_EXE" status "$d/noidx/out.h5"
expect_out "has no index yet"
expect_rc 1 "$GS_EXE" status "$d/noidx/out.h5" "$spec" train.steps=1500
expect_out "$((48 - n)) missing"

# -- finished: counts agree with /summary; status exits 0
expect_rc 0 "$GS_EXE" run "$spec" -o "$out" -j 2 -q --resume train.steps=1500
expect_rc 0 "$GS_EXE" info "$out"
info=$OUT
echo "$info"
want=$("$PY" - "$out" <<'EOF'
import sys, h5py
with h5py.File(sys.argv[1], "r") as f:
    st = [s.decode() for s in f["summary"]["status"]]
    print(f"{st.count('ok')} ok, {st.count('diverged')} diverged, {st.count('stopped')} stopped")
    print(int(f.attrs["n_committed"]))
EOF
)
OUT=$info
expect_out "status      $(head -1 <<<"$want")"
expect_out "runs        48 committed of 48 planned (complete)"
[ "$(tail -1 <<<"$want")" = 48 ] || fail "n_committed $(tail -1 <<<"$want")"
expect_out "record      activations="
expect_out "size        "
bytes=$(du -b --apparent-size -c "$out" "$out.d"/* | tail -1 | cut -f1)
expect_out "($bytes bytes)"
expect_rc 0 "$GS_EXE" status "$out"
expect_out "0 missing"
expect_rc 0 "$GS_EXE" status "$out" --all
[ "$(grep -c '^  [0-9a-f]\{16\}  ok ' <<<"$OUT")" -ge 1 ] || fail "--all lists no done run"
# a spec that adds axis values: the new runs are missing; one that drops some: listed as extra
expect_rc 1 "$GS_EXE" status "$out" "$spec" train.steps=1500 model.depth=2,5,9,12
expect_out "64 runs planned:"
expect_out "16 missing"
expect_rc 0 "$GS_EXE" status "$out" "$spec" train.steps=1500 model.depth=2
expect_out "not in this plan (32 committed runs)"

# -- bad inputs: exit 2 with a message that says what is wrong
expect_rc 2 "$GS_EXE" info "$d/nope.h5"
expect_out "no such file"
expect_rc 2 "$GS_EXE" status "$d/nope.h5"
expect_out "no such file"
echo "not hdf5" >"$d/text.h5"
expect_rc 2 "$GS_EXE" info "$d/text.h5"
expect_out "not an HDF5 file"
expect_rc 2 "$GS_EXE" info "$out.d/seg-000001.h5"
expect_out "a segment of a gradsweep output"
"$PY" -c 'import h5py, sys; h5py.File(sys.argv[1], "w").attrs["schema"] = "gradsweep/9"' \
    "$d/other.h5"
expect_rc 2 "$GS_EXE" info "$d/other.h5"
expect_out "schema 'gradsweep/9' is not supported"
"$PY" -c 'import h5py, sys; h5py.File(sys.argv[1], "w").create_dataset("x", data=[1])' \
    "$d/plain.h5"
expect_rc 2 "$GS_EXE" status "$d/plain.h5"
expect_out "not a gradsweep output"
expect_rc 2 "$GS_EXE" info
expect_out "usage: gradsweep info OUT.h5"
expect_rc 2 "$GS_EXE" info "$out" "$out"
expect_rc 2 "$GS_EXE" status "$out" --bogus
expect_out "unknown option '--bogus'"
expect_rc 2 "$GS_EXE" status "$out" "$d/nope.yaml"
expect_out "nope.yaml"
expect_rc 2 "$GS_EXE" status "$out" "$spec" model.nonsense=3
expect_rc 0 "$GS_EXE" info --help
expect_out "usage: gradsweep info"
expect_rc 0 "$GS_EXE" status --help
expect_out "exit codes"
echo "it_info: ok ($n runs committed at the kill)"
