#!/bin/sh
# Installs Debian's chromium when it is missing: StatusPageIT opens the intake's status page in it (headless, driven
# over the DevTools protocol). cli/pom.xml runs this before the integration tests, as ebpf-shipper's Makefile runs
# install-toolchain.sh. Without root or apt-get it only says what to install and leaves the decision to the test,
# which skips on a developer's machine and fails under CI (CI=true).
set -eu
if command -v chromium >/dev/null 2>&1 || [ -n "${HOLDFAST_CHROMIUM:-}" ]; then
  exit 0
fi
INSTALLER_NAME=install-chromium.sh APT_OPTS=--no-install-recommends \
  exec "$(dirname "$0")/../support/install-debian-packages.sh" optional "chromium" \
  "install Chromium and name its binary in HOLDFAST_CHROMIUM" chromium
