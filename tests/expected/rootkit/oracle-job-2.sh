mark "insmod rk_sct"
insmod /mods/rk_sct.ko; echo "rc=$?"
cat /proc/modules
cat /proc/version > /dev/null
mark "after cat"
grep -c . /proc/kallsyms
grep ' rk_sct' /proc/kallsyms | head -3
rmmod rk_sct; echo "rmmod rc=$?"
mark "insmod rk_sct pinned=1"
insmod /mods/rk_sct.ko pinned=1; echo "rc=$?"
rmmod rk_sct; echo "rmmod rc=$?"
