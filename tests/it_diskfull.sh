# A full disk: the run stops with one message naming the segment (no crash, no HDF5 error stack),
# the committed runs stay, and --resume completes once there is space again. Needs a small tmpfs
# (mount privileges, as root in CI); skipped otherwise.
. "$(dirname "$0")/lib.sh"
d=$(scratch diskfull)
mnt=$d/small
mkdir -p "$mnt"
mount -t tmpfs -o size=3m tmpfs "$mnt" 2>/dev/null || { echo "skip: cannot mount a tmpfs"; exit 77; }
trap 'umount "$mnt" 2>/dev/null || true' EXIT
expect_rc 1 "$GS_EXE" run "$SPECS/resume.yaml" -o "$mnt/x.h5" -j 2 -q --commit-runs 2
expect_out "$mnt/x.h5.d/seg-"
expect_out ".h5.part: cannot write segment: No space left on device"
[ "$(wc -l <<<"$OUT")" = 1 ] || fail "expected one line of output, got: $OUT"
grep -q "HDF5-DIAG" <<<"$OUT" && fail "HDF5 printed its error stack: $OUT"
ls "$mnt/x.h5.d" | grep -q '\.part$' && fail "a *.part segment was left behind"
# Journal lines after the header: "seg-NNNNNN.h5 id id ...".
committed=$(tail -n +2 "$mnt/x.h5.d/journal" | tr ' ' '\n' | grep -vc '^seg-' || true)
[ "$committed" -gt 0 ] || fail "no committed run before the disk filled"
# Space again: resume keeps the committed runs and completes.
mount -o remount,size=100m "$mnt"
expect_rc 0 "$GS_EXE" run "$SPECS/resume.yaml" -o "$mnt/x.h5" -j 2 --resume --progress 100
expect_out "48 runs ($committed already in"
expect_out "48 of 48 runs"
echo "it_diskfull: ok"
