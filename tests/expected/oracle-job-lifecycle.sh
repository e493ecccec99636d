# oracle-job-lifecycle.sh -- lifecycle steps (forced loads, vermagic/CRC
# mismatches, forced unloads, reference counting, duplicate exports, GPL-only
# symbols) for /work/shared/tools/real-kernel-oracle.sh.
#
# One boot runs one scenario, named by the file /mods/BOOT (passed as an
# extra file): the first message of a taint (F, R) and the one-time
# "Disabling lock debugging" line depend on what happened before in the same
# boot, so each such case gets a fresh kernel.  Run by
# regenerate-lifecycle.sh (which builds /mods/finit from oracle-finit.c and
# the patched hello-vermagic.ko / hello-crc.ko copies); block format as in
# oracle-job.sh (split with split-oracle-log.py).
#
# finit FILE FLAGS: one finit_module() call (no init_module() retry), exit
# status = errno.  Flags: 1 IGNORE_MODVERSIONS, 2 IGNORE_VERMAGIC, 3 = insmod -f.

M=/mods

run() {
    tag=$1; shift
    dmesg -c >/dev/null
    "$@" >/tmp/o 2>/tmp/e
    rc=$?
    echo "ORACLE-SYNC" > /dev/kmsg
    echo "@@@BEGIN $tag"
    for a in "$@"; do echo "@@@ARG $a"; done
    echo "@@@RC $rc"
    sed 's/^/@@@STDOUT /' /tmp/o
    sed 's/^/@@@STDERR /' /tmp/e
    echo "@@@TAINTED $(cat /proc/sys/kernel/tainted)"
    dmesg -r | sed 's/^/@@@K /'
    echo "@@@END $tag"
}

info() {
    tag=$1; shift
    echo "@@@INFOBEGIN $tag"
    "$@" 2>&1 | sed 's/^/@@@INFO /'
    echo "@@@INFOEND $tag"
}

proc_modules() {
    sed 's/ 0x[0-9a-f]*/ 0xADDR/' /proc/modules
}

modstate() {
    for m in "$@"; do
        echo "$m initstate=$(cat /sys/module/$m/initstate 2>&1) refcnt=$(cat /sys/module/$m/refcnt 2>&1) taint=$(cat /sys/module/$m/taint 2>&1) holders=$(ls /sys/module/$m/holders 2>&1 | tr '\n' ' ')"
    done
}

tainted() { cat /proc/sys/kernel/tainted; }

# the normal state of the main job: one module loaded and removed (O+E taint)
prep() {
    run "$BOOT-prep"      insmod $M/hello.ko
    run "$BOOT-prep.rmmod" rmmod hello
}

sleep 3
dmesg -c >/dev/null
BOOT=$(cat $M/BOOT)
echo "@@@UNAME $(uname -r)"
echo "@@@BOOT $BOOT"
echo "@@@TAINTED-AT-BOOT $(tainted)"

case $BOOT in
fresh)          # insmod -f as the very first load of the boot
    run force-hello-fresh              $M/finit $M/hello.ko 3
    info force-hello-fresh.modules     proc_modules
    info force-hello-fresh.tainted     tainted
    run force-hello-fresh.rmmod        rmmod hello
    run force-hello-again              $M/finit $M/hello.ko 3
    run force-hello-again.rmmod        rmmod hello
    ;;
tainted)        # mismatches refused; then insmod -f into an O+E kernel
    prep
    run vermagic-bad                   $M/finit $M/hello-vermagic.ko 0
    run crc-bad                        $M/finit $M/hello-crc.ko 0
    info vermagic-crc-bad.tainted      tainted
    run force-hello                    $M/finit $M/hello.ko 3
    info force-hello.modules           proc_modules
    info force-hello.tainted           tainted
    run force-hello.rmmod              rmmod hello
    ;;
vermagic-force)
    prep
    run vermagic-bad-force             $M/finit $M/hello-vermagic.ko 3
    info vermagic-bad-force.modules    proc_modules
    run vermagic-bad-force.rmmod       rmmod hello
    ;;
vermagic-flag2) # only MODULE_INIT_IGNORE_VERMAGIC
    prep
    run vermagic-bad-flag2             $M/finit $M/hello-vermagic.ko 2
    info vermagic-bad-flag2.modules    proc_modules
    run vermagic-bad-flag2.rmmod       rmmod hello
    ;;
crc-force)
    prep
    run crc-bad-force                  $M/finit $M/hello-crc.ko 3
    info crc-bad-force.modules         proc_modules
    run crc-bad-force.rmmod            rmmod hello
    ;;
crc-flag2)      # vermagic ignored (forces, taints F) but the CRC is still checked
    prep
    run crc-bad-flag2                  $M/finit $M/hello-crc.ko 2
    info crc-bad-flag2.tainted         tainted
    info crc-bad-flag2.modules         proc_modules
    ;;
rmmod-force)    # rmmod -f as the first lockdep-breaking taint; refs; exports
    prep
    run rf-pinself                     insmod $M/pinself.ko
    run pinself-busy                   rmmod pinself
    run pinself-force-first            rmmod -f pinself
    info pinself-force-first.tainted   tainted
    run rf-noexit                      insmod $M/noexit.ko
    run noexit-busy                    rmmod noexit
    run noexit-force-after             rmmod -f noexit
    run refs                           insmod $M/refs.ko
    info refs.state                    modstate refs
    run refs.rmmod                     rmmod refs
    run refs-underflow                 insmod $M/refs.ko underflow=1
    run refs-underflow.rmmod           rmmod refs
    info refs-underflow.tainted        tainted
    run rf-exporter                    insmod $M/exporter.ko
    run dupexport-dup                  $M/finit $M/dupexport.ko 0
    run nongpl_user                    $M/finit $M/nongpl_user.ko 0
    run nongpl_user-again              $M/finit $M/nongpl_user.ko 0
    info nongpl_user.modules           proc_modules
    run rf-exporter.rmmod              rmmod exporter
    run dupexport-alone                $M/finit $M/dupexport.ko 0
    run dupexport-alone.rmmod          rmmod dupexport
    ;;
noexit-force)   # rmmod -f of a module without exit as the first R taint
    prep
    run nf-noexit                      insmod $M/noexit.ko
    run noexit-force-first             rmmod -f noexit
    info noexit-force-first.tainted    tainted
    info noexit-force-first.modules    proc_modules
    ;;
*)
    echo "@@@ERROR unknown BOOT '$BOOT'"
    exit 1
    ;;
esac
