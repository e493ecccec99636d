cat /proc/sys/kernel/kptr_restrict
wc -l /proc/kallsyms
grep -c '\[' /proc/kallsyms
echo BEGIN-KALLSYMS
cat /proc/kallsyms | gzip -9 | base64
echo END-KALLSYMS
echo 2 > /proc/sys/kernel/kptr_restrict
head -3 /proc/kallsyms
echo 1 > /proc/sys/kernel/kptr_restrict
head -3 /proc/kallsyms
