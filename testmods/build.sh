#!/bin/sh
# Build every kemu test module plus the native cpuloop reference binary.
# Idempotent (kbuild and make only rebuild what changed); exits non-zero on
# any failure and if an expected .ko is missing afterwards.
#   usage: testmods/build.sh [clean]      (KDIR=... overrides the headers dir)
set -eu
cd "$(dirname "$0")"

if [ "${1:-}" = clean ]; then
    exec make clean
fi

make all

missing=0
core="hello params formats cpuloop kcalls initfail positive noexit nongpl warnbug heapbugs canary
      missingsym commonsym exporter user pinself percpu weakref spin oops
      refs solo/dupexport solo/nongpl_user
      kemu_proc kemu_misc kemu_nf kemu_fs kemu_lib kemu_crypto
      timerwork locking kthreads idlework leaky"
more="allocfail rootkit/rk_hide rootkit/rk_sct rootkit/rk_root rootkit/rk_procs rootkit/rk_kill rootkit/rk_ftrace
      rootkit/rk_hidefile rootkit/rk_idt
      lkmpg/procfs1 lkmpg/procfs2 lkmpg/procfs3 lkmpg/procfs4 lkmpg/chardev
      lkmpg/hello_sysfs lkmpg/dbgfs lkmpg/static_key
      kemu_files faulty covered kunit_demo kemu_subsys faultyfs"
[ -n "${KEMU_LINE_CORE:-}" ] && more=""    # another kernel line: the core (build-line.sh)
major=$(sed -n 's/^vermagic=\([0-9]*\)\..*/\1/p' hello.mod.c 2>/dev/null | head -n 1)
[ -z "$major" ] && major=$(grep -ao 'vermagic=[0-9]*' hello.ko | head -n 1 | cut -d= -f2)
[ "${major:-6}" -lt 6 ] && more=$(echo $more | sed 's/kunit_demo//')   # KUnit of 6.0 (Makefile)
for m in $core $more; do
    [ -f "$m.ko" ] || { echo "build.sh: $m.ko was not built" >&2; missing=1; }
done
[ -x native/cpuloop_native ] || { echo "build.sh: native/cpuloop_native was not built" >&2; missing=1; }
exit $missing
