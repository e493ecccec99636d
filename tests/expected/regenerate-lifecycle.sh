#!/bin/sh
# Regenerate the lifecycle golden files (tests/expected/README.md, "Lifecycle
# steps") from the REAL kernel: one oracle boot per scenario of
# oracle-job-lifecycle.sh.   usage: tests/expected/regenerate-lifecycle.sh  (~3 min)
# Needs: the oracle tool (ORACLE=...), gcc with a static libc, Debian 6.1
# headers for testmods/build.sh, python3 with kemu importable (the patched
# copies come from tests/test_lifecycle.py, the same bytes the tests load).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
ORACLE=${ORACLE:-/work/shared/tools/real-kernel-oracle.sh}
BOOTS=${BOOTS:-fresh tainted vermagic-force vermagic-flag2 crc-force crc-flag2 rmmod-force noexit-force}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

"$root/testmods/build.sh" >"$tmp/build.log" 2>&1 || { cat "$tmp/build.log" >&2; exit 1; }
gcc -static -O2 -Wall -Wextra -o "$tmp/finit" "$here/oracle-finit.c"
python3 -c "import sys; sys.path.insert(0, sys.argv[1]); \
from test_lifecycle import write_patched_copies; write_patched_copies(sys.argv[2])" \
    "$root/tests" "$tmp"
T=$root/testmods
files="$tmp/finit $T/hello.ko $tmp/hello-vermagic.ko $tmp/hello-crc.ko $T/pinself.ko $T/noexit.ko
       $T/refs.ko $T/exporter.ko $T/solo/dupexport.ko $T/solo/nongpl_user.ko"
(cd "$tmp" && sha256sum hello-vermagic.ko hello-crc.ko &&
 cd "$T" && sha256sum hello.ko pinself.ko noexit.ko refs.ko exporter.ko solo/dupexport.ko \
    solo/nongpl_user.ko) >"$here/lifecycle-modules.sha256"

job_section() {
    sed -n '/^===ORACLE-JOB-BEGIN===$/,/^===ORACLE-JOB-END/p' "$1" | sed '1d;$d'
}

for boot in $BOOTS; do
    echo "$boot" >"$tmp/BOOT"
    # shellcheck disable=SC2086
    "$ORACLE" "$here/oracle-job-lifecycle.sh" "$tmp/BOOT" $files >"$tmp/$boot.raw"
    grep -q '^===ORACLE-JOB-END rc=0===$' "$tmp/$boot.raw" ||
        { echo "oracle job $boot failed" >&2; tail -50 "$tmp/$boot.raw" >&2; exit 1; }
    job_section "$tmp/$boot.raw" >"$here/oracle-job-lifecycle-$boot.out"
    mkdir "$tmp/split-$boot"
    keep=
    [ "$boot" = fresh ] && keep=--keep-first-load
    # shellcheck disable=SC2086
    python3 "$here/split-oracle-log.py" $keep "$here/oracle-job-lifecycle-$boot.out" \
        "$tmp/split-$boot"
    # keep the steps; the preparation loads (*-prep*, rf-*, nf-*) only set the stage
    for f in "$tmp/split-$boot"/*; do
        case ${f##*/} in
            *-prep*|rf-*|nf-*|first-load-taint.dmesg) ;;
            *) cp "$f" "$here/" ;;
        esac
    done
done
