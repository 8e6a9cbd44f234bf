#!/usr/bin/env bash
# One command per canonical reproduction (docs/reproductions.md): runs experiments/NAME.yaml with
# gradsweep, then checks the claim and draws the figure (analysis/gradsweep/reproduce.py).
#   scripts/reproduce.sh NAME [--reduced] [-o DIR] [-j THREADS]
# --reduced applies the overrides the physics test uses (tests/physics_NAME.sh): small, < 20 s.
# Writes DIR/NAME.h5 (+ NAME.h5.d/) and DIR/NAME.png; exit 0 when reproduced, 1 when the check
# fails, 2 on usage errors. GS_EXE (default build/release/gradsweep) and GS_PYTHON
# (default /usr/bin/python3) choose the programs.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
usage() { echo "usage: scripts/reproduce.sh NAME [--reduced] [-o DIR] [-j THREADS]" >&2; exit 2; }

# The reduced version of each reproduction: overrides of its spec (one place, used by the tests).
reduced_overrides() {
    case $1 in
    seed_notes) echo "model.width=32 model.depth=6,12 replicates=1 train.steps=2" ;;
    schoenholz2017) echo "model.width=48 model.sigma_w=0.5,1.1,4.0 model.depth=4,16,48" ;;
    he2015) echo "replicates=1 train.steps=300" ;;
    glorot2010) echo "replicates=1 train.steps=20 record.hist.every=10" ;;
    remedies) echo "replicates=1 model.width=48" ;;
    isometry) echo "model.depth=2,8,32 replicates=1" ;;
    *) return 1 ;;
    esac
}

[ $# -ge 1 ] || usage
name=$1; shift
reduced=0; dir=""; threads=""
while [ $# -gt 0 ]; do
    case $1 in
    --reduced) reduced=1 ;;
    -o) [ $# -ge 2 ] || usage; dir=$2; shift ;;
    -j) [ $# -ge 2 ] || usage; threads=$2; shift ;;
    *) usage ;;
    esac
    shift
done
spec=$root/experiments/$name.yaml
if ! reduced_overrides "$name" >/dev/null || [ ! -f "$spec" ]; then
    echo "scripts/reproduce.sh: unknown reproduction '$name' (one of: seed_notes," \
        "schoenholz2017, he2015, glorot2010, remedies, isometry)" >&2
    exit 2
fi
exe=${GS_EXE:-$root/build/release/gradsweep}
py=${GS_PYTHON:-/usr/bin/python3}
[ -x "$exe" ] || { echo "scripts/reproduce.sh: no gradsweep at $exe (build it: cmake --preset release && cmake --build build/release, or set GS_EXE)" >&2; exit 2; }
if [ -z "$dir" ]; then
    dir=$root/results/reproductions
    [ $reduced = 1 ] && dir=$root/results/reproductions-reduced
fi
mkdir -p "$dir"
overrides=()
[ $reduced = 1 ] && read -r -a overrides <<<"$(reduced_overrides "$name")"
jobs=()
[ -n "$threads" ] && jobs=(-j "$threads")

start=$(date +%s.%N)
"$exe" run "$spec" -o "$dir/$name.h5" --force -q "${jobs[@]}" "${overrides[@]}"
end=$(date +%s.%N)
echo "$name: gradsweep run took $(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }') s" \
    "(wall)${overrides:+, reduced: ${overrides[*]}}"

# The package (analysis/gradsweep/__init__.py) gives `-m gradsweep.reproduce`; the file runs alone.
if [ -f "$root/analysis/gradsweep/__init__.py" ]; then
    PYTHONPATH=$root/analysis${PYTHONPATH:+:$PYTHONPATH} exec "$py" -m gradsweep.reproduce \
        "$name" "$dir/$name.h5" --figure "$dir/$name.png"
fi
exec "$py" "$root/analysis/gradsweep/reproduce.py" "$name" "$dir/$name.h5" --figure "$dir/$name.png"
