#!/bin/sh
# Build testmods/' core (KEMU_LINE_CORE; KEMU_LINE_ALL=1: all of them) against
# another kernel line's headers, in a directory of its own, so that the modules of several lines sit side by side:
#   testmods/build-line.sh KDIR      e.g. /usr/src/linux-headers-5.10.0-32-amd64
# Builds in $KEMU_CACHE/testmods/RELEASE (default ~/.cache/kemu/testmods/RELEASE)
# and prints that directory: point the tests at it with KEMU_TESTMODS=DIR.
set -eu
kdir=${1:?usage: build-line.sh KDIR}
[ -f "$kdir/Makefile" ] || { echo "build-line.sh: $kdir: not a kernel headers tree" >&2; exit 1; }
here=$(cd "$(dirname "$0")" && pwd)
release=$(sed -n 's/^#define UTS_RELEASE "\(.*\)"$/\1/p' "$kdir/include/generated/utsrelease.h")
cache=${KEMU_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kemu}
out=$cache/testmods/$release
mkdir -p "$out/solo" "$out/native"
# sources only (cp -u keeps kbuild's timestamps: a rebuild builds what changed)
(cd "$here" && find . -maxdepth 2 \( -name '*.c' -o -name '*.h' -o -name Makefile -o -name Kbuild -o -name '*.sh' \) \
     ! -name '*.mod.c' -print) | while read -r f; do
    mkdir -p "$out/$(dirname "$f")"
    cp -u "$here/$f" "$out/$f"
done
printf '%s\n' "$kdir" >"$out/KDIR"     # regenerate.sh and rebuilds use the same headers
if [ -n "${KEMU_LINE_ALL:-}" ]; then      # all of testmods/, as for 6.1
    KDIR=$kdir "$out/build.sh" >&2
else
    KDIR=$kdir KEMU_LINE_CORE=1 "$out/build.sh" >&2
fi
echo "$out"
