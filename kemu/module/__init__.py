"""The linker: Linux's kernel/module/, ported step by step.

- ``elf.py``: the module file (signature, ELF checks, tables);
- ``loader.py``: load_module() (kernel/module/main.c);
- ``reloc.py``: x86_64 relocations (arch/x86/kernel/module.c);
- ``module.py``: a loaded module as ``struct module`` describes it (include/linux/module.h);
- ``params.py``: parse_args() of kernel/params.c;
- ``unload.py``: delete_module(2) (kernel/module/main.c);
- ``procfs.py``: /proc/modules (kernel/module/procfs.c) and lsmod;
- ``modsig.py``: the appended signature (kernel/module/signing.c, kmod's modinfo);
- ``modprobe.py``: a tree of modules as depmod and modprobe see it.
"""
