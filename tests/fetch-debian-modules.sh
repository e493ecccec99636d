#!/usr/bin/env bash
# Fetch the real modules of Debian's kernel package matching the headers in
# $KDIR (default: the newest installed): lib/, crypto/, fs/, net/, drivers/,
# arch/, sound/, block/, mm/ and virt/ of linux-image-<release>, into a cache
# keyed by release, and print the path of their kernel/ directory. Idempotent.
# The package's boot/vmlinuz (kemu reads the kernel's symbols from it,
# kemu/kernel/kallsyms.py) is kept in $cache/boot.
set -euo pipefail
hdr=${KDIR:-$(ls -d /usr/src/linux-headers-*-amd64 2>/dev/null | sort -V | tail -1)}
[ -n "$hdr" ] || { echo "fetch-debian-modules: no /usr/src/linux-headers-*-amd64" >&2; exit 1; }
release=$(sed -n 's/^#define UTS_RELEASE "\(.*\)"$/\1/p' "$hdr/include/generated/utsrelease.h" 2>/dev/null)
release=${release:-${hdr##*/linux-headers-}}
cache=${KEMU_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kemu}/debian/$release
kernel=$cache/lib/modules/$release/kernel
dirs="lib crypto fs net drivers arch sound block mm virt"
missing=""
for d in $dirs; do [ -d "$kernel/$d" ] || missing="$missing $d"; done
if [ -n "$missing" ]; then
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT
    sudo=""
    [ "$(id -u)" = 0 ] || sudo="sudo"
    (cd "$tmp" && apt-get download -q "linux-image-$release" >/dev/null 2>&1) ||
        { $sudo apt-get update -q >/dev/null && (cd "$tmp" && apt-get download -q "linux-image-$release" >/dev/null 2>&1); }
    mkdir -p "$tmp/x"
    pats=""
    for d in $missing; do pats="$pats ./lib/modules/$release/kernel/$d"; done
    # shellcheck disable=SC2086
    dpkg-deb --fsys-tarfile "$tmp"/linux-image-"$release"_*.deb |
        tar -x -C "$tmp/x" --wildcards $pats "./lib/modules/$release/modules.*"
    mkdir -p "$kernel"
    # Directories already cached stay as they are (others may be reading them);
    # each missing one appears whole, by one rename.
    for d in $missing; do
        [ -d "$tmp/x/lib/modules/$release/kernel/$d" ] || continue
        mv "$tmp/x/lib/modules/$release/kernel/$d" "$kernel/$d.tmp$$" && mv -T "$kernel/$d.tmp$$" "$kernel/$d"
    done
    for f in "$tmp/x/lib/modules/$release"/modules.*; do
        [ -e "$cache/lib/modules/$release/${f##*/}" ] || mv "$f" "$cache/lib/modules/$release/"
    done
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
