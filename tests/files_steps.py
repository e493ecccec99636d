"""The shell job of tests/test_files.py: teaching modules (testmods/lkmpg/) loaded,
their proc, sysfs, debugfs, parameter and device files read and written as a
shell does, unloaded.  ``oracle_job()`` is the same job for
shared/tools/real-kernel-oracle.sh (busybox sh); tests/expected/files/ holds what
the real kernel printed (regenerate: python3 tests/files_steps.py > job.sh, run
the oracle with job.sh and testmods/lkmpg/*.ko, save its output as oracle.txt).
"""
from __future__ import annotations

D = "/sys/kernel/debug/dbgfs"
P = "/sys/module/dbgfs/parameters/level"
STEPS = [
    "insmod procfs1.ko", "cat /proc/helloworld", "rmmod procfs1",
    "insmod procfs2.ko", "cat /proc/buffer1k", "echo hi > /proc/buffer1k",
    "cat /proc/buffer1k", "rmmod procfs2",
    "insmod chardev.ko", "cat /dev/chardev", "cat /dev/chardev", "echo x > /dev/chardev",
    "rmmod chardev",
    "insmod hello_sysfs.ko", "cat /sys/kernel/mymodule/myvariable",
    "echo 32 > /sys/kernel/mymodule/myvariable", "cat /sys/kernel/mymodule/myvariable",
    "rmmod hello_sysfs",
    "insmod dbgfs.ko", f"cat {D}/u8", f"cat {D}/u16", f"cat {D}/u32", f"cat {D}/u64",
    f"cat {D}/x32", f"cat {D}/bool", f"cat {D}/blob", f"cat {D}/text",
    f"echo 7 > {D}/u32", f"cat {D}/u32", f"echo N > {D}/bool", f"cat {D}/bool",
    f"echo new text > {D}/text", f"cat {D}/text", f"echo x > {D}/blob",
    f"cat {P}", f"echo 5 > {P}", f"cat {P}", f"ls {D}", "cat /proc/nosuchfile",
    "rmmod dbgfs",
    "insmod procfs3.ko", "cat /proc/buffer2k", "echo hello there > /proc/buffer2k",
    "cat /proc/buffer2k", "rmmod procfs3",
    "insmod procfs4.ko", "cat /proc/iter", "cat /proc/iter", "rmmod procfs4",
    "insmod static_key.ko", "cat /dev/key_state", "echo enable > /dev/key_state",
    "cat /dev/key_state", "echo bogus > /dev/key_state", "echo disable > /dev/key_state",
    "cat /dev/key_state", "rmmod static_key",
]


def oracle_job(steps=None) -> str:
    lines = ["#!/bin/sh", "mount -t debugfs none /sys/kernel/debug 2>/dev/null", "cd /mods"]
    for step in steps or STEPS:
        lines.append(f"mark '{step}'")
        lines.append(f"sh -c '{step}'; echo \"rc=$?\"")
    return "\n".join(lines) + "\n"




# Debian's own modules (tests/fetch-debian-modules.sh): misc devices, module
# parameters with custom ops, /proc/net directories.
F = "/sys/module/fuse/parameters/max_user_bgreq"
R = "/sys/module/xt_recent/parameters/ip_list_tot"
I = "/sys/module/ipmi_msghandler/parameters/panic_op"
DEBIAN_MODULES = ["fs/fuse/fuse.ko", "fs/autofs/autofs4.ko", "net/netfilter/x_tables.ko",
                  "net/netfilter/xt_recent.ko", "drivers/char/ipmi/ipmi_msghandler.ko"]
DEBIAN_STEPS = [
    "insmod fuse.ko", "cat /dev/fuse", f"cat {F}", f"echo 100 > {F}", f"cat {F}",
    "cat /sys/class/misc/fuse/dev", "cat /sys/class/misc/fuse/uevent", "rmmod fuse",
    "insmod autofs4.ko", "cat /dev/autofs", "cat /sys/class/misc/autofs/dev", "rmmod autofs4",
    "insmod x_tables.ko", "insmod xt_recent.ko", f"cat {R}", f"echo 50 > {R}",
    "ls /proc/net/xt_recent", "rmmod xt_recent", "rmmod x_tables",
    "insmod ipmi_msghandler.ko", f"cat {I}", f"echo string > {I}", f"cat {I}",
    f"echo bogus > {I}", f"cat {I}", "rmmod ipmi_msghandler",
]


if __name__ == "__main__":
    import sys
    print(oracle_job(DEBIAN_STEPS if sys.argv[1:] == ["debian"] else STEPS), end="")
