insmod /mods/fwtest.ko
rmmod fwtest
dmesg -r | grep -E "fwtest|firmware|Direct"
