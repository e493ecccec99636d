# oracle-job-fresh-nongpl.sh -- second oracle job: which one-time messages a
# FRESH (untainted) kernel prints when the very first module loaded is a
# proprietary one.  Same @@@ block format as oracle-job.sh.
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

sleep 3
dmesg -c >/dev/null
echo "@@@TAINTED-AT-BOOT $(cat /proc/sys/kernel/tainted)"
run fresh-nongpl            insmod $M/nongpl.ko
run fresh-nongpl.rmmod      rmmod nongpl
run fresh-nongpl-then-hello insmod $M/hello.ko
