# oracle-job.sh -- job for /work/shared/tools/real-kernel-oracle.sh (busybox sh in the guest)
#
# Run from the repository root (MODE selects the steps, see below):
#   K=/tmp/kemu-oracle/image-6.1.0-56-amd64/lib/modules/6.1.0-56-amd64/kernel
#   MODE=main /work/shared/tools/real-kernel-oracle.sh tests/expected/stubs_crypto_lib/oracle-job.sh \
#       testmods/kemu_lib.ko testmods/kemu_crypto.ko $K/crypto/sha512_generic.ko \
#       $K/crypto/sha3_generic.ko $K/crypto/crc32c_generic.ko $K/fs/nls/nls_cp437.ko \
#       $K/lib/ts_kmp.ko $K/crypto/{ecb,ctr,xts,cfb,cmac}.ko > oracle-main.out
# The BUG steps leave kemu_lib half-loaded, so each runs in its own boot:
#   one job file per mode, made by regenerate.sh (mode-1.sh, mode-2.sh, mode-4.sh).
#
# Every step: dmesg -c, one command, then "@@@BEGIN TAG", "@@@RC n" and the
# kernel log as "@@@K <level>[timestamp] text" (dmesg -r), "@@@END TAG".
M=/mods
step() {
    tag=$1; shift
    dmesg -c >/dev/null
    "$@" >/tmp/o 2>&1
    rc=$?
    echo "ORACLE-SYNC" > /dev/kmsg
    echo "@@@BEGIN $tag"
    echo "@@@RC $rc"
    sed 's/^/@@@OUT /' /tmp/o
    dmesg -r | sed 's/^/@@@K /'
    echo "@@@END $tag"
}
MODE=${MODE:-main}
if [ "$MODE" = main ]; then
    for m in sha512_generic sha3_generic crc32c_generic nls_cp437 ts_kmp ecb ctr xts cfb cmac; do
        step "pre-$m" insmod $M/$m.ko
    done
    step lib insmod $M/kemu_lib.ko
    step lib.rmmod rmmod kemu_lib
    step crypto insmod $M/kemu_crypto.ko
    step crypto.rmmod rmmod kemu_crypto
    step lib-mode3 insmod $M/kemu_lib.ko mode=3
    step lib-mode3.rmmod rmmod kemu_lib
else
    step "lib-mode$MODE" insmod $M/kemu_lib.ko mode=$MODE
fi
