insmod /mods/loop.ko
insmod /mods/mtd.ko; insmod /mods/romfs.ko; insmod /mods/minix.ko
mkdir -p /mnt/r /mnt/m
mark romfs
mount -t romfs -o loop,ro /mods/romfs.img /mnt/r; echo mount=$?
ls -l /mnt/r; ls -la /mnt/r/sub; cat /mnt/r/hello.txt; cat /mnt/r/sub/deeper/leaf; md5sum /mnt/r/big.bin
ls /mnt/r/nope; echo rc=$?
cat /proc/mounts | grep /mnt
rmmod romfs; echo rmmod=$?
umount /mnt/r; echo umount=$?
mark minix
mount -t minix -o loop /mods/minix.img /mnt/m; echo mount=$?
ls -l /mnt/m; ls -la /mnt/m/sub; cat /mnt/m/hello.txt; cat /mnt/m/sub/deeper/leaf; md5sum /mnt/m/big.bin
stat /mnt/m/hello.txt
cat /proc/mounts | grep /mnt
umount /mnt/m; echo umount=$?
rmmod minix; echo rmmod=$?
mount -t romfs -o loop /mods/minix.img /mnt/r; echo badmount=$?
mount -t nosuchfs -o loop /mods/minix.img /mnt/r; echo badtype=$?
