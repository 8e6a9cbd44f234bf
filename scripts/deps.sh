#!/usr/bin/env bash
# Installs the Debian 12 packages gradsweep needs, only those missing (idempotent, quiet when
# everything is present). usage: scripts/deps.sh build|test
set -euo pipefail
build=(build-essential cmake pkg-config libhdf5-dev libgsl-dev libopenblas-dev libyaml-dev zlib1g-dev
       hdf5-tools)
test=("${build[@]}" clang libomp-dev python3 python3-h5py python3-numpy python3-pandas python3-matplotlib
      python3-xarray python3-h5netcdf python3-sklearn python3-torch r-base-core r-cran-hdf5r
      r-cran-ggplot2)
case "${1:-build}" in
    build) want=("${build[@]}") ;;
    test) want=("${test[@]}") ;;
    *) echo "usage: $0 build|test" >&2; exit 2 ;;
esac
missing=()
for p in "${want[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "deps: installing ${missing[*]}" >&2
SUDO=; [ "$(id -u)" = 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
