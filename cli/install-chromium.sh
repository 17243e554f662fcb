#!/bin/sh
# Installs Debian's chromium when it is missing: StatusPageIT opens the intake's status page in it (headless, driven
# over the DevTools protocol). cli/pom.xml runs this before the integration tests, as ebpf-shipper's Makefile runs
# install-toolchain.sh. Without root or apt-get it only says what to install and leaves the decision to the test,
# which skips on a developer's machine and fails under CI (CI=true).
set -eu
PKGS="chromium"
if command -v chromium >/dev/null 2>&1 || [ -n "${HOLDFAST_CHROMIUM:-}" ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "install-chromium.sh: chromium is missing and this is not root; install it with: sudo apt-get update && sudo apt-get install -y $PKGS (or name a Chromium binary in HOLDFAST_CHROMIUM)" >&2
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-chromium.sh: chromium is missing and there is no apt-get on this system; install Chromium and name its binary in HOLDFAST_CHROMIUM" >&2
  exit 0
fi
echo "install-chromium.sh: installing $PKGS" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends $PKGS
