#!/bin/sh
# Installs what the ebpf-shipper native build needs (Debian/Ubuntu): clang (BPF target), bpftool
# (vmlinux.h + skeleton), libbpf-dev (headers + static libbpf.a), libelf-dev and zlib1g-dev (libbpf's
# own dependencies), dpkg-dev (dpkg-source: unpacks libbpf's Debian source, which the build compiles with -fPIC
# to link it statically, see fetch-libbpf-source.sh), clang-format-14 (the C format check: make format-check, in
# mvn verify). The Makefile under src/main/c calls this when a tool is missing.
set -eu
PKGS="clang libbpf-dev bpftool libelf-dev zlib1g-dev dpkg-dev clang-format-14"
if [ "$(id -u)" -ne 0 ]; then
  echo "install-toolchain.sh: the eBPF toolchain is missing and this is not root; install it with: sudo apt-get update && sudo apt-get install -y $PKGS" >&2
  exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-toolchain.sh: no apt-get on this system; install the equivalents of: $PKGS (clang >= 12, bpftool, libbpf >= 1.0 with libbpf.a, libelf, zlib headers, clang-format 14)" >&2
  exit 1
fi
echo "install-toolchain.sh: installing $PKGS" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y $PKGS
