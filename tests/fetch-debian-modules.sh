#!/usr/bin/env bash
# Fetch the real modules of Debian's kernel package matching the headers in
# $KDIR (default: the newest installed): lib/, crypto/, fs/, net/, drivers/ and
# arch/ of linux-image-<release>, into a cache keyed by release,
# and print the path of their kernel/ directory. Idempotent. The package's boot/vmlinuz (kemu
# reads the kernel's symbols from it, kemu/kallsyms.py) is kept in $cache/boot.
set -euo pipefail
hdr=${KDIR:-$(ls -d /usr/src/linux-headers-*-amd64 2>/dev/null | sort -V | tail -1)}
[ -n "$hdr" ] || { echo "fetch-debian-modules: no /usr/src/linux-headers-*-amd64" >&2; exit 1; }
release=$(sed -n 's/^#define UTS_RELEASE "\(.*\)"$/\1/p' "$hdr/include/generated/utsrelease.h" 2>/dev/null)
release=${release:-${hdr##*/linux-headers-}}
cache=${KEMU_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kemu}/debian/$release
kernel=$cache/lib/modules/$release/kernel
if [ ! -d "$kernel/net" ] || [ ! -d "$kernel/drivers" ] || [ ! -d "$kernel/arch" ]; then
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT
    sudo=""
    [ "$(id -u)" = 0 ] || sudo="sudo"
    (cd "$tmp" && apt-get download -q "linux-image-$release" >/dev/null 2>&1) ||
        { $sudo apt-get update -q >/dev/null && (cd "$tmp" && apt-get download -q "linux-image-$release" >/dev/null 2>&1); }
    mkdir -p "$tmp/x"
    dpkg-deb --fsys-tarfile "$tmp"/linux-image-"$release"_*.deb |
        tar -x -C "$tmp/x" --wildcards "./lib/modules/$release/kernel/lib" \
            "./lib/modules/$release/kernel/crypto" "./lib/modules/$release/kernel/fs" \
            "./lib/modules/$release/kernel/net" "./lib/modules/$release/kernel/drivers" \
            "./lib/modules/$release/kernel/arch" "./lib/modules/$release/modules.*"
    mkdir -p "$(dirname "$cache")"
    rm -rf "$cache"
    mv "$tmp/x" "$cache"
fi
if [ ! -f "$cache/boot/vmlinuz-$release" ]; then
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT
    (cd "$tmp" && apt-get download -q "linux-image-$release" >/dev/null 2>&1)
    dpkg-deb --fsys-tarfile "$tmp"/linux-image-"$release"_*.deb |
        tar -x -C "$tmp" "./boot/vmlinuz-$release"
    mkdir -p "$cache/boot"
    mv "$tmp/boot/vmlinuz-$release" "$cache/boot/.vmlinuz-$release.$$"
    mv "$cache/boot/.vmlinuz-$release.$$" "$cache/boot/vmlinuz-$release"
fi
echo "$kernel"
