#!/usr/bin/env bash
# Quickstart 1: install what is missing, build (release preset) and run the default sweep
# experiments/quick.yaml into results/quick.h5 (--resume: a second call finishes an interrupted
# sweep, or just prints the summary of a complete one). Extra arguments go to `gradsweep run`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh build
. scripts/quiet.sh
mkdir -p build
quiet build/configure-release.log cmake --preset release
quiet build/build-release.log cmake --build --preset release -j "$(nproc)"
exec build/release/gradsweep run experiments/quick.yaml -o results/quick.h5 --resume "$@"
