mark begin
insmod /mods/lib16.ko
echo insmod rc=$?
rmmod lib16
mark end
