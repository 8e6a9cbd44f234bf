#!/usr/bin/env bash
# gradsweep theory: the CLI's values against an independent numpy computation
# (tests/theory_check.py), its LIST syntax, the critical line and its error messages.
source "$(dirname "$0")/lib.sh"
"$GS_EXE" theory --help >/dev/null 2>&1 || { echo "skip: gradsweep has no theory command"; exit 77; }
"$PY" -c "import numpy, scipy.special" 2>/dev/null || { echo "skip: $PY lacks numpy/scipy"; exit 77; }

# help and usage errors
expect_rc 0 "$GS_EXE" theory --help
expect_out "--critical"
expect_rc 2 "$GS_EXE" theory
expect_out "either --activation"
expect_rc 2 "$GS_EXE" theory --activation tahn --sigma-w 1
expect_out "unknown activation 'tahn' (did you mean 'tanh'?)"
expect_rc 2 "$GS_EXE" theory --activation tanh
expect_out "--activation needs --sigma-w"
expect_rc 2 "$GS_EXE" theory --activation tanh --sigma-w 1,x
expect_out "'x' is not a finite number"
expect_rc 2 "$GS_EXE" theory --activation tanh --sigma-w 0
expect_out "values must be > 0"
expect_rc 2 "$GS_EXE" theory --activation tanh --sigma-w 1 --sigma-b -0.1
expect_out "values must be >= 0"
expect_rc 2 "$GS_EXE" theory --activation tanh --sigma-w 2:1:0.1
expect_out "bad range '2:1:0.1'"
expect_rc 2 "$GS_EXE" theory --activation tanh --sigma-w 1:2:0
expect_out "bad range"
expect_rc 2 "$GS_EXE" theory --activation tanh --sigma-w 1 --alpha -1
expect_out "--alpha"
expect_rc 2 "$GS_EXE" theory --activation tanh --sigma-w 1 --bogus
expect_out "unknown argument '--bogus'"
expect_rc 2 "$GS_EXE" theory --critical tanh --sigma-w 1
expect_out "drop --sigma-w"

# LIST: ranges include their stop and print clean decimals; rows are activation x sigma_w x sigma_b
expect_rc 0 "$GS_EXE" theory -a tanh,relu --sigma-w 0.9:1.2:0.1 --sigma-b 0,0.05:0.1:0.05 --csv
[ "$(wc -l <<<"$OUT")" = 25 ] || fail "expected a header and 2 x 4 x 3 rows: $OUT"
expect_out "activation,sigma_w,sigma_b,q_star,chi1,xi_grad,c_star,chi_c,xi_c,pred_slope"
expect_out "tanh,1.1000000000000001,0.10000000000000001,"
expect_out "relu,1.2,0.050000000000000003,"
# relu: chi1 = sigma_w^2 / 2 and q* = sigma_b^2 / (1 - sigma_w^2 / 2); the aligned table too
expect_rc 0 "$GS_EXE" theory -a relu --sigma-w 1 --sigma-b 0.5 --csv
expect_out "relu,1,0.5,0.5,0.5,"
expect_rc 0 "$GS_EXE" theory -a relu --sigma-w 1 --sigma-b 0.5
expect_out "relu"
expect_out "q_star"

# the critical line: relu at sqrt(2), gelu with sigma_b = 0 has none (chi1 jumps), noted
expect_rc 0 "$GS_EXE" theory --critical relu --sigma-b 0,1 --csv
expect_out "relu,0,1.4142135623730951,"
expect_out "relu,1,1.4142135623730951,"
expect_rc 0 "$GS_EXE" theory --critical gelu --sigma-b 0
expect_out "note:"
expect_out "chi1 jumps across 1"
expect_out "nan"
expect_rc 0 "$GS_EXE" theory --critical tanh
[ "$(wc -l <<<"$OUT")" = 12 ] || fail "default sigma_b 0:0.5:0.05 should give 11 rows: $OUT"

# the values against numpy
"$PY" "$GS_SOURCE_DIR/tests/theory_check.py" "$GS_EXE" || fail "theory values differ from numpy"
echo "it_theory: ok"
