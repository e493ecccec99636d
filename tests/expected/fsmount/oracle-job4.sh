insmod /mods/loop.ko; insmod /mods/crc16.ko; insmod /mods/mbcache.ko; insmod /mods/jbd2.ko; insmod /mods/crc32c_generic.ko; insmod /mods/ext4.ko
mkdir -p /mnt/e
mark ext2
mount -t ext2 -o loop,ro /mods/e2.img /mnt/e; echo mount=$?
ls -la /mnt/e; ls -la /mnt/e/sub
stat /mnt/e/big.bin
umount /mnt/e; echo umount=$?
