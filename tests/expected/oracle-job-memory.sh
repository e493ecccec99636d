# Module memory as the kernel lays it out: /proc/modules sizes, coresize and
# initsize, and the sections /sys/module/NAME/sections lists (names only: the
# addresses are the kernel's). Run with hello.ko params.ko exporter.ko kemu_proc.ko;
# its output is tests/expected/[lines/LINE/]module-memory.out.
for m in hello params exporter kemu_proc; do insmod /mods/$m.ko; done
sed 's/ 0x[0-9a-f]*/ 0xADDR/' /proc/modules
for m in hello params exporter kemu_proc; do
    echo "$m coresize=$(cat /sys/module/$m/coresize) initsize=$(cat /sys/module/$m/initsize)"
    echo "$m sections: $(ls -a /sys/module/$m/sections | grep -v '^\.\.\?$' | tr '\n' ' ')"
done
