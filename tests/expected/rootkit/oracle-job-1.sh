mark "insmod rk_hide"
insmod /mods/rk_hide.ko; echo "rc=$?"
cat /proc/modules
ls -d /sys/module/rk_hide && cat /sys/module/rk_hide/refcnt /sys/module/rk_hide/initstate
rmmod rk_hide; echo "rmmod rc=$?"
mark "insmod rk_sct wp=0"
insmod /mods/rk_sct.ko wp=0; echo "rc=$?"
cat /proc/modules
mark "insmod rk_sct pinned=1 wp=0"
insmod /mods/rk_sct.ko pinned=1 wp=0; echo "rc=$?"
