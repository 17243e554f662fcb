#!/bin/sh
# Installs Debian packages a build step needs, as root with apt-get; otherwise says in one line what to install.
# The eBPF toolchain (ebpf-shipper/install-toolchain.sh) and the browser test's Chromium (cli/install-chromium.sh)
# both go through here, so a fresh machine sets itself up the same way for both.
#
#   install-debian-packages.sh required|optional WHAT HINT PKG...
#
# required: exit 1 when the packages cannot be installed (the build step cannot go on without them);
# optional: exit 0 and leave the decision to what needs them (a test that skips, or fails under CI).
# HINT is said where there is no apt-get. APT_OPTS adds options to apt-get install.
set -eu
mode=$1 what=$2 hint=$3
shift 3
caller=${INSTALLER_NAME:-install-debian-packages.sh}
give_up() {
  echo "$caller: $1" >&2
  if [ "$mode" = optional ]; then exit 0; else exit 1; fi
}
if [ "$(id -u)" -ne 0 ]; then
  give_up "$what is missing and this is not root; install it with: sudo apt-get update && sudo apt-get install -y $*"
fi
if ! command -v apt-get >/dev/null 2>&1; then
  give_up "$what is missing and there is no apt-get on this system; $hint"
fi
echo "$caller: installing $*" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update
# shellcheck disable=SC2086 # APT_OPTS is a list of options
apt-get install -y ${APT_OPTS:-} "$@"
