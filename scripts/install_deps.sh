#!/usr/bin/env bash
# Installs every build/run/test dependency of dnas from Debian packages. Idempotent.
set -euo pipefail
pkgs=(
  build-essential cmake ninja-build ccache pkg-config git clang-format
  libtorch-dev libopenblas0-pthread
  libopenmpi-dev openmpi-bin
  libhdf5-dev hdf5-tools
  libboost-program-options-dev
  libspdlog-dev libfmt-dev
  googletest libgtest-dev
  zlib1g-dev libturbojpeg0-dev libpng-dev libmatio-dev libarchive-dev
  dataset-fashion-mnist
  python3-h5py python3-numpy python3-pytest python3-scipy python3-pil
  python3-matplotlib python3-graphviz graphviz
  slurmctld slurmd slurm-client slurm-wlm-basic-plugins munge libpmix-dev iproute2 procps
)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO apt-get update
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends "${missing[@]}"
fi
