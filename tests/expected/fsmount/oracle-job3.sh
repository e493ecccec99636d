insmod /mods/loop.ko; insmod /mods/minix.ko
mkdir -p /mnt/m
mount -t minix -o loop /mods/kemu-written.img /mnt/m; echo mount=$?
ls -l /mnt/m; ls -l /mnt/m/newdir
cat /mnt/m/new.txt /mnt/m/hello.txt; md5sum /mnt/m/newdir/big
umount /mnt/m; echo umount=$?
