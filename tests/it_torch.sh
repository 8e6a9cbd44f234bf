# Independent check against PyTorch: tests/torch_check.py trains small nets with the real CLI and
# replays every run in torch (float64), comparing losses, gradients and the weight trajectory over
# 3 optimizer steps (see the script for the cases and the tolerances). Skipped (exit 77) only when
# `import torch` fails (Debian python3-torch, scripts/deps.sh test); any other problem fails.
. "$(dirname "$0")/lib.sh"
"$PY" -c "import torch" 2>/dev/null || { echo "skip: $PY cannot import torch (apt-get install python3-torch)"; exit 77; }
d=$(scratch torch)
"$PY" "$GS_SOURCE_DIR/tests/torch_check.py" "$GS_EXE" "$d" || fail "gradsweep differs from torch (above)"
echo "it_torch: ok"
