mark begin vnet16
insmod /mods/vnet16.ko
echo insmod rc=$?
grep eth0 /proc/net/dev
rmmod vnet16
mark begin blk16
insmod /mods/blk16.ko
echo insmod rc=$?
cat /proc/partitions
ls -l /dev/blk16
cat /sys/block/blk16/size
cat /sys/block/blk16/dev
grep -A3 'Block devices' /proc/devices
rmmod blk16
cat /proc/partitions
mark end
