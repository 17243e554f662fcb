#!/bin/sh
# Unpacks the Debian source of the installed libbpf-dev (the code of libbpf.so.1, at the same version) into DIR/libbpf,
# for the native build to compile a position-independent libbpf.a from: Debian's own libbpf.a is not
# position-independent, so it cannot go into the shipper's JNI library.
#
#   fetch-libbpf-source.sh DIR
#
# The system's apt configuration is left as it is: the deb-src entries are derived from its deb entries into a
# private source list under DIR, with private package lists. apt checks the download against the signed release
# files, as for any package. Needs apt-get, dpkg-source (dpkg-dev) and the network; no root.
set -eu
dir=$1
pkg=$(dpkg-query -W -f='${source:Package}=${source:Version}' libbpf-dev)
command -v dpkg-source >/dev/null || { echo "fetch-libbpf-source.sh: dpkg-source missing (package dpkg-dev)" >&2; exit 1; }
rm -rf "$dir"
mkdir -p "$dir/sources.list.d" "$dir/lists/partial" "$dir/cache/archives/partial" "$dir/download"
for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
  [ -f "$f" ] && sed -n 's/^deb \(.*\)/deb-src \1/p' "$f" >> "$dir/sources.list.d/src.list"
done
for f in /etc/apt/sources.list.d/*.sources; do
  [ -f "$f" ] && sed 's/^Types:.*/Types: deb-src/' "$f" > "$dir/sources.list.d/$(basename "$f")"
done
# as root, apt would download as user _apt, which cannot write to DIR
sandbox=; [ "$(id -u)" -ne 0 ] || sandbox="-o APT::Sandbox::User=root"
apt_private() {
  apt-get -q $sandbox -o Acquire::Retries=0 -o Acquire::http::Timeout=20 \
    -o Dir::Etc::SourceList=/dev/null -o Dir::Etc::SourceParts="$dir/sources.list.d" \
    -o Dir::State::Lists="$dir/lists" -o Dir::Cache="$dir/cache" "$@"
}
# a source that is unreachable or has no deb-src only warns; a missing libbpf source fails below
apt_private update >&2 || true
(cd "$dir/download" && apt_private source --download-only "$pkg" >&2)
dpkg-source -x "$dir"/download/*.dsc "$dir/libbpf" >&2
