#!/bin/sh
mount -t debugfs none /sys/kernel/debug 2>/dev/null
cd /mods
insmod kemu_files.ko
for f in /proc/kemu_files/entry /dev/kemu_files /sys/kernel/debug/kemu_files/entry /sys/kernel/kemu_files/blob; do
mark "cat $f"
cat $f; echo "rc=$?"
mark "echo x > $f"
sh -c "echo x > $f"; echo "rc=$?"
done
mark "echo on > /dev/kemu_files"
echo on > /dev/kemu_files; echo "rc=$?"
mark "cat /proc/kemu_files/entry"
cat /proc/kemu_files/entry; echo "rc=$?"
mark "cat /proc/kemu_files/crash"
sh -c 'cat /proc/kemu_files/crash'; echo "rc=$?"
mark "ls -l"
ls -l /proc/kemu_files /sys/kernel/kemu_files /sys/kernel/debug/kemu_files /dev/kemu_files
