echo "u:x:1000:1000::/:/bin/sh" >> /etc/passwd
echo "u:x:1000:" >> /etc/group
mark "insmod rk_hidefile"
insmod /mods/rk_hidefile.ko; echo "rc=$?"
mark "ls /sys/module"
ls /sys/module | grep rk_; echo "grep rc=$?"
ls /sys/module | grep -c usbcore
cat /sys/module/rk_hidefile/refcnt
grep -c "^rk_hidefile " /proc/modules
mark "ls as uid 1000"
su u -c 'ls /sys/module/rk_hidefile; ls -a /sys/module/rk_hidefile/.. | grep -c rk_'
mark "rmmod rk_hidefile"
rmmod rk_hidefile; echo "rmmod rc=$?"
mark "ls after rmmod"
ls /sys/module | grep rk_; echo "grep rc=$?"
