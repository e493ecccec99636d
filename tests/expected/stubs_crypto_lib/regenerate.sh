#!/bin/sh
# Record the real kernel's output for tests/test_stubs_crypto_lib.py (about a minute).
set -eu
cd "$(dirname "$0")/../../.."
K=${KEMU_DEBIAN_MODULES:-$(ls -d /tmp/kemu-oracle/image-*/lib/modules/*/kernel | head -1)}
D=tests/expected/stubs_crypto_lib
ORACLE=/work/shared/tools/real-kernel-oracle.sh
testmods/build.sh >/dev/null
sha256sum testmods/kemu_lib.ko testmods/kemu_crypto.ko > $D/modules.sha256
MODS="testmods/kemu_lib.ko testmods/kemu_crypto.ko $K/crypto/sha512_generic.ko $K/crypto/sha3_generic.ko $K/crypto/crc32c_generic.ko $K/fs/nls/nls_cp437.ko $K/lib/ts_kmp.ko $K/crypto/ecb.ko $K/crypto/ctr.ko $K/crypto/xts.ko $K/crypto/cfb.ko $K/crypto/cmac.ko"
$ORACLE $D/oracle-job.sh $MODS > $D/oracle-main.out
for mode in 1 2 4; do
    { echo "MODE=$mode"; cat $D/oracle-job.sh; } > /tmp/kemu-oracle-mode-$mode.sh
    $ORACLE /tmp/kemu-oracle-mode-$mode.sh $MODS > $D/oracle-mode-$mode.out
done
