insmod /mods/uev.ko
rmmod uev
