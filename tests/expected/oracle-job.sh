# oracle-job.sh -- job for /work/shared/tools/real-kernel-oracle.sh (busybox sh in the guest)
#
# Run from the repository root:
#   /work/shared/tools/real-kernel-oracle.sh tests/expected/oracle-job.sh testmods/*.ko \
#       > raw.log
#   python3 tests/expected/split-oracle-log.py raw.log tests/expected
#
# Every step clears the kernel log (dmesg -c), runs one command, and prints a
# block that split-oracle-log.py turns into tests/expected/<TAG>.* files:
#   @@@BEGIN TAG / @@@ARG word (one per argv word) / @@@RC n /
#   @@@STDOUT line / @@@STDERR line / @@@TAINTED n (/proc/sys/kernel/tainted) /
#   @@@K <level>[timestamp] text   (dmesg -r: raw syslog records with level) / @@@END TAG
# Side data (sysfs, /proc/modules) is printed as @@@INFOBEGIN TAG / @@@INFO line / @@@INFOEND TAG.

M=/mods

run() {
    tag=$1; shift
    dmesg -c >/dev/null
    "$@" >/tmp/o 2>/tmp/e
    rc=$?
    # A record that does not end in '\n' (e.g. one truncated at the printk
    # line limit) stays open and invisible to readers until the next record
    # is stored: store one (filtered out by split-oracle-log.py).
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

# info TAG CMD... : record command output (no dmesg) as @@@INFO lines
info() {
    tag=$1; shift
    echo "@@@INFOBEGIN $tag"
    "$@" 2>&1 | sed 's/^/@@@INFO /'
    echo "@@@INFOEND $tag"
}

sysfs_params() {
    for f in /sys/module/$1/parameters/*; do
        echo "$(basename "$f")=$(cat "$f")"
    done
}

# /proc/modules with the load address masked (everything else is kept)
proc_modules() {
    sed 's/ 0x[0-9a-f]*/ 0xADDR/' /proc/modules
}

modstate() {  # /sys/module/NAME/{initstate,refcnt,taint,holders}
    for m in "$@"; do
        echo "$m initstate=$(cat /sys/module/$m/initstate 2>&1) refcnt=$(cat /sys/module/$m/refcnt 2>&1) taint=$(cat /sys/module/$m/taint 2>&1) holders=$(ls /sys/module/$m/holders 2>&1 | tr '\n' ' ')"
    done
}

# let boot-time stragglers (tsc calibration, clocksource switch) land first
sleep 3
dmesg -c >/dev/null

echo "@@@UNAME $(uname -r)"
echo "@@@BUSYBOX $(busybox 2>&1 | head -n 1)"

# ---- hello: the very first module load of the boot (one-time taint messages)
run hello-default            insmod $M/hello.ko
run hello-default.rmmod      rmmod hello
run hello-set                insmod $M/hello.ko who=kemu count=3
run hello-twice              insmod $M/hello.ko
run hello-set.rmmod          rmmod hello
run rmmod-not-loaded         rmmod hello

# ---- params: defaults, every parameter set, sysfs view
run params-default           insmod $M/params.ko
info params-default.sysfs    sysfs_params params
run params-default.rmmod     rmmod params

run params-set               insmod $M/params.ko byte_param=255 short_param=-32768 \
    ushort_param=0177777 int_param=-2147483648 uint_param=4294967295 \
    long_param=-9223372036854775808 ulong_param=0xffffffffffffffff \
    ullong_param=18446744073709551615 hexint_param=0xdeadbeef bool_param=Y \
    invbool_param=1 bint_param=0 'charp_param="hello world"' string_param=fifteen_chars15 \
    int_array=1,-2,0x10 charp_array=a,bb,,dddd my-val=-99
info params-set.sysfs        sysfs_params params
run params-set.rmmod         rmmod params

# NOARG parameters (bool, bint) given without a value; invbool is NOT noarg
run params-noarg             insmod $M/params.ko bool_param bint_param
run params-noarg.rmmod       rmmod params
run params-bad-invbool-noval insmod $M/params.ko invbool_param

# other accepted spellings
run params-alt               insmod $M/params.ko bool_param=off invbool_param=n bint_param=on \
    int_param=-0x10 uint_param=010 ulong_param=0 hexint_param=17 long_param=+42 charp_param= string_param= int_array=7 charp_array=only MY-VAL=5
run params-alt.rmmod         rmmod params

# quoting of values with spaces (busybox insmod joins argv words with ' ')
run params-quote-unquoted    insmod $M/params.ko 'charp_param=hello world'
run params-quote-unquoted.rmmod rmmod params
run params-quote-whole       insmod $M/params.ko '"charp_param=hello world"'
run params-quote-whole.rmmod rmmod params
run params-quote-middle      insmod $M/params.ko 'charp_param=a"b c"d'
run params-quote-middle.rmmod rmmod params
run params-quote-array       insmod $M/params.ko 'charp_array="x y",z'
run params-quote-array.rmmod rmmod params
run params-quote-string      insmod $M/params.ko 'string_param="s p a c e"'
run params-quote-string.rmmod rmmod params

# unknown parameters are ignored; '--' ends parsing
run params-unknown           insmod $M/params.ko no_such_param=1 int_param=5 flag_without_value
run params-unknown.rmmod     rmmod params
run params-dashdash          insmod $M/params.ko int_param=5 -- byte_param=9 whatever
run params-dashdash.rmmod    rmmod params

# bad values: load must fail, init must not run
run params-bad-int           insmod $M/params.ko int_param=abc
run params-bad-int-noval     insmod $M/params.ko int_param
run params-bad-int-empty     insmod $M/params.ko int_param=
run params-bad-byte-range    insmod $M/params.ko byte_param=256
run params-bad-long-range    insmod $M/params.ko long_param=9223372036854775808
run params-bad-uint-neg      insmod $M/params.ko uint_param=-1
run params-bad-bool          insmod $M/params.ko bool_param=maybe
run params-bad-array-count   insmod $M/params.ko int_array=1,2,3,4,5
run params-bad-array-elem    insmod $M/params.ko int_array=1,x,3
run params-bad-string-long   insmod $M/params.ko string_param=0123456789abcdef
run params-bad-charp-long    insmod $M/params.ko charp_param=$(printf '%01025d' 0)
run params-bad-multi         insmod $M/params.ko int_param=abc byte_param=300 uint_param=7 nope=1
# safety: nothing above may have loaded
rmmod params 2>/dev/null && echo "@@@WARNING params was loaded after a bad-params step"

# ---- formats
run formats                  insmod $M/formats.ko
run formats.rmmod            rmmod formats

# ---- init return values
run initfail                 insmod $M/initfail.ko
info initfail.after          proc_modules
run positive                 insmod $M/positive.ko
info positive.after          modstate positive
run positive.rmmod           rmmod positive

# ---- cpuloop (bit-exact check against testmods/native/cpuloop_native)
run cpuloop-small            insmod $M/cpuloop.ko iters=100000
run cpuloop-small.rmmod      rmmod cpuloop
run cpuloop-default          insmod $M/cpuloop.ko
run cpuloop-default.rmmod    rmmod cpuloop

# ---- kcalls
run kcalls                   insmod $M/kcalls.ko n=1000
run kcalls.rmmod             rmmod kcalls

# ---- percpu
run percpu                   insmod $M/percpu.ko
run percpu.rmmod             rmmod percpu

# ---- link-time failures
run missingsym               insmod $M/missingsym.ko
run commonsym                insmod $M/commonsym.ko

# ---- exports and dependencies
run user-alone               insmod $M/user.ko
run exporter                 insmod $M/exporter.ko
run user                     insmod $M/user.ko
info exporter-user.modules   proc_modules
info exporter-user.state     modstate exporter user
run exporter.rmmod-busy      rmmod exporter
run user.rmmod               rmmod user
run exporter.rmmod           rmmod exporter

# ---- license taint (P)
run nongpl                   insmod $M/nongpl.ko
info nongpl.state            modstate nongpl
run nongpl.rmmod             rmmod nongpl

# ---- unloading refused, then forced (taints R; keep these last)
run noexit                   insmod $M/noexit.ko
run noexit.rmmod             rmmod noexit
run pinself                  insmod $M/pinself.ko
info pinself.state           modstate pinself noexit
run pinself.rmmod            rmmod pinself
info pinself-noexit.modules  proc_modules
run pinself.rmmod-force      rmmod -f pinself
run noexit.rmmod-force       rmmod -f noexit
info final.modules           proc_modules
