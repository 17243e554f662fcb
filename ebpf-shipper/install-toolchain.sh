#!/bin/sh
# Installs what the ebpf-shipper native build needs (Debian/Ubuntu): clang (BPF target), bpftool
# (vmlinux.h + skeleton), libbpf-dev (headers + static libbpf.a), libelf-dev and zlib1g-dev (libbpf's
# own dependencies), dpkg-dev (dpkg-source: unpacks libbpf's Debian source, which the build compiles with -fPIC
# to link it statically, see fetch-libbpf-source.sh), clang-format-14 (the C format check: make format-check, in
# mvn verify). The Makefile under src/main/c calls this when a tool is missing; it fails without root.
set -eu
INSTALLER_NAME=install-toolchain.sh exec "$(dirname "$0")/../support/install-debian-packages.sh" required \
  "the eBPF toolchain" \
  "install the equivalents of clang >= 12, bpftool, libbpf >= 1.0 with libbpf.a, libelf, zlib headers, clang-format 14" \
  clang libbpf-dev bpftool libelf-dev zlib1g-dev dpkg-dev clang-format-14
