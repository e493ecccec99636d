mark "insmod rk_root"
insmod /mods/rk_root.ko; echo "rc=$?"
cat /proc/modules
rmmod rk_root; echo "rmmod rc=$?"
