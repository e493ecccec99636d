mark start
insmod /mods/allocfail.ko
mark end
