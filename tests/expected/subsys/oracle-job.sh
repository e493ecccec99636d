mark begin
insmod /mods/kemu_subsys.ko
echo insmod rc=$?
rmmod kemu_subsys
echo rmmod rc=$?
mark end
