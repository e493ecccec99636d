#!/bin/sh
# Regenerate the golden files in tests/expected/ from the REAL kernel.
#   usage: tests/expected/regenerate.sh        (from anywhere; ~1 min)
# Needs: the oracle tool (ORACLE=..., default /work/shared/tools/real-kernel-oracle.sh),
# Debian 6.1 headers for testmods/build.sh, python3.
# Another kernel line: TESTMODS=DIR (testmods/build-line.sh KDIR prints it) and
# OUT=tests/expected/lines/LINE; the oracle boots the release the modules name.
set -eu
src=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$src/../.." && pwd)
here=${OUT:-$src}
mkdir -p "$here"
here=$(cd "$here" && pwd)
mods=${TESTMODS:-$root/testmods}
ORACLE=${ORACLE:-/work/shared/tools/real-kernel-oracle.sh}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

[ -f "$mods/KDIR" ] && KDIR=$(cat "$mods/KDIR") && export KDIR    # built by build-line.sh
"$mods/build.sh" >"$tmp/build.log" 2>&1 || { cat "$tmp/build.log" >&2; exit 1; }
cd "$mods"
sha256sum *.ko >"$here/modules.sha256"

job_section() {  # raw oracle output -> job stdout only
    sed -n '/^===ORACLE-JOB-BEGIN===$/,/^===ORACLE-JOB-END/p' "$1" | sed '1d;$d'
}

"$ORACLE" "$src/oracle-job.sh" ./*.ko >"$tmp/main.raw"
grep -q '^===ORACLE-JOB-END rc=0===$' "$tmp/main.raw" || { echo "oracle job failed" >&2; tail -50 "$tmp/main.raw" >&2; exit 1; }
job_section "$tmp/main.raw" >"$here/oracle-job.out"

"$ORACLE" "$src/oracle-job-fresh-nongpl.sh" nongpl.ko hello.ko >"$tmp/fresh.raw"
grep -q '^===ORACLE-JOB-END rc=0===$' "$tmp/fresh.raw" || { echo "oracle job (fresh) failed" >&2; exit 1; }
job_section "$tmp/fresh.raw" >"$here/oracle-job-fresh-nongpl.out"

python3 "$src/split-oracle-log.py" "$here/oracle-job.out" "$here"
python3 "$src/split-oracle-log.py" --keep-first-load "$here/oracle-job-fresh-nongpl.out" "$here"

# bit-exact check of cpuloop against the native build
for tag in cpuloop-small cpuloop-default; do
    iters=$(sed -n 's/^iters=//p' "$here/$tag.args" 2>/dev/null || true)
    want=$(sed -n 's/^<6>//p' "$here/$tag.dmesg")
    got=$(./native/cpuloop_native $iters)
    if [ "$want" = "$got" ]; then
        echo "cpuloop: $tag matches native ($got)"
    else
        echo "cpuloop: $tag MISMATCH: kernel '$want' native '$got'" >&2; exit 1
    fi
done
