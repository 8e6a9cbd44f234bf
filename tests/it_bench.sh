# Smoke test of the benchmark command: it runs and prints its table (numbers are not judged here:
# the machine is shared, so timing limits would be flaky; see docs/testing.md).
. "$(dirname "$0")/lib.sh"
bench=$(dirname "$GS_EXE")/gradsweep_bench
expect_rc 0 "$bench" --quick
expect_out "GFLOP/s"
expect_out "float32"
expect_out "norm: batchnorm"
expect_out "optimizer: adam"
expect_out "recording overhead"
expect_out "every step: full + hist"
echo "it_bench: ok"
