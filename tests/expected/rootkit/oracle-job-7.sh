mark "insmod rk_idt"
insmod /mods/rk_idt.ko; echo "rc=$?"
rmmod rk_idt
mark "insmod rk_idt write=1"
insmod /mods/rk_idt.ko write=1; echo "rc=$?"
rmmod rk_idt; echo "rmmod rc=$?"
