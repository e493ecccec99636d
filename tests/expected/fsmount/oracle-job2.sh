insmod /mods/loop.ko; insmod /mods/mtd.ko; insmod /mods/romfs.ko; insmod /mods/minix.ko
mkdir -p /mnt/r /mnt/m
cat /proc/mounts
mark romfs
mount -t romfs -o loop,ro /mods/romfs.img /mnt/r; echo mount=$?
ls -l /mnt/r; ls -la /mnt/r/sub; ls -l /mnt/r/hello.txt; cat /mnt/r/link; cat /mnt/r/sub; echo rc=$?
stat /mnt/r/sub/nested.txt
rmmod romfs; echo rmmod=$?
umount /mnt/r; echo umount=$?
mark badopt
mount -t romfs -o loop,ro,bogus=1 /mods/romfs.img /mnt/r; echo badopt=$?
mark minixopt
mount -t minix -o loop,bogus /mods/minix.img /mnt/m; echo minixopt=$?
ls /mnt/m
umount /mnt/m; echo umount=$?
mark done
