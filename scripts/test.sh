#!/usr/bin/env bash
# Quickstart 2: install what is missing, build with warnings as errors and run every test through
# ctest: the release preset, then the ASan + UBSan preset and the ThreadSanitizer preset (clang +
# LLVM libomp + Archer). GS_SKIP_ASAN=1 / GS_SKIP_TSAN=1 skip those. Tests labelled `analysis`
# (Python and R readers: nothing for a sanitizer to see) run in the release preset only.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh test
. scripts/quiet.sh
mkdir -p build
jobs=$(nproc)
for preset in release asan tsan; do
    if [ "$preset" = asan ] && [ "${GS_SKIP_ASAN:-0}" = 1 ]; then continue; fi
    if [ "$preset" = tsan ] && [ "${GS_SKIP_TSAN:-0}" = 1 ]; then continue; fi
    echo "== $preset: build"
    quiet "build/configure-$preset.log" cmake --preset "$preset"
    quiet "build/build-$preset.log" cmake --build --preset "$preset" -j "$jobs"
    echo "== $preset: ctest"
    if [ "$preset" = release ]; then
        ctest --preset "$preset" -j "$jobs" --output-on-failure
    else
        ctest --preset "$preset" -j "$jobs" -LE analysis --output-on-failure
    fi
done
