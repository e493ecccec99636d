"""Generate a kemu target description from an installed kernel headers tree.

Usage::

    python3 -m kemu.target.gen [--headers DIR] [--out FILE]

DIR defaults to the newest ``/usr/src/linux-headers-*-amd64``; FILE defaults
to ``kemu/target/<release>.json`` next to this module.

How it works: ``probe.c`` (shipped next to this file) is built as an
out-of-tree module through Kbuild (``make -C DIR M=tmp modules``) in a
temporary directory, together with two headers generated here from the tables
below:

* ``kemu_probe_types.h`` declares one pointer per wanted type, which pulls the
  full type definitions into the DWARF of ``probe.o``.  Struct sizes and member
  offsets are read from that DWARF with pyelftools, so a member that does not
  exist in this kernel is only a warning, never a build failure.
* ``kemu_probe_consts.h`` emits one asm-offsets style string per constant into
  the ``.kemu_probe`` section of ``probe.o`` (macros are ``#ifdef``-guarded, so
  a missing macro is a warning too).

The resulting ``probe.ko`` supplies the vermagic string exactly as modules
carry it (checked against a reconstruction from utsrelease.h + .config), the
``module_layout`` CRC as modpost records it, and cross-checks of
``sizeof(struct module)`` and the ``init``/``exit`` offsets (the relocations of
``.gnu.linkonce.this_module``).  Exports come from ``Module.symvers``.

The JSON is written deterministically (sorted keys, no paths or timestamps)
and atomically (temporary file + ``os.replace``).
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from kemu.target.lines import known_line, line_of

FORMAT_VERSION = 1

HERE = Path(__file__).resolve().parent
PROBE_SOURCE = HERE / "probe.c"

# ---------------------------------------------------------------------------
# What to extract
# ---------------------------------------------------------------------------

# struct name -> member paths.  "a.b" walks into the named member a; members
# of anonymous structs/unions are found directly.  "x|y" means: the first of
# these names that exists, recorded under the first name (6.1's), so that a
# member renamed between kernel lines (task_struct.state of 5.10 is 6.1's
# __state) is read under one name on every line.  The sizeof of every
# struct listed is recorded as sizes[struct].
#
# This table holds what kemu's own core reads (the linker's struct module and
# its tables, the machine's per-CPU data) and the few members models reach by
# computed names.  A model declares the members it reads next to itself,
# members("struct x", "a", "b") (kemu.abi.exports.members), and all_structs()
# collects those: a new model never touches this table.
STRUCTS: dict[str, list[str]] = {
    "fwnode_reference_args": ["fwnode", "nargs", "args"],
    "fasync_struct": ["fa_lock", "magic", "fa_fd", "fa_next", "fa_file", "fa_rcu"],
    "static_key_false": ["key"],
    "module": ["state", "name", "mkobj", "modinfo_attrs", "version", "srcversion",
               "holders_dir", "syms", "crcs", "num_syms", "kp", "num_kp", "num_gpl_syms",
               "gpl_syms", "gpl_crcs", "using_gplonly_symbols", "sig_ok",
               "async_probe_requested", "num_exentries", "extable", "init", "core_layout",
               "core_layout.base", "core_layout.size", "core_layout.text_size",
               "core_layout.ro_size", "core_layout.ro_after_init_size", "init_layout",
               "init_layout.base", "init_layout.size", "init_layout.text_size",
               "init_layout.ro_size", "init_layout.ro_after_init_size", "arch", "taints",
               "num_bugs", "bug_list", "bug_table", "kallsyms", "core_kallsyms", "sect_attrs",
               "notes_attrs", "args", "percpu", "percpu_size", "noinstr_text_start",
               "noinstr_text_size", "num_tracepoints", "tracepoints_ptrs", "num_srcu_structs",
               "srcu_struct_ptrs", "num_bpf_raw_events", "bpf_raw_events", "btf_data_size",
               "btf_data", "jump_entries", "num_jump_entries", "num_trace_bprintk_fmt",
               "trace_bprintk_fmt_start", "trace_events", "num_trace_events", "trace_evals",
               "num_trace_evals", "num_ftrace_callsites", "ftrace_callsites",
               "kprobes_text_start", "kprobes_text_size", "kprobe_blacklist",
               "num_kprobe_blacklist", "num_static_call_sites", "static_call_sites",
               "source_list", "target_list", "exit", "refcnt", "mem"],
    # 6.4+ (kernel/module/main.c): one per enum mod_mem_type
    "module_memory": ["base", "size", "mtn"],
    "module_layout": ["base", "size", "text_size", "ro_size", "ro_after_init_size", "mtn"],
    "module_kobject": ["kobj", "mod", "drivers_dir", "mp", "kobj_completion"],
    "mod_arch_specific": ["num_orcs", "orc_unwind_ip", "orc_unwind"],
    "mod_kallsyms": ["symtab", "num_symtab", "strtab", "typetab"],
    "modversion_info": ["crc", "name"],
    "kernel_param": ["name", "mod", "ops", "perm", "level", "flags", "arg", "str", "arr"],
    "kernel_param_ops": ["flags", "set"],
    "kernel_symbol": ["value_offset", "name_offset", "namespace_offset"],
    "list_head": ["next", "prev"],
    "fixed_percpu_data": ["gs_base", "stack_canary"],
    "pipe_buf_operations": ["confirm", "release", "try_steal", "get"],
    "address_space_operations": ["writepage", "read_folio", "dirty_folio"],
    "dquot_operations": ["write_dquot", "alloc_dquot", "destroy_dquot"],
    "quotactl_ops": ["quota_on", "quota_off", "get_state"],
    "bio_set": ["bio_slab", "front_pad"],
    "bug_entry": ["bug_addr_disp|bug_addr", "file_disp|file", "line", "flags"],
    "exception_table_entry": ["insn", "fixup", "data"],
    "orc_entry": ["sp_offset", "bp_offset"],
    "pci_device_id": ["vendor", "device", "subvendor", "subdevice", "class", "class_mask",
                      "driver_data"],
    "irqaction": ["handler", "dev_id", "thread_fn", "irq", "flags", "name"],
    "hwmon_channel_info": ["type", "config"],
    "acpi_buffer": ["length", "pointer"],
    "inode_operations": ["lookup", "get_link"],
    "netlink_dump_control": ["start", "dump", "done", "data", "module", "min_dump_alloc"],
    "netlink_notify": ["net", "portid", "protocol"],
    "in6_addr": ["in6_u"],
    "rhltable": ["ht"],
    "tc_estimator": ["interval", "ewma_log"],
    "socket": ["state", "type", "flags", "file", "sk", "ops", "wq"],
    "proto_ops": ["family", "owner"],
    "compress_alg": ["coa_compress", "coa_decompress"],
    "crypto_cipher": ["base"],
    "crypto_comp": ["base"],
    "shash_instance": ["free", "alg"],
    "ahash_instance": ["free", "alg"],
    "crypto_skcipher_spawn": ["base"],
    "crypto_shash_spawn": ["base"],
    "crypto_ahash_spawn": ["base"],
    "callback_head": ["next", "func"],
    "static_call_site": ["addr", "key"],
    "alt_instr": ["instr_offset", "repl_offset", "cpuid", "instrlen", "replacementlen"],
    "paravirt_patch_site": ["instr", "type", "len"],
    "paravirt_callee_save": ["func"],
    # Members of paravirt_patch_template are generated from the DWARF: every
    # function pointer / paravirt_callee_save leaf of cpu, irq, mmu, lock.
    "paravirt_patch_template": ["cpu", "irq", "mmu", "lock"],
    "crypto_sync_skcipher": ["base"],
}

# Headers probe.c includes after <linux/module.h>, in this order.  Each is
# included only where the kernel line has it (__has_include), so a header
# that appeared or moved between 5.10, 6.1 and 6.12 (linux/panic.h is 6.1+)
# costs only the members and constants it would have defined.
PROBE_INCLUDES = [
    "linux/utsname.h", "linux/user_namespace.h", "linux/moduleparam.h",
    "linux/export.h", "linux/kernel.h", "linux/panic.h", "linux/init.h",
    "linux/types.h", "linux/stddef.h", "linux/gfp.h", "linux/slab.h",
    '"kemu_slub_def.h"', "linux/sched.h", "linux/cred.h", "linux/fs.h",
    "linux/fs_context.h", "linux/proc_fs.h", "linux/seq_file.h", "linux/cdev.h",
    "linux/miscdevice.h", "linux/device.h", "linux/kobject.h", "linux/sysfs.h",
    "linux/debugfs.h", "linux/uio.h", "linux/seq_file_net.h", "linux/netfilter_arp.h",
    "linux/mutex.h", "linux/rwsem.h", "linux/semaphore.h", "linux/swait.h",
    "linux/wait_bit.h", "linux/hrtimer.h", "linux/timekeeping.h", "linux/jiffies.h",
    "linux/delay.h", "linux/kthread.h", "linux/preempt.h", "linux/errno.h",
    "linux/rcupdate.h", "linux/rcuwait.h", "linux/spinlock.h", "linux/completion.h",
    "linux/wait.h", "linux/timer.h", "linux/workqueue.h", "linux/interrupt.h",
    "linux/kprobes.h", "linux/printk.h", "linux/kallsyms.h", "linux/jump_label.h",
    "linux/static_call.h", "linux/static_call_types.h", "linux/nls.h", "linux/skbuff.h",
    "linux/netdevice.h", "linux/netfilter.h", "linux/netfilter_ipv4.h",
    "linux/netfilter/x_tables.h", "net/netlink.h", "net/sock.h", "net/ipv6.h",
    "net/inet_frag.h", "net/netfilter/nf_log.h", "net/netfilter/nf_queue.h",
    "net/netfilter/nf_conntrack_zones.h", "linux/sysctl.h", "linux/btf.h",
    "linux/netlink.h", "linux/once.h", "linux/time.h", "net/net_namespace.h",
    "net/netns/generic.h", "crypto/hash.h", "crypto/internal/hash.h",
    "crypto/skcipher.h", "crypto/aead.h", "crypto/akcipher.h", "crypto/kpp.h",
    "crypto/rng.h", "crypto/algapi.h", "crypto/internal/scompress.h",
    "crypto/internal/acompress.h", "linux/scatterlist.h", "linux/textsearch.h",
    "linux/ratelimit.h", "linux/refcount.h", "crypto/internal/cipher.h",
    "linux/rtnetlink.h", "linux/xxhash.h", "crypto/aes.h", "crypto/sha1.h",
    "crypto/sha2.h", "crypto/md5.h", "crypto/internal/skcipher.h",
    "crypto/internal/aead.h", "crypto/internal/hash.h", "crypto/scatterwalk.h",
    "linux/crypto.h", "linux/bug.h", "uapi/linux/module.h", "uapi/linux/netfilter.h",
    "asm/bug.h", "asm/extable.h", "asm/orc_types.h", "asm/processor.h", "asm/page.h",
    "asm/pgtable_types.h", "linux/parser.h", "linux/percpu_counter.h",
    "linux/shrinker.h", "linux/sysctl.h", "linux/quota.h", "linux/binfmts.h",
    "linux/mempool.h", "linux/bio.h", "linux/backing-dev.h", "linux/pipe_fs_i.h",
    "linux/xattr.h", "linux/quotaops.h", "linux/lockref.h", "linux/percpu-rwsem.h",
    "linux/pid.h", "linux/pid_namespace.h", "linux/zlib.h", "linux/xz.h", "linux/lzo.h",
    "linux/xarray.h", "linux/interval_tree.h", "linux/bvec.h", "linux/errseq.h",
    "linux/uuid.h", "linux/freezer.h", "asm/cpufeatures.h", "asm/alternative.h",
    "asm/paravirt_types.h",
    # device model, buses, resources (stubs/drivers, stubs/kernel/irq, resource.py)
    "linux/platform_device.h", "linux/mod_devicetable.h", "linux/pm_runtime.h",
    "linux/ioport.h", "linux/idr.h", "linux/i2c.h", "linux/pci.h", "linux/spi/spi.h",
    "linux/hw_random.h", "linux/tty_driver.h", "linux/hwmon.h", "linux/input.h",
    "linux/leds.h", "linux/watchdog.h", "linux/acpi.h", "linux/pnp.h",
]

# Headers the probe includes besides probe.c's own (types and constants above
# that live in headers probe.c does not include).
EXTRA_INCLUDES = [
    "linux/mod_devicetable.h", "asm/cpu_device_id.h", "crypto/internal/geniv.h",
    "crypto/null.h", "linux/asn1.h", "linux/asn1_decoder.h",
    "linux/asn1_ber_bytecode.h", "linux/oid_registry.h", "linux/padata.h",
    "linux/notifier.h", "linux/suspend.h", "linux/memory.h", "keys/asymmetric-parser.h",
    "keys/asymmetric-subtype.h", "linux/zstd_errors.h",
    "linux/buffer_head.h", "linux/fs_parser.h", "linux/mount.h", "linux/blkdev.h",
    "linux/fscrypt.h",
    "linux/dmaengine.h", "xen/xen.h", "linux/reboot.h", "linux/stop_machine.h", "asm/nmi.h", "linux/fs_types.h", "linux/interval_tree.h", "linux/kfifo.h",
    "linux/dmapool.h",
    # lib/rhashtable.c, net/core/gen_estimator.c, net/netlink/genetlink.c (stubs/lib, stubs/net)
    "linux/rhashtable.h", "net/gen_stats.h", "net/genetlink.h",
    "linux/magic.h", "linux/capability.h", "linux/mm_types.h", "linux/poll.h",
    # lib/kunit/test.c, lib/kunit/assert.c (stubs/lib/kunit)
    "kunit/test.h",
    # drivers/gpio/gpiolib-legacy.c (struct gpio), drivers/input/ff-core.c
    "linux/gpio.h", "linux/input.h",
    # net/core/dev.c, net/ethernet/eth.c
    "linux/netdevice.h", "linux/etherdevice.h", "linux/if_arp.h", "linux/ethtool.h",
    "linux/net_tstamp.h", "net/neighbour.h",
    # block/genhd.c, blk-mq.c
    "linux/blkdev.h", "linux/blk-mq.h", "net/rtnetlink.h", "linux/transport_class.h",
    "linux/attribute_container.h", "linux/workqueue.h", "linux/tty.h", "linux/tty_driver.h",
]

# Structs whose function-pointer leaves are all recorded (from the DWARF).
PV_TEMPLATE = "paravirt_patch_template"
PV_CALLEE_SAVE = "paravirt_callee_save"

# Typedefs of anonymous structs: name -> member paths, recorded like STRUCTS
# (sizes[name], offsets["name.member"]).
TYPEDEF_STRUCTS: dict[str, list[str]] = {
    "substring_t": ["from", "to"],
}

# Typedef names whose sizeof is recorded.
TYPEDEFS = ["spinlock_t", "rwlock_t", "wait_queue_head_t", "atomic_t",
            "atomic64_t", "refcount_t", "kuid_t", "kgid_t", "gfp_t",
            "dev_t", "loff_t", "fmode_t", "pgprot_t", "cpumask_t"]

# Constants: (name, kind).  kind "macro" is #ifdef-guarded (missing -> warn),
# kind "enum" is an enumerator (always expected to exist).
CONSTANTS: list[tuple[str, str]] = [
    # sizes / layout
    ("TASK_COMM_LEN", "enum"), ("THREAD_SIZE", "macro"),
    ("THREAD_SIZE_ORDER", "macro"), ("PAGE_SIZE", "macro"),
    ("PAGE_SHIFT", "macro"), ("MODULE_NAME_LEN", "macro"),
    ("KSYM_NAME_LEN", "macro"), ("MAX_PARAM_PREFIX_LEN", "macro"),
    ("__START_KERNEL_map", "macro"), ("__PAGE_OFFSET_BASE_L4", "macro"),
    ("__PAGE_OFFSET_BASE_L5", "macro"), ("KERNEL_IMAGE_SIZE", "macro"),
    ("MODULES_VADDR", "macro"), ("MODULES_END", "macro"),
    ("MODULES_LEN", "macro"), ("L1_CACHE_BYTES", "macro"),
    ("SMP_CACHE_BYTES", "macro"), ("NR_CPUS", "macro"), ("HZ", "macro"),
    ("BITS_PER_LONG", "macro"),
    # lib/kunit
    ("KUNIT_SUCCESS", "enum"), ("KUNIT_FAILURE", "enum"), ("KUNIT_SKIPPED", "enum"),
    ("KUNIT_EXPECTATION", "enum"), ("KUNIT_ASSERTION", "enum"),
    ("KUNIT_STATUS_COMMENT_SIZE", "macro"), ("KUNIT_PARAM_DESC_SIZE", "macro"),
    ("KUNIT_LOG_SIZE", "macro"), ("TAINT_TEST", "macro"),
    # net/core/dev.c: net_device allocation, registration, state
    ("NETREG_UNINITIALIZED", "enum"), ("NETREG_REGISTERED", "enum"),
    ("NETREG_UNREGISTERING", "enum"), ("NETREG_UNREGISTERED", "enum"),
    ("NETREG_RELEASED", "enum"), ("NETREG_DUMMY", "enum"),
    ("__LINK_STATE_START", "enum"), ("__LINK_STATE_PRESENT", "enum"),
    ("__LINK_STATE_NOCARRIER", "enum"), ("__QUEUE_STATE_DRV_XOFF", "enum"),
    ("NETDEV_ALIGN", "macro"), ("IFNAMSIZ", "macro"), ("MAX_ADDR_LEN", "macro"),
    ("NETDEV_UNREGISTER", "enum"), ("NETDEV_POST_INIT", "enum"), ("NETDEV_CHANGE", "enum"),
    ("ARPHRD_ETHER", "macro"), ("ETH_HLEN", "macro"), ("ETH_ALEN", "macro"),
    ("ETH_DATA_LEN", "macro"), ("ETH_MIN_MTU", "macro"), ("ETH_MAX_MTU", "macro"),
    ("IFF_BROADCAST", "enum"), ("IFF_MULTICAST", "enum"), ("IFF_UP", "enum"),
    ("NET_NAME_ENUM", "macro"), ("NET_ADDR_RANDOM", "macro"),
    ("__ETHTOOL_LINK_MODE_MASK_NBITS", "enum"),
    ("NET_ADDR_PERM", "macro"),
    # net/core/dev.c, net/ethernet/eth.c: open/close, receive, NAPI
    ("NETDEV_DOWN", "enum"), ("NETDEV_GOING_DOWN", "enum"), ("NETDEV_PRE_UP", "enum"),
    ("IFF_LOOPBACK", "enum"), ("IFF_NOARP", "enum"), ("IFF_LIVE_ADDR_CHANGE", "enum"),
    ("IFF_NO_RX_HANDLER", "enum"), ("GRO_NORMAL", "enum"),
    ("NAPI_STATE_SCHED", "enum"), ("NAPI_STATE_MISSED", "enum"),
    ("NAPI_STATE_DISABLE", "enum"), ("NAPI_STATE_NPSVC", "enum"),
    ("NAPI_STATE_LISTED", "enum"), ("NAPI_STATE_IN_BUSY_POLL", "enum"),
    ("NAPI_STATE_PREFER_BUSY_POLL", "enum"), ("NAPI_STATE_SCHED_THREADED", "enum"),
    ("SOF_TIMESTAMPING_TX_SOFTWARE", "enum"), ("SOF_TIMESTAMPING_RX_SOFTWARE", "enum"),
    ("SOF_TIMESTAMPING_SOFTWARE", "enum"),
    # block/genhd.c, blk-mq.c, blk-settings.c
    ("HCTX_MAX_TYPES", "enum"), ("QUEUE_FLAG_DYING", "macro"), ("QUEUE_FLAG_WC", "macro"),
    ("QUEUE_FLAG_FUA", "macro"), ("GENHD_FL_HIDDEN", "enum"), ("GENHD_FL_NO_PART", "enum"),
    ("DISK_MAX_PARTS", "macro"), ("GD_READ_ONLY", "macro"), ("GENHD_FL_REMOVABLE", "enum"),
    ("BLK_MQ_F_NO_SCHED", "enum"), ("BLK_MQ_F_NO_SCHED_BY_DEFAULT", "enum"),
    ("BLK_MQ_F_TAG_HCTX_SHARED", "enum"),
    # arch/x86/mm/init.c's cache-mode -> PTE bits (cachemode2protval)
    ("_PAGE_CACHE_MODE_WB", "enum"), ("_PAGE_CACHE_MODE_WC", "enum"),
    ("_PAGE_CACHE_MODE_UC_MINUS", "enum"), ("_PAGE_CACHE_MODE_UC", "enum"),
    ("_PAGE_CACHE_MODE_WT", "enum"), ("_PAGE_CACHE_MODE_WP", "enum"),
    ("_PAGE_PWT", "macro"), ("_PAGE_PCD", "macro"), ("_PAGE_PAT", "macro"),
    # module states / flags
    ("MODULE_STATE_LIVE", "enum"), ("MODULE_STATE_COMING", "enum"),
    ("PG_head", "enum"), ("PG_reserved", "enum"), ("PG_slab", "enum"),
    ("MODULE_STATE_GOING", "enum"), ("MODULE_STATE_UNFORMED", "enum"),
    ("MODULE_INIT_IGNORE_MODVERSIONS", "macro"),
    # 6.4+ enum mod_mem_type
    ("MOD_TEXT", "enum"), ("MOD_DATA", "enum"), ("MOD_RODATA", "enum"),
    ("MOD_RO_AFTER_INIT", "enum"), ("MOD_INIT_TEXT", "enum"),
    ("MOD_INIT_DATA", "enum"), ("MOD_INIT_RODATA", "enum"),
    ("MOD_MEM_NUM_TYPES", "enum"),
    ("MODULE_INIT_IGNORE_VERMAGIC", "macro"),
    ("MODULE_INIT_COMPRESSED_FILE", "macro"),
    ("KERNEL_PARAM_OPS_FL_NOARG", "enum"),
    ("KERNEL_PARAM_FL_UNSAFE", "enum"), ("KERNEL_PARAM_FL_HWPARAM", "enum"),
    # allocation flags
    ("GFP_KERNEL", "macro"), ("GFP_ATOMIC", "macro"), ("GFP_NOWAIT", "macro"),
    ("GFP_NOIO", "macro"), ("GFP_NOFS", "macro"), ("GFP_USER", "macro"),
    ("GFP_DMA", "macro"), ("GFP_DMA32", "macro"), ("GFP_HIGHUSER", "macro"),
    ("GFP_KERNEL_ACCOUNT", "macro"), ("__GFP_ZERO", "macro"),
    ("__GFP_NOWARN", "macro"), ("__GFP_HIGH", "macro"),
    ("__GFP_DMA", "macro"), ("__GFP_DMA32", "macro"),
    ("__GFP_RETRY_MAYFAIL", "macro"), ("__GFP_NOFAIL", "macro"),
    ("__GFP_NORETRY", "macro"), ("__GFP_COMP", "macro"),
    ("__GFP_ACCOUNT", "macro"), ("__GFP_IO", "macro"), ("__GFP_FS", "macro"),
    ("__GFP_DIRECT_RECLAIM", "macro"), ("__GFP_KSWAPD_RECLAIM", "macro"),
    ("SLAB_HWCACHE_ALIGN", "macro"), ("SLAB_PANIC", "macro"),
    ("SLAB_ACCOUNT", "macro"), ("SLAB_RECLAIM_ACCOUNT", "macro"),
    ("ZERO_SIZE_PTR", "macro"),
    # files
    ("O_ACCMODE", "macro"), ("O_DIRECTORY", "macro"), ("O_RDONLY", "macro"), ("O_WRONLY", "macro"),
    ("O_RDWR", "macro"), ("O_CREAT", "macro"), ("O_EXCL", "macro"),
    ("O_TRUNC", "macro"), ("O_APPEND", "macro"), ("O_NONBLOCK", "macro"),
    ("O_CLOEXEC", "macro"), ("O_LARGEFILE", "macro"),
    ("FMODE_READ", "macro"), ("FMODE_WRITE", "macro"),
    ("FMODE_LSEEK", "macro"), ("FMODE_PREAD", "macro"),
    ("FMODE_PWRITE", "macro"), ("MISC_DYNAMIC_MINOR", "macro"),
    ("MINORBITS", "macro"), ("MINORMASK", "macro"),
    ("SEEK_SET", "macro"), ("SEEK_CUR", "macro"), ("SEEK_END", "macro"),
    ("S_IFMT", "macro"), ("S_IFCHR", "macro"), ("S_IFREG", "macro"),
    ("S_IFDIR", "macro"), ("S_IRUGO", "macro"), ("S_IWUSR", "macro"),
    ("PROC_ENTRY_PERMANENT", "enum"), ("SEQ_SKIP", "macro"),
    # the VFS of mounted filesystems (stubs/fs/super.py, inode.py, buffer.py, mm/filemap.py)
    ("I_NEW", "macro"), ("I_FREEING", "macro"), ("I_CLEAR", "macro"), ("I_CREATING", "macro"),
    ("I_WILL_FREE", "macro"), ("SB_RDONLY", "macro"), ("SB_SILENT", "macro"),
    ("SB_BORN", "macro"), ("SB_ACTIVE", "macro"), ("SB_NOSEC", "macro"), ("SB_NOATIME", "macro"),
    ("SB_NODIRATIME", "macro"), ("SB_NOSUID", "macro"), ("SB_NODEV", "macro"),
    ("SB_NOEXEC", "macro"), ("SB_SYNCHRONOUS", "macro"), ("SB_DIRSYNC", "macro"),
    ("SB_LAZYTIME", "macro"), ("SB_MANDLOCK", "macro"), ("FMODE_EXCL", "macro"),
    ("PG_locked", "enum"), ("PG_uptodate", "enum"), ("PG_error", "enum"), ("PG_dirty", "enum"),
    ("BH_Uptodate", "enum"), ("BH_Dirty", "enum"), ("BH_Lock", "enum"), ("BH_Mapped", "enum"),
    ("BH_New", "enum"), ("FS_CONTEXT_FOR_MOUNT", "enum"), ("fs_value_is_string", "enum"),
    ("fs_value_is_flag", "enum"), ("ENOPARAM", "macro"), ("GFP_HIGHUSER_MOVABLE", "macro"),
    ("DCACHE_DIRECTORY_TYPE", "macro"), ("DCACHE_REGULAR_TYPE", "macro"),
    ("DCACHE_SYMLINK_TYPE", "macro"), ("DCACHE_SPECIAL_TYPE", "macro"),
    ("DCACHE_ENTRY_TYPE", "macro"), ("S_NOATIME", "macro"),
    ("FGP_ACCESSED", "macro"), ("FGP_LOCK", "macro"), ("FGP_CREAT", "macro"),
    ("I_DIRTY_SYNC", "macro"), ("I_DIRTY_DATASYNC", "macro"), ("I_DIRTY_PAGES", "macro"),
    ("I_DIRTY_INODE", "macro"), ("I_DIRTY", "macro"), ("WB_SYNC_ALL", "enum"),
    ("ATTR_SIZE", "macro"), ("ATTR_MTIME", "macro"), ("ATTR_CTIME", "macro"),
    ("ATTR_MODE", "macro"), ("ATTR_UID", "macro"), ("ATTR_GID", "macro"),
    ("ATTR_ATIME", "macro"), ("IOCB_APPEND", "macro"), ("REQ_OP_MASK", "macro"),
    ("REQ_OP_READ", "enum"), ("REQ_OP_WRITE", "enum"), ("BH_Req", "enum"),
    ("I_LINKABLE", "macro"), ("_DQST_DQSTAT_LAST", "enum"), ("SHRINKER_REGISTERED", "macro"),
    ("SHRINKER_NUMA_AWARE", "macro"), ("SHRINKER_MEMCG_AWARE", "macro"),
    ("FS_REQUIRES_DEV", "macro"), ("FS_USERNS_MOUNT", "macro"),
    ("CHRDEV_MAJOR_MAX", "macro"), ("CHRDEV_MAJOR_DYN_END", "macro"),
    ("CHRDEV_MAJOR_DYN_EXT_START", "macro"),
    ("CHRDEV_MAJOR_DYN_EXT_END", "macro"), ("MISC_MAJOR", "macro"),
    ("FMODE_ATOMIC_POS", "macro"), ("FMODE_STREAM", "macro"),
    ("FMODE_CAN_READ", "macro"), ("FMODE_CAN_WRITE", "macro"),
    ("MAX_LFS_FILESIZE", "macro"), ("S_IFLNK", "macro"),
    ("PROC_SUPER_MAGIC", "macro"), ("SYSFS_MAGIC", "macro"), ("DEBUGFS_MAGIC", "macro"),
    ("TMPFS_MAGIC", "macro"), ("MAY_EXEC", "macro"), ("MAY_WRITE", "macro"),
    ("MAY_READ", "macro"), ("CAP_DAC_OVERRIDE", "macro"), ("CAP_DAC_READ_SEARCH", "macro"),
    ("CAP_SYS_ADMIN", "macro"), ("S_IRWXU", "macro"), ("S_IRWXG", "macro"),
    ("S_IRWXO", "macro"), ("S_IFBLK", "macro"), ("S_IFIFO", "macro"), ("S_IFSOCK", "macro"),
    ("EPOLLIN", "macro"), ("EPOLLPRI", "macro"), ("EPOLLOUT", "macro"), ("EPOLLERR", "macro"),
    ("EPOLLHUP", "macro"), ("EPOLLNVAL", "macro"), ("EPOLLRDNORM", "macro"),
    ("EPOLLRDBAND", "macro"), ("EPOLLWRNORM", "macro"), ("EPOLLWRBAND", "macro"),
    ("EPOLLMSG", "macro"), ("EPOLLRDHUP", "macro"),
    ("VM_READ", "macro"), ("VM_WRITE", "macro"), ("VM_SHARED", "macro"),
    ("VM_MAYREAD", "macro"), ("VM_MAYWRITE", "macro"), ("VM_MAYSHARE", "macro"),
    ("VM_IO", "macro"), ("VM_PFNMAP", "macro"), ("VM_DONTEXPAND", "macro"),
    ("VM_DONTDUMP", "macro"), ("VM_MIXEDMAP", "macro"), ("VM_FAULT_SIGBUS", "enum"),
    ("VM_FAULT_ERROR", "macro"), ("FAULT_FLAG_USER", "enum"),
    ("S_IXUGO", "macro"), ("S_IRWXUGO", "macro"), ("S_IALLUGO", "macro"),
    ("ITER_IOVEC", "enum"), ("ITER_KVEC", "enum"), ("ITER_UBUF", "enum"),
    ("ITER_DEST", "macro"), ("ITER_SOURCE", "macro"),
    ("FS_BINARY_MOUNTDATA", "macro"), ("FS_HAS_SUBTYPE", "macro"),
    ("FS_RENAME_DOES_D_MOVE", "macro"), ("FS_ALLOW_IDMAP", "macro"),
    ("NF_ARP_NUMHOOKS", "macro"), ("NF_NETDEV_NUMHOOKS", "enum"),
    ("NF_MAX_HOOKS", "macro"),
    ("FMODE_UNSIGNED_OFFSET", "macro"), ("SEEK_DATA", "macro"),
    ("SEEK_HOLE", "macro"), ("S_IWUGO", "macro"),
    # timers / work / tasklets
    ("TIMER_CPUMASK", "macro"), ("TIMER_MIGRATING", "macro"),
    ("TIMER_DEFERRABLE", "macro"), ("TIMER_PINNED", "macro"),
    ("TIMER_IRQSAFE", "macro"), ("TIMER_BASEMASK", "macro"),
    ("WORK_STRUCT_PENDING_BIT", "enum"), ("WORK_CPU_UNBOUND", "enum"),
    ("TASKLET_STATE_SCHED", "enum"), ("TASKLET_STATE_RUN", "enum"),
    ("WORK_STRUCT_PENDING", "enum"), ("WQ_UNBOUND", "enum"),
    ("WQ_FREEZABLE", "enum"), ("WQ_MEM_RECLAIM", "enum"),
    ("WQ_HIGHPRI", "enum"), ("WQ_CPU_INTENSIVE", "enum"),
    ("WQ_POWER_EFFICIENT", "enum"), ("__WQ_ORDERED", "enum"),
    ("WQ_MAX_ACTIVE", "enum"), ("WQ_DFL_ACTIVE", "enum"),
    ("HRTIMER_MODE_ABS", "enum"), ("HRTIMER_MODE_REL", "enum"),
    ("HRTIMER_MODE_PINNED", "enum"), ("HRTIMER_MODE_SOFT", "enum"),
    ("HRTIMER_MODE_HARD", "enum"), ("HRTIMER_NORESTART", "enum"),
    ("HRTIMER_RESTART", "enum"), ("HRTIMER_STATE_INACTIVE", "macro"),
    ("HRTIMER_STATE_ENQUEUED", "macro"), ("CLOCK_REALTIME", "macro"),
    ("CLOCK_MONOTONIC", "macro"), ("CLOCK_MONOTONIC_RAW", "macro"),
    ("CLOCK_BOOTTIME", "macro"), ("CLOCK_TAI", "macro"),
    ("TK_OFFS_REAL", "enum"), ("TK_OFFS_BOOT", "enum"),
    ("TK_OFFS_TAI", "enum"), ("INITIAL_JIFFIES", "macro"),
    ("MAX_JIFFY_OFFSET", "macro"), ("MAX_SCHEDULE_TIMEOUT", "macro"),
    # locking / scheduling
    ("WQ_FLAG_EXCLUSIVE", "macro"), ("WQ_FLAG_WOKEN", "macro"),
    ("WQ_FLAG_PRIORITY", "macro"), ("TIF_SIGPENDING", "macro"),
    ("TIF_NOTIFY_SIGNAL", "macro"), ("TIF_NEED_RESCHED", "macro"),
    ("PREEMPT_OFFSET", "macro"), ("PREEMPT_MASK", "macro"),
    ("SOFTIRQ_OFFSET", "macro"), ("SOFTIRQ_MASK", "macro"),
    ("SOFTIRQ_DISABLE_OFFSET", "macro"), ("SOFTIRQ_LOCK_OFFSET", "macro"),
    ("HARDIRQ_OFFSET", "macro"), ("HARDIRQ_MASK", "macro"),
    ("NMI_MASK", "macro"), ("PREEMPT_NEED_RESCHED", "macro"),
    ("X86_EFLAGS_IF", "macro"), ("_Q_LOCKED_VAL", "macro"),
    ("_QW_LOCKED", "macro"), ("_QR_BIAS", "macro"), ("ERESTARTSYS", "macro"),
    ("TASK_WAKEKILL", "macro"), ("TASK_NOLOAD", "macro"),
    ("TASK_PARKED", "macro"), ("TASK_DEAD", "macro"), ("TASK_KILLABLE", "macro"),
    ("TASK_IDLE", "macro"), ("TASK_NORMAL", "macro"),
    # netfilter
    ("NF_DROP", "macro"), ("NF_ACCEPT", "macro"), ("NF_STOLEN", "macro"),
    ("NF_QUEUE", "macro"), ("NF_REPEAT", "macro"), ("NF_STOP", "macro"),
    ("NF_MAX_VERDICT", "macro"), ("NF_VERDICT_MASK", "macro"),
    ("NF_INET_PRE_ROUTING", "enum"), ("NF_INET_LOCAL_IN", "enum"),
    ("NF_INET_FORWARD", "enum"), ("NF_INET_LOCAL_OUT", "enum"),
    ("NF_INET_POST_ROUTING", "enum"), ("NF_INET_NUMHOOKS", "enum"),
    ("NF_INET_INGRESS", "enum"),
    ("NFPROTO_UNSPEC", "enum"), ("NFPROTO_INET", "enum"),
    ("NFPROTO_IPV4", "enum"), ("NFPROTO_ARP", "enum"),
    ("NFPROTO_NETDEV", "enum"), ("NFPROTO_BRIDGE", "enum"),
    ("NFPROTO_IPV6", "enum"), ("NFPROTO_NUMPROTO", "enum"),
    ("NF_IP_PRI_FIRST", "enum"), ("NF_IP_PRI_CONNTRACK", "enum"),
    ("NF_IP_PRI_MANGLE", "enum"), ("NF_IP_PRI_NAT_DST", "enum"),
    ("NF_IP_PRI_FILTER", "enum"), ("NF_IP_PRI_NAT_SRC", "enum"),
    ("NF_IP_PRI_LAST", "enum"), ("XT_EXTENSION_MAXNAMELEN", "macro"),
    ("ETH_P_IP", "macro"), ("ETH_P_IPV6", "macro"),
    ("NLA_UNSPEC", "enum"), ("NLA_U8", "enum"), ("NLA_U16", "enum"),
    ("NLA_U32", "enum"), ("NLA_U64", "enum"), ("NLA_STRING", "enum"),
    ("NLA_FLAG", "enum"), ("NLA_MSECS", "enum"), ("NLA_NESTED", "enum"),
    ("NLA_NESTED_ARRAY", "enum"), ("NLA_NUL_STRING", "enum"),
    ("NLA_BINARY", "enum"), ("NLA_S8", "enum"), ("NLA_S16", "enum"),
    ("NLA_S32", "enum"), ("NLA_S64", "enum"), ("NLA_BITFIELD32", "enum"),
    ("NLA_REJECT", "enum"), ("NLA_BE16", "enum"), ("NLA_BE32", "enum"),
    ("NLA_TYPE_MAX", "macro"),
    ("NLA_VALIDATE_NONE", "enum"), ("NLA_VALIDATE_RANGE", "enum"),
    ("NLA_VALIDATE_RANGE_WARN_TOO_LONG", "enum"), ("NLA_VALIDATE_MIN", "enum"),
    ("NLA_VALIDATE_MAX", "enum"), ("NLA_VALIDATE_MASK", "enum"),
    ("NLA_VALIDATE_RANGE_PTR", "enum"), ("NLA_VALIDATE_FUNCTION", "enum"),
    ("NL_VALIDATE_TRAILING", "enum"), ("NL_VALIDATE_MAXTYPE", "enum"),
    ("NL_VALIDATE_UNSPEC", "enum"), ("NL_VALIDATE_STRICT_ATTRS", "enum"),
    ("NL_VALIDATE_NESTED", "enum"), ("NLA_F_NESTED", "macro"),
    ("NLA_F_NET_BYTEORDER", "macro"), ("NLA_TYPE_MASK", "macro"),
    ("NLMSG_HDRLEN", "macro"),
    ("NLMSG_ALIGNTO", "macro"), ("NETLINK_URELEASE", "macro"),
    ("NF_LOG_TYPE_LOG", "enum"), ("NF_LOG_TYPE_ULOG", "enum"),
    ("NF_LOG_TYPE_MAX", "enum"),
    ("NEXTHDR_HOP", "macro"), ("NEXTHDR_ROUTING", "macro"),
    ("NEXTHDR_FRAGMENT", "macro"), ("NEXTHDR_AUTH", "macro"),
    ("NEXTHDR_NONE", "macro"), ("NEXTHDR_DEST", "macro"),
    ("NEXTHDR_ESP", "macro"), ("NEXTHDR_IPV6", "macro"),
    ("IPV6_ADDR_ANY", "macro"), ("IPV6_ADDR_UNICAST", "macro"),
    ("IPV6_ADDR_MULTICAST", "macro"), ("IPV6_ADDR_LOOPBACK", "macro"),
    ("IPV6_ADDR_LINKLOCAL", "macro"), ("IPV6_ADDR_SITELOCAL", "macro"),
    ("IPV6_ADDR_COMPATv4", "macro"), ("IPV6_ADDR_SCOPE_MASK", "macro"),
    ("IPV6_ADDR_MAPPED", "macro"),
    ("IPV6_ADDR_SCOPE_NODELOCAL", "macro"), ("IPV6_ADDR_SCOPE_LINKLOCAL", "macro"),
    ("IPV6_ADDR_SCOPE_SITELOCAL", "macro"), ("IPV6_ADDR_SCOPE_GLOBAL", "macro"),
    ("IP6_FH_F_FRAG", "enum"), ("IP6_FH_F_AUTH", "enum"),
    ("IP6_FH_F_SKIP_RH", "enum"), ("IP6_OFFSET", "macro"),
    ("NPROTO", "macro"), ("AF_MAX", "macro"), ("CHECKSUM_NONE", "macro"),
    ("CHECKSUM_UNNECESSARY", "macro"), ("CHECKSUM_COMPLETE", "macro"),
    ("CHECKSUM_PARTIAL", "macro"), ("CSUM_MANGLED_0", "macro"),
    ("NETDEV_REGISTER", "enum"), ("NETDEV_UP", "enum"),
    ("NF_CT_DEFAULT_ZONE_ID", "macro"), ("NF_CT_DEFAULT_ZONE_DIR", "macro"),
    ("RTN_UNICAST", "enum"), ("RTN_LOCAL", "enum"), ("RTN_BROADCAST", "enum"),
    ("RTN_MULTICAST", "enum"), ("SS_UNCONNECTED", "enum"), ("PF_ALG", "macro"),
    ("GENL_HDRLEN", "macro"), ("GENL_NAMSIZ", "macro"), ("GENL_MIN_ID", "macro"),
    ("GENL_MAX_ID", "macro"), ("GENL_ID_CTRL", "macro"), ("GENL_START_ALLOC", "macro"),
    ("ETH_P_ALL", "macro"), ("PTYPE_HASH_MASK", "macro"),
    # crypto
    ("CRYPTO_ALG_TYPE_MASK", "macro"), ("CRYPTO_ALG_TYPE_CIPHER", "macro"),
    ("CRYPTO_ALG_TYPE_SHASH", "macro"), ("CRYPTO_ALG_TYPE_AHASH", "macro"),
    ("CRYPTO_MAX_ALG_NAME", "macro"), ("HASH_MAX_DIGESTSIZE", "macro"),
    ("HASH_MAX_DESCSIZE", "macro"),
    # bugs / kprobes
    ("BUGFLAG_WARNING", "macro"), ("BUGFLAG_ONCE", "macro"),
    ("BUGFLAG_DONE", "macro"), ("BUGFLAG_NO_CUT_HERE", "macro"),
    # crypto / lib (stubs/crypto, stubs/lib)
    ("CRYPTO_ALG_TYPE_COMPRESS", "macro"), ("CRYPTO_ALG_TYPE_AEAD", "macro"),
    ("CRYPTO_ALG_TYPE_SKCIPHER", "macro"), ("CRYPTO_ALG_TYPE_KPP", "macro"),
    ("CRYPTO_ALG_TYPE_ACOMPRESS", "macro"),
    ("CRYPTO_ALG_TYPE_SCOMPRESS", "macro"), ("CRYPTO_ALG_TYPE_RNG", "macro"),
    ("CRYPTO_ALG_TYPE_AKCIPHER", "macro"), ("CRYPTO_ALG_TYPE_HASH", "macro"),
    ("CRYPTO_ALG_TYPE_HASH_MASK", "macro"),
    ("CRYPTO_ALG_TYPE_AHASH_MASK", "macro"),
    ("CRYPTO_ALG_TYPE_ACOMPRESS_MASK", "macro"),
    ("CRYPTO_ALG_LARVAL", "macro"), ("CRYPTO_ALG_DEAD", "macro"),
    ("CRYPTO_ALG_DYING", "macro"), ("CRYPTO_ALG_ASYNC", "macro"),
    ("CRYPTO_ALG_NEED_FALLBACK", "macro"), ("CRYPTO_ALG_TESTED", "macro"),
    ("CRYPTO_ALG_INSTANCE", "macro"), ("CRYPTO_NOLOAD", "macro"),
    ("CRYPTO_ALG_KERN_DRIVER_ONLY", "macro"),
    ("CRYPTO_ALG_INTERNAL", "macro"), ("CRYPTO_ALG_OPTIONAL_KEY", "macro"),
    ("CRYPTO_ALG_ALLOCATES_MEMORY", "macro"),
    ("CRYPTO_ALG_FIPS_INTERNAL", "macro"), ("CRYPTO_TFM_NEED_KEY", "macro"),
    ("CRYPTO_TFM_REQ_MASK", "macro"),
    ("CRYPTO_TFM_REQ_FORBID_WEAK_KEYS", "macro"),
    ("CRYPTO_TFM_REQ_MAY_SLEEP", "macro"),
    ("CRYPTO_TFM_REQ_MAY_BACKLOG", "macro"), ("CRYPTO_MINALIGN", "macro"),
    ("MAX_ALGAPI_BLOCKSIZE", "macro"), ("MAX_ALGAPI_ALIGNMASK", "macro"),
    ("MAX_CIPHER_BLOCKSIZE", "macro"), ("MAX_CIPHER_ALIGNMASK", "macro"),
    ("HASH_MAX_STATESIZE", "macro"),
    ("SG_CHAIN", "macro"), ("SG_END", "macro"), ("SG_PAGE_LINK_MASK", "macro"),
    ("SG_MITER_ATOMIC", "macro"), ("SG_MITER_TO_SG", "macro"),
    ("SG_MITER_FROM_SG", "macro"), ("SG_MAX_SINGLE_ALLOC", "macro"),
    ("TS_AUTOLOAD", "macro"), ("TS_IGNORECASE", "macro"),
    ("RATELIMIT_MSG_ON_RELEASE", "macro"), ("JUMP_TYPE_FALSE", "macro"),
    ("JUMP_TYPE_TRUE", "macro"), ("JUMP_TYPE_LINKED", "macro"),
    ("JUMP_TYPE_MASK", "macro"), ("X86_VENDOR_INTEL", "macro"),
    ("X86_VENDOR_AMD", "macro"), ("NCAPINTS", "macro"), ("NBUGINTS", "macro"),
    ("REFCOUNT_SATURATED", "macro"), ("NLS_MAX_CHARSET_SIZE", "macro"),
    ("MAX_WCHAR_T", "macro"),
    ("UTF16_HOST_ENDIAN", "enum"), ("UTF16_LITTLE_ENDIAN", "enum"),
    ("UTF16_BIG_ENDIAN", "enum"),
    ("KPROBE_FLAG_GONE", "macro"),
    ("KPROBE_FLAG_DISABLED", "macro"), ("KPROBE_FLAG_FTRACE", "macro"),
    # task
    ("PF_KTHREAD", "macro"), ("PF_NO_SETAFFINITY", "macro"), ("PF_EXITING", "macro"),
    ("TASK_RUNNING", "macro"), ("TASK_INTERRUPTIBLE", "macro"),
    ("TASK_UNINTERRUPTIBLE", "macro"),
    # freezer, pids, iov_iter, decompressors, xarray (fs helpers)
    ("PF_NOFREEZE", "macro"), ("PF_SUSPEND_TASK", "macro"),
    ("PIDTYPE_PID", "enum"), ("PIDTYPE_TGID", "enum"), ("PIDTYPE_PGID", "enum"),
    ("PIDTYPE_SID", "enum"), ("PIDTYPE_MAX", "enum"),
    ("ITER_BVEC", "enum"), ("ITER_PIPE", "enum"), ("ITER_XARRAY", "enum"),
    ("ITER_DISCARD", "enum"),
    ("Z_OK", "macro"), ("Z_STREAM_END", "macro"), ("Z_NEED_DICT", "macro"),
    ("Z_ERRNO", "macro"), ("Z_STREAM_ERROR", "macro"), ("Z_DATA_ERROR", "macro"),
    ("Z_MEM_ERROR", "macro"), ("Z_BUF_ERROR", "macro"), ("Z_NO_FLUSH", "macro"),
    ("Z_PARTIAL_FLUSH", "macro"), ("Z_SYNC_FLUSH", "macro"), ("Z_FULL_FLUSH", "macro"),
    ("Z_FINISH", "macro"), ("Z_BLOCK", "macro"), ("MAX_WBITS", "macro"),
    ("XZ_SINGLE", "enum"), ("XZ_PREALLOC", "enum"), ("XZ_DYNALLOC", "enum"),
    ("XZ_OK", "enum"), ("XZ_STREAM_END", "enum"), ("XZ_UNSUPPORTED_CHECK", "enum"),
    ("XZ_MEM_ERROR", "enum"), ("XZ_MEMLIMIT_ERROR", "enum"), ("XZ_FORMAT_ERROR", "enum"),
    ("XZ_OPTIONS_ERROR", "enum"), ("XZ_DATA_ERROR", "enum"), ("XZ_BUF_ERROR", "enum"),
    ("LZO_E_OK", "macro"), ("LZO_E_ERROR", "macro"), ("LZO_E_OUT_OF_MEMORY", "macro"),
    ("LZO_E_NOT_COMPRESSIBLE", "macro"), ("LZO_E_INPUT_OVERRUN", "macro"),
    ("LZO_E_OUTPUT_OVERRUN", "macro"), ("LZO_E_LOOKBEHIND_OVERRUN", "macro"),
    ("LZO_E_EOF_NOT_FOUND", "macro"), ("LZO_E_INPUT_NOT_CONSUMED", "macro"),
    ("LZO_E_NOT_YET_IMPLEMENTED", "macro"), ("LZO_E_INVALID_ARGUMENT", "macro"),
    ("XA_FLAGS_TRACK_FREE", "macro"), ("XA_FLAGS_ZERO_BUSY", "macro"),
    ("XA_FLAGS_ALLOC_WRAPPED", "macro"), ("XA_FLAGS_ACCOUNT", "macro"),
    ("XA_CHUNK_SHIFT", "macro"), ("XA_MAX_MARKS", "macro"), ("__GFP_BITS_SHIFT", "macro"),
    ("XA_PRESENT", "macro"), ("XA_MARK_0", "macro"), ("XA_FREE_MARK", "macro"),
    ("XA_MARK_MAX", "macro"), ("XA_ZERO_ENTRY", "macro"), ("XA_RETRY_ENTRY", "macro"),
    ("MAX_ERRNO", "macro"), ("UUID_SIZE", "macro"), ("JOBCTL_PENDING_MASK", "macro"),
    # paravirt
    ("CLBR_ANY", "macro"), ("CLBR_RET_REG", "macro"),
    # x86 CPU matching, ASN.1, padata, notifiers (stubs/arch, stubs/lib, stubs/kernel)
    ("X86_VENDOR_ANY", "macro"), ("X86_FAMILY_ANY", "macro"), ("X86_MODEL_ANY", "macro"),
    ("X86_STEPPING_ANY", "macro"), ("X86_FEATURE_ANY", "macro"),
    ("ASN1_CONS_BIT", "macro"), ("ASN1_INDEFINITE_LENGTH", "macro"),
    ("ASN1_LONG_TAG", "enum"), ("ASN1_PRIM", "enum"),
    ("ASN1_OP_MATCH__SKIP", "macro"), ("ASN1_OP_MATCH__ACT", "macro"),
    ("ASN1_OP_MATCH__JUMP", "macro"), ("ASN1_OP_MATCH__ANY", "macro"),
    ("ASN1_OP_MATCH__COND", "macro"), ("ASN1_OP__MATCHES_TAG", "macro"),
    ("ASN1_OP_END__SET", "macro"), ("ASN1_OP_END__OF", "macro"),
    ("ASN1_OP_END__ACT", "macro"), ("OID__NR", "enum"),
    ("PADATA_INIT", "macro"), ("PADATA_RESET", "macro"), ("PADATA_INVALID", "macro"),
    ("PADATA_CPU_SERIAL", "macro"), ("PADATA_CPU_PARALLEL", "macro"),
    ("NOTIFY_DONE", "macro"), ("NOTIFY_OK", "macro"), ("NOTIFY_STOP_MASK", "macro"),
    ("NOTIFY_BAD", "macro"), ("NOTIFY_STOP", "macro"),
    ("MAX_SYNC_SKCIPHER_REQSIZE", "macro"),
    ("ZSTD_error_maxCode", "enum"), ("DMA_COMPLETE", "enum"), ("DMA_ERROR", "enum"), ("DMA_TX_TYPE_END", "enum"),
    # device model, resources, irqs (stubs/drivers, stubs/kernel/irq, resource.py)
    ("SYSTEM_RUNNING", "enum"), ("VM_READAHEAD_PAGES", "macro"), ("FT_MAX", "enum"),
    ("DT_UNKNOWN", "macro"), ("DT_REG", "macro"), ("DT_DIR", "macro"), ("DT_CHR", "macro"),
    ("DT_BLK", "macro"), ("DT_FIFO", "macro"), ("DT_SOCK", "macro"), ("DT_LNK", "macro"),
    ("NMI_LOCAL", "enum"), ("NMI_UNKNOWN", "enum"), ("NMI_SERR", "enum"),
    ("NMI_IO_CHECK", "enum"), ("NMI_MAX", "enum"), ("NMI_FLAG_FIRST", "macro"),
    ("UEVENT_NUM_ENVP", "macro"), ("UEVENT_BUFFER_SIZE", "macro"), ("FASYNC_MAGIC", "macro"),
    ("ENOIOCTLCMD", "macro"), ("XEN_NATIVE", "enum"), ("SYS_RESTART", "macro"),
    ("RPM_ACTIVE", "enum"), ("RPM_RESUMING", "enum"), ("RPM_SUSPENDED", "enum"),
    ("RPM_SUSPENDING", "enum"), ("RPM_ASYNC", "macro"), ("RPM_NOWAIT", "macro"),
    ("RPM_GET_PUT", "macro"), ("RPM_AUTO", "macro"),
    ("PLATFORM_DEVID_NONE", "macro"), ("PLATFORM_DEVID_AUTO", "macro"),
    ("IORESOURCE_BITS", "macro"), ("IORESOURCE_TYPE_BITS", "macro"),
    ("IORESOURCE_IO", "macro"), ("IORESOURCE_MEM", "macro"), ("IORESOURCE_REG", "macro"),
    ("IORESOURCE_IRQ", "macro"), ("IORESOURCE_DMA", "macro"), ("IORESOURCE_BUS", "macro"),
    ("IORESOURCE_BUSY", "macro"), ("IORESOURCE_EXCLUSIVE", "macro"),
    ("IORESOURCE_MUXED", "macro"), ("IORESOURCE_DISABLED", "macro"),
    ("IORESOURCE_UNSET", "macro"), ("IORESOURCE_SYSRAM", "macro"),
    ("IORES_DESC_NONE", "enum"), ("IO_SPACE_LIMIT", "macro"),
    ("IRQF_SHARED", "macro"), ("IRQF_ONESHOT", "macro"), ("IRQF_PROBE_SHARED", "macro"),
    ("IRQF_TRIGGER_MASK", "macro"), ("IRQF_NO_AUTOEN", "macro"), ("IRQF_PERCPU", "macro"),
    ("IRQF_NO_THREAD", "macro"), ("IRQF_COND_SUSPEND", "macro"), ("IRQF_NO_SUSPEND", "macro"),
    ("NR_IRQS", "macro"), ("IDR_FREE", "macro"), ("XA_FLAGS_ALLOC", "macro"),
    ("IRQF_TIMER", "macro"), ("PCIBIOS_DEVICE_NOT_FOUND", "macro"),
    ("PCI_ANY_ID", "macro"), ("BUS_NOTIFY_ADD_DEVICE", "macro"),
    ("BUS_NOTIFY_DEL_DEVICE", "macro"), ("BUS_NOTIFY_REMOVED_DEVICE", "macro"),
    ("BUS_NOTIFY_BIND_DRIVER", "macro"), ("BUS_NOTIFY_BOUND_DRIVER", "macro"),
    ("BUS_NOTIFY_UNBIND_DRIVER", "macro"), ("BUS_NOTIFY_UNBOUND_DRIVER", "macro"),
    ("BUS_NOTIFY_DRIVER_NOT_BOUND", "macro"),
    ("PROBE_PREFER_ASYNCHRONOUS", "enum"), ("IORESOURCE_EXT_TYPE_BITS", "macro"),
    ("PLATFORM_NAME_SIZE", "macro"), ("I2C_NAME_SIZE", "macro"),
    ("DMI_NONE", "enum"), ("DMI_BIOS_VENDOR", "enum"), ("DMI_BIOS_VERSION", "enum"),
    ("DMI_BIOS_DATE", "enum"), ("DMI_BIOS_RELEASE", "enum"),
    ("DMI_EC_FIRMWARE_RELEASE", "enum"), ("DMI_SYS_VENDOR", "enum"),
    ("DMI_PRODUCT_NAME", "enum"), ("DMI_PRODUCT_VERSION", "enum"),
    ("DMI_PRODUCT_SERIAL", "enum"), ("DMI_PRODUCT_UUID", "enum"), ("DMI_PRODUCT_SKU", "enum"),
    ("DMI_PRODUCT_FAMILY", "enum"), ("DMI_BOARD_VENDOR", "enum"), ("DMI_BOARD_NAME", "enum"),
    ("DMI_BOARD_VERSION", "enum"), ("DMI_BOARD_SERIAL", "enum"),
    ("DMI_BOARD_ASSET_TAG", "enum"), ("DMI_CHASSIS_VENDOR", "enum"),
    ("DMI_CHASSIS_TYPE", "enum"), ("DMI_CHASSIS_VERSION", "enum"),
    ("DMI_CHASSIS_SERIAL", "enum"), ("DMI_CHASSIS_ASSET_TAG", "enum"),
    ("DMI_STRING_MAX", "enum"), ("DMI_OEM_STRING", "enum"),
    ("EV_SYN", "macro"), ("EV_KEY", "macro"), ("EV_REL", "macro"), ("EV_ABS", "macro"),
    ("EV_MSC", "macro"), ("EV_SW", "macro"), ("EV_LED", "macro"), ("EV_SND", "macro"),
    ("EV_REP", "macro"), ("EV_FF", "macro"), ("EV_PWR", "macro"), ("EV_FF_STATUS", "macro"),
    ("EV_MAX", "macro"), ("EV_CNT", "macro"), ("KEY_RESERVED", "macro"), ("KEY_CNT", "macro"),
    ("REL_CNT", "macro"), ("ABS_CNT", "macro"), ("MSC_CNT", "macro"), ("LED_CNT", "macro"),
    ("FF_MAX_EFFECTS", "macro"), ("FF_PERIODIC", "macro"), ("FF_RUMBLE", "macro"),
    ("FF_GAIN", "macro"), ("FF_AUTOCENTER", "macro"),
    ("SND_CNT", "macro"), ("FF_CNT", "macro"), ("SW_CNT", "macro"), ("REP_DELAY", "macro"),
    ("REP_PERIOD", "macro"), ("REP_CNT", "macro"), ("ABS_MT_SLOT", "macro"),
    ("INPUT_DEVICE_ID_MATCH_BUS", "macro"), ("INPUT_DEVICE_ID_MATCH_VENDOR", "macro"),
    ("INPUT_DEVICE_ID_MATCH_PRODUCT", "macro"), ("INPUT_DEVICE_ID_MATCH_VERSION", "macro"),
    ("INPUT_PROP_CNT", "macro"), ("AE_OK", "macro"), ("AE_NOT_FOUND", "macro"),
    ("AE_NOT_EXIST", "macro"), ("AE_ALREADY_EXISTS", "macro"), ("AE_BAD_PARAMETER", "macro"),
    ("AE_TYPE", "macro"), ("AE_NULL_ENTRY", "macro"), ("ACPI_SYSTEM_NOTIFY", "macro"),
    ("ACPI_DEVICE_NOTIFY", "macro"), ("ACPI_ALL_NOTIFY", "macro"),
    ("LED_OFF", "enum"), ("LED_FULL", "enum"), ("LED_CORE_SUSPENDRESUME", "macro"),
    ("LED_SUSPENDED", "macro"), ("LED_UNREGISTERING", "macro"),
    ("LED_RETAIN_AT_SHUTDOWN", "macro"), ("LED_INIT_DEFAULT_TRIGGER", "macro"),
]

# Families of enumerators whose names are taken from header text:
# (header path candidates relative to the source tree, name regex).
SCANNED_ENUMS: list[tuple[list[str], str]] = [
    (["include/linux/asn1_ber_bytecode.h"], r"ASN1_OP_[A-Z_]+"),
    (["include/linux/oid_registry.h"], r"OID_[A-Za-z0-9_]+"),
    (["include/linux/zstd_errors.h"], r"ZSTD_error_[A-Za-z0-9_]+"),
]

# Families of object-like macros whose names are taken from header text.
# (header path candidates relative to the source tree, name regex)
SCANNED_CONSTANTS: list[tuple[list[str], str]] = [
    (["include/linux/panic.h", "include/linux/kernel.h"], r"TAINT_\w+"),
    (["arch/x86/include/asm/extable_fixup_types.h"],
     r"EX_(?:TYPE|DATA|FLAG|REG)_\w+"),
    (["arch/x86/include/asm/cpufeatures.h"], r"X86_(?:FEATURE|BUG)_\w+"),
]

# Config options recorded verbatim (when set).
CONFIG_KEYS = [
    "CONFIG_64BIT", "CONFIG_X86_64", "CONFIG_SMP", "CONFIG_NR_CPUS",
    "CONFIG_HZ", "CONFIG_PREEMPT_BUILD", "CONFIG_PREEMPT_RT",
    "CONFIG_PREEMPT_DYNAMIC", "CONFIG_PREEMPT_VOLUNTARY", "CONFIG_PREEMPT",
    "CONFIG_PREEMPT_NONE", "CONFIG_MODULES", "CONFIG_MODULE_UNLOAD",
    "CONFIG_MODVERSIONS", "CONFIG_MODULE_SIG", "CONFIG_MODULE_SIG_FORCE",
    "CONFIG_MODULE_SIG_ALL", "CONFIG_MODULE_SIG_HASH",
    "CONFIG_MODULES_TREE_LOOKUP", "CONFIG_MODULE_COMPRESS_NONE",
    "CONFIG_MODULE_COMPRESS_XZ", "CONFIG_MODULE_ALLOW_BTF_MISMATCH",
    "CONFIG_PARAVIRT", "CONFIG_PARAVIRT_XXL", "CONFIG_PARAVIRT_SPINLOCKS",
    "CONFIG_RETPOLINE", "CONFIG_RETHUNK", "CONFIG_SLS",
    "CONFIG_CALL_DEPTH_TRACKING", "CONFIG_CPU_IBT", "CONFIG_X86_KERNEL_IBT",
    "CONFIG_STACKPROTECTOR", "CONFIG_STACKPROTECTOR_STRONG",
    "CONFIG_HAVE_ARCH_PREL32_RELOCATIONS",
    "CONFIG_GENERIC_BUG", "CONFIG_GENERIC_BUG_RELATIVE_POINTERS",
    "CONFIG_DEBUG_BUGVERBOSE", "CONFIG_JUMP_LABEL",
    "CONFIG_HAVE_STATIC_CALL", "CONFIG_HAVE_STATIC_CALL_INLINE",
    "CONFIG_UNWINDER_ORC", "CONFIG_FUNCTION_TRACER", "CONFIG_DYNAMIC_FTRACE",
    "CONFIG_FTRACE_MCOUNT_RECORD", "CONFIG_KPROBES", "CONFIG_SLUB",
    "CONFIG_SLAB", "CONFIG_DYNAMIC_MEMORY_LAYOUT", "CONFIG_RANDOMIZE_BASE",
    "CONFIG_RANDOMIZE_MEMORY", "CONFIG_X86_5LEVEL", "CONFIG_PGTABLE_LEVELS",
    "CONFIG_RANDSTRUCT_NONE", "CONFIG_RANDSTRUCT_FULL",
    "CONFIG_RANDSTRUCT_PERFORMANCE", "CONFIG_KALLSYMS",
    "CONFIG_KALLSYMS_ALL", "CONFIG_DEBUG_INFO_BTF_MODULES",
    "CONFIG_CC_VERSION_TEXT", "CONFIG_GCC_VERSION", "CONFIG_LOCALVERSION",
    "CONFIG_THREAD_INFO_IN_TASK", "CONFIG_VMAP_STACK", "CONFIG_KASAN",
    "CONFIG_DEBUG_LOCK_ALLOC", "CONFIG_DEBUG_SPINLOCK", "CONFIG_LOCKDEP",
    "CONFIG_TRIM_UNUSED_KSYMS", "CONFIG_HAVE_ARCH_SECCOMP",
    "CONFIG_CFI_CLANG", "CONFIG_SHADOW_CALL_STACK",
    "CONFIG_INIT_STACK_ALL_ZERO", "CONFIG_ZERO_CALL_USED_REGS",
]


class GenError(RuntimeError):
    """The target description could not be generated."""


@dataclass
class Result:
    """Everything extracted, before serialisation."""

    offsets: dict[str, int] = field(default_factory=dict)
    sizes: dict[str, int] = field(default_factory=dict)
    bitfields: dict[str, list[int]] = field(default_factory=dict)
    consts: dict[str, int] = field(default_factory=dict)
    missing: set[str] = field(default_factory=set)
    warnings: list[str] = field(default_factory=list)
    #: what the kernel line is known not to have (kemu.target.lines)
    absent: frozenset[str] = frozenset()

    def warn(self, msg: str) -> None:
        self.warnings.append(msg)
        print(f"warning: {msg}", file=sys.stderr)

    def lack(self, name: str, msg: str) -> None:
        """name is not in these headers: a warning and recorded as missing,
        unless the line's table (kemu.target.lines) says it does not have it."""
        if name not in self.absent:
            self.missing.add(name)
            self.warn(msg)


# ---------------------------------------------------------------------------
# Headers tree
# ---------------------------------------------------------------------------

def _natural_key(s: str):
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", s)]


def default_headers() -> Path:
    """Return the newest /usr/src/linux-headers-*-amd64 directory."""
    dirs = [d for d in glob.glob("/usr/src/linux-headers-*-amd64")
            if os.path.isfile(os.path.join(d, "Module.symvers"))]
    if not dirs:
        raise GenError("no /usr/src/linux-headers-*-amd64 with Module.symvers"
                       " found; install linux-headers-amd64 or pass --headers")
    return Path(max(dirs, key=lambda d: _natural_key(os.path.basename(d))))


def source_tree(kdir: Path) -> Path:
    """The directory holding the kernel's include/ and arch/ trees.

    Debian's -amd64 directory only has a Makefile that includes the -common
    one; follow that include, else assume a full tree.
    """
    mk = kdir / "Makefile"
    if mk.is_file():
        m = re.search(r"^include\s+(\S+)/Makefile\s*$", mk.read_text(),
                      re.M)
        if m and Path(m.group(1)).is_dir():
            return Path(m.group(1))
    return kdir


def find_header(kdir: Path, rel: str) -> Path | None:
    """Find a header under the build or the source tree."""
    for base in (kdir, source_tree(kdir)):
        p = base / rel
        if p.is_file():
            return p
    return None


def read_config(kdir: Path) -> dict[str, str]:
    """Parse the .config (or include/config/auto.conf) of the tree."""
    for rel in (".config", "include/config/auto.conf"):
        p = kdir / rel
        if p.is_file():
            cfg = {}
            for line in p.read_text().splitlines():
                m = re.match(r"^(CONFIG_\w+)=(.*)$", line)
                if m:
                    val = m.group(2)
                    if val.startswith('"') and val.endswith('"'):
                        val = json.loads(val)
                    cfg[m.group(1)] = val
            return cfg
    raise GenError(f"{kdir}: no .config")


def read_release(kdir: Path) -> str:
    """UTS_RELEASE (what vermagic and uname -r carry)."""
    p = kdir / "include/generated/utsrelease.h"
    if p.is_file():
        m = re.search(r'#define\s+UTS_RELEASE\s+"([^"]+)"', p.read_text())
        if m:
            return m.group(1)
    p = kdir / "include/config/kernel.release"
    if p.is_file():
        return p.read_text().strip()
    raise GenError(f"{kdir}: cannot find the kernel release")


def read_kernel_version(kdir: Path) -> str | None:
    """The upstream version MAJOR.PATCHLEVEL.SUBLEVEL, when known."""
    p = kdir / "include/generated/uapi/linux/version.h"
    if p.is_file():
        text = p.read_text()
        parts = [re.search(rf"#define\s+LINUX_VERSION_{k}\s+(\d+)", text)
                 for k in ("MAJOR", "PATCHLEVEL", "SUBLEVEL")]
        if all(parts):
            return ".".join(m.group(1) for m in parts)
    p = kdir / "include/config/kernel.release"
    if p.is_file():
        m = re.match(r"(\d+\.\d+(?:\.\d+)?)", p.read_text())
        if m:
            return m.group(1)
    return None


def reconstruct_vermagic(kdir: Path, release: str,
                         cfg: dict[str, str]) -> str | None:
    """Rebuild VERMAGIC_STRING the way include/linux/vermagic.h does.

    Returns None for architectures whose MODULE_ARCH_VERMAGIC is not known.
    """
    def on(k: str) -> bool:
        return cfg.get(k) == "y"

    if not on("CONFIG_X86_64"):
        return None  # MODULE_PROC_FAMILY etc. are only known for x86_64
    s = release + " "
    if on("CONFIG_SMP"):
        s += "SMP "
    if on("CONFIG_PREEMPT_BUILD"):
        s += "preempt "
    elif on("CONFIG_PREEMPT_RT"):
        s += "preempt_rt "
    if on("CONFIG_MODULE_UNLOAD"):
        s += "mod_unload "
    if on("CONFIG_MODVERSIONS"):
        s += "modversions "
    # x86_64: MODULE_ARCH_VERMAGIC is MODULE_PROC_FAMILY == ""
    if on("CONFIG_RANDSTRUCT_FULL") or on("CONFIG_RANDSTRUCT_PERFORMANCE"):
        p = kdir / "include/generated/randstruct_hash.h"
        if not p.is_file():
            return None
        m = re.search(r'RANDSTRUCT_HASHED_SEED\s+"([^"]*)"', p.read_text())
        if not m:
            return None
        s += "RANDSTRUCT_" + m.group(1)
    return s


def read_symvers(kdir: Path, res: Result) -> list[list]:
    """Module.symvers -> sorted [name, crc, gpl, exporter, namespace] rows."""
    rows = []
    path = kdir / "Module.symvers"
    for n, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip():
            continue
        f = line.split("\t")
        if len(f) < 4:
            raise GenError(f"{path}:{n}: malformed line {line!r}")
        crc, name, exporter, kind = f[:4]
        ns = f[4] if len(f) > 4 else ""
        if kind == "EXPORT_SYMBOL":
            gpl = 0
        elif kind == "EXPORT_SYMBOL_GPL":
            gpl = 1
        else:
            res.warn(f"Module.symvers: {name}: unknown export kind {kind!r}")
            gpl = 1 if "GPL" in kind else 0
        rows.append([name, int(crc, 16), gpl, exporter, ns])
    rows.sort(key=lambda r: (r[0], r[3]))
    return rows


# ---------------------------------------------------------------------------
# Probe build
# ---------------------------------------------------------------------------

def scan_macro_names(kdir: Path, res: Result) -> list[str]:
    """Names of object-like macros of the SCANNED_CONSTANTS families."""
    names: set[str] = set()
    for rels, pattern in SCANNED_CONSTANTS:
        found = None
        for rel in rels:
            p = find_header(kdir, rel)
            if p is None:
                continue
            text = p.read_text(errors="replace")
            hits = re.findall(rf"^\s*#\s*define\s+({pattern})(?=[ \t])",
                              text, re.M)
            if hits:
                found = hits
                break
        if found is None:
            res.warn(f"no {pattern} macros found in any of {rels}")
            continue
        names.update(found)
    return sorted(names)


def scan_enum_names(kdir: Path, res: Result) -> list[str]:
    """Names of enumerators of the SCANNED_ENUMS families (one per line, "NAME," or
    "NAME = value,")."""
    names: list[str] = []
    for rels, pattern in SCANNED_ENUMS:
        found = None
        for rel in rels:
            p = find_header(kdir, rel)
            if p is None:
                continue
            hits = re.findall(rf"^\s*({pattern})\s*(?:=[^,]*)?,",
                              p.read_text(errors="replace"), re.M)
            if hits:
                found = hits
                break
        if found is None:
            res.warn(f"no {pattern} enumerators found in any of {rels}")
            continue
        names += [n for n in found if n not in names]
    return names


def slub_def_header(kdir: Path, res: Result) -> str:
    """The definitions part of <linux/slub_def.h>, for struct kmem_cache.

    In 6.1 the header is only meant for mm/ (its inline helpers need mm/'s
    private struct slab), so it cannot be included as is.  The copy keeps
    the text up to the end of "struct kmem_cache {...};" -- the real
    definitions, unchanged -- and drops the helpers after it.
    """
    p = find_header(kdir, "include/linux/slub_def.h")
    if p is None:
        return "/* no slub_def.h: struct kmem_cache stays opaque */\n"
    lines = p.read_text().splitlines()
    start = next((i for i, l in enumerate(lines)
                  if l.startswith("struct kmem_cache {")), None)
    end = None if start is None else next(
        (i for i in range(start, len(lines)) if lines[i].startswith("};")),
        None)
    if end is None:
        res.warn(f"{p}: no struct kmem_cache definition found")
        return "/* struct kmem_cache stays opaque */\n"
    return "\n".join([f"/* first {end + 1} lines of {p.name} */"]
                     + lines[:end + 1] + ["#endif", ""])


STUBS = HERE.parent / "stubs"


def declared_members(root: Path = STUBS) -> dict[str, list[str]]:
    """``members("struct x", "a", "b")`` declarations of the models under ``root``
    (kemu.abi.exports.members), found by a static scan, in file order."""
    import ast
    out: dict[str, list[str]] = {}
    for path in sorted(root.rglob("*.py")):
        text = path.read_text()
        if "members(" not in text:
            continue
        for node in ast.walk(ast.parse(text, str(path))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "members" \
                    and node.args and all(isinstance(a, ast.Constant) and isinstance(a.value, str)
                                          for a in node.args):
                struct, *names = [a.value for a in node.args]
                out.setdefault(struct.removeprefix("struct "), []).extend(names)
    return out


def all_structs() -> dict[str, list[str]]:
    """STRUCTS with the members the models declare next to themselves."""
    merged = {name: list(specs) for name, specs in STRUCTS.items()}
    for struct, names in declared_members().items():
        specs = merged.setdefault(struct, [])
        specs += [n for n in names if n not in specs]
    return merged
def _include(header: str) -> str:
    """An #include of header, guarded where it is a system header: it is
    skipped on a kernel line that does not have it."""
    if header.startswith('"'):
        return f"#include {header}"
    return f"#if __has_include(<{header}>)\n#include <{header}>\n#endif"


def write_probe_headers(tmp: Path, const_names: list[tuple[str, str]],
                        slub_def: str = "", absent: frozenset[str] = frozenset()):
    """Generate kemu_probe_types.h, kemu_probe_consts.h and
    kemu_slub_def.h in tmp."""
    (tmp / "kemu_slub_def.h").write_text(slub_def)
    lines = ["/* generated by kemu.target.gen */"]
    lines += [_include(h) for h in PROBE_INCLUDES]
    (tmp / "kemu_probe_includes.h").write_text("\n".join(lines) + "\n")
    lines = ["/* generated by kemu.target.gen */"]
    lines += [_include(h) for h in EXTRA_INCLUDES]
    # probe.c's own cross-checks skip a struct the line does not define
    lines += [f"#define KEMU_ABSENT_{s} 1" for s in sorted(absent) if s in STRUCTS]
    lines += ["struct kemu_probe_anchors {"]
    for i, s in enumerate(sorted(all_structs())):
        lines.append(f"\tstruct {s} *s{i};")
    for i, t in enumerate(TYPEDEFS):
        lines.append(f"\t{t} *t{i};")
    for i, t in enumerate(sorted(TYPEDEF_STRUCTS)):
        lines.append(f"\t{t} *ts{i};")
    lines += ["};",
              "struct kemu_probe_anchors kemu_probe_anchors;", ""]
    (tmp / "kemu_probe_types.h").write_text("\n".join(lines))

    lines = ["/* generated by kemu.target.gen */"]
    for name, kind in const_names:
        if kind == "absent":
            lines.append(f'KEMU_MISSING("{name}");')
        elif kind == "enum":
            lines.append(f'KEMU_CONST("{name}", {name});')
        else:
            lines += [f"#ifdef {name}",
                      f'KEMU_CONST("{name}", {name});',
                      "#else",
                      f'KEMU_MISSING("{name}");',
                      "#endif"]
    lines.append("")
    (tmp / "kemu_probe_consts.h").write_text("\n".join(lines))


def build_probe(kdir: Path, tmp: Path, const_names, res: Result,
                verbose=False) -> None:
    """Build probe.ko (and probe.o) in tmp through Kbuild."""
    shutil.copyfile(PROBE_SOURCE, tmp / "probe.c")
    (tmp / "Kbuild").write_text("obj-m := probe.o\n")
    write_probe_headers(tmp, const_names, slub_def_header(kdir, res), res.absent)
    env = dict(os.environ, LC_ALL="C")
    for k in ("ARCH", "CROSS_COMPILE", "KBUILD_OUTPUT", "O", "M", "V",
              "KBUILD_EXTRA_SYMBOLS", "KCFLAGS"):
        env.pop(k, None)
    cmd = ["make", "-C", str(kdir), f"M={tmp}", "modules"]
    try:
        proc = subprocess.run(cmd, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True)
    except OSError as e:
        raise GenError(f"cannot run make: {e}") from e
    if verbose or proc.returncode != 0:
        sys.stderr.write(proc.stdout)
    if proc.returncode != 0:
        undeclared = sorted(set(re.findall(
            r"kemu_probe_consts\.h:\d+:\d+: error: .(\w+). undeclared",
            proc.stdout)))
        if undeclared:
            raise GenError(
                f"these headers have no enumerator {', '.join(undeclared)}: "
                f"name it in its line's absent set in kemu/target/lines.py")
        raise GenError(f"probe build failed ({' '.join(cmd)}), "
                       f"exit {proc.returncode}")
    for f in ("probe.o", "probe.ko"):
        if not (tmp / f).is_file():
            raise GenError(f"probe build produced no {f}")


def parse_probe_consts(obj: Path, res: Result,
                       quiet: frozenset[str] = frozenset()) -> dict[str, int]:
    """Read the "->NAME HI LO UNSIGNED SIZE" strings from .kemu_probe.

    Returns the "@name" layout checks; constants go to res.consts.
    """
    from elftools.elf.elffile import ELFFile

    with open(obj, "rb") as f:
        elf = ELFFile(f)
        sec = elf.get_section_by_name(".kemu_probe")
        if sec is None:
            raise GenError(f"{obj}: no .kemu_probe section")
        data = sec.data()
    checks: dict[str, int] = {}
    for raw in data.split(b"\0"):
        if not raw:
            continue
        m = re.fullmatch(rb"->(\S+) \$?(-?\d+) \$?(-?\d+) \$?(\d+) \$?(\d+)",
                         raw)
        if not m:
            raise GenError(f"unparsable probe string {raw!r}")
        name = m.group(1).decode()
        hi, lo, unsigned, size = (int(m.group(i)) for i in (2, 3, 4, 5))
        if name.startswith("!"):
            # Names scanned from header text may sit in another #ifdef
            # branch (e.g. 32-bit only): not worth a warning.
            if name[1:] not in quiet:
                res.lack(name[1:], f"constant {name[1:]} is not defined by "
                         f"these headers; skipped")
            continue
        val = ((hi & 0xFFFFFFFF) << 32) | (lo & 0xFFFFFFFF)
        if unsigned:
            val &= (1 << (8 * size)) - 1
        elif val >= 1 << 63:
            val -= 1 << 64
        if name.startswith("@"):
            checks[name[1:]] = val
        else:
            res.consts[name] = val
    return checks


# ---------------------------------------------------------------------------
# DWARF
# ---------------------------------------------------------------------------

_QUALIFIERS = {"DW_TAG_typedef", "DW_TAG_const_type", "DW_TAG_volatile_type",
               "DW_TAG_restrict_type", "DW_TAG_atomic_type"}
_AGGREGATES = {"DW_TAG_structure_type", "DW_TAG_union_type"}


class Dwarf:
    """The struct / typedef definitions found at the top level of probe.o."""

    def __init__(self, path: Path):
        from elftools.elf.elffile import ELFFile

        self._f = open(path, "rb")
        elf = ELFFile(self._f)
        if not elf.has_dwarf_info():
            raise GenError(f"{path}: no DWARF (CONFIG_DEBUG_INFO off?)")
        self.structs: dict[str, object] = {}
        self.declared: set[str] = set()
        self.typedefs: dict[str, object] = {}
        for cu in elf.get_dwarf_info().iter_CUs():
            for die in cu.get_top_DIE().iter_children():
                name = self.name(die)
                if name is None:
                    continue
                if die.tag == "DW_TAG_structure_type":
                    if "DW_AT_declaration" in die.attributes:
                        self.declared.add(name)
                    else:
                        self.structs.setdefault(name, die)
                elif die.tag == "DW_TAG_typedef":
                    self.typedefs.setdefault(name, die)

    def close(self):
        """Close the object file."""
        self._f.close()

    @staticmethod
    def name(die) -> str | None:
        """DW_AT_name of a DIE as str (None when anonymous)."""
        a = die.attributes.get("DW_AT_name")
        if a is None:
            return None
        v = a.value
        return v.decode() if isinstance(v, bytes) else v

    @staticmethod
    def type_of(die):
        """The DIE's DW_AT_type (None for void)."""
        if "DW_AT_type" not in die.attributes:
            return None  # void
        return die.get_DIE_from_attribute("DW_AT_type")

    def strip(self, die):
        """Follow typedefs and cv-qualifiers."""
        while die is not None and die.tag in _QUALIFIERS:
            die = self.type_of(die)
        return die

    def size(self, die) -> int | None:
        """sizeof the type (None if incomplete)."""
        die = self.strip(die)
        if die is None:
            return None
        a = die.attributes.get("DW_AT_byte_size")
        if a is not None:
            return a.value
        if die.tag == "DW_TAG_array_type":
            elem = self.size(self.type_of(die))
            n = 1
            for sub in die.iter_children():
                if sub.tag != "DW_TAG_subrange_type":
                    continue
                if "DW_AT_count" in sub.attributes:
                    n *= sub.attributes["DW_AT_count"].value
                elif "DW_AT_upper_bound" in sub.attributes:
                    n *= sub.attributes["DW_AT_upper_bound"].value + 1
                else:
                    n = 0
            return None if elem is None else elem * n
        return None

    @staticmethod
    def member_location(member) -> tuple[int, int | None, int | None]:
        """(byte offset, bit offset within the struct, bit size)."""
        a = member.attributes
        bit_size = a["DW_AT_bit_size"].value if "DW_AT_bit_size" in a \
            else None
        if "DW_AT_data_bit_offset" in a:
            bit = a["DW_AT_data_bit_offset"].value
            return bit // 8, bit, bit_size
        off = 0
        loc = a.get("DW_AT_data_member_location")
        if loc is not None:
            if isinstance(loc.value, int):
                off = loc.value
            else:
                expr = bytes(loc.value)
                if not expr or expr[0] != 0x23:  # DW_OP_plus_uconst
                    raise GenError(f"unsupported member location {expr!r}")
                off, shift = 0, 0
                for b in expr[1:]:
                    off |= (b & 0x7F) << shift
                    shift += 7
                    if not b & 0x80:
                        break
        if bit_size is not None:
            # DWARF 4 style: DW_AT_bit_offset counts from the MSB of the
            # storage unit of DW_AT_byte_size (little-endian layout).
            unit = a["DW_AT_byte_size"].value if "DW_AT_byte_size" in a \
                else None
            if "DW_AT_bit_offset" in a and unit is not None:
                bit = off * 8 + unit * 8 - a["DW_AT_bit_offset"].value \
                    - bit_size
                return bit // 8, bit, bit_size
            return off, off * 8, bit_size
        return off, None, None

    def find_member(self, agg, name: str):
        """Find a member by name, looking into anonymous structs/unions.

        Returns (offset, member DIE, bit offset, bit size) or None.  The
        first match in declaration order wins (so for struct_group() the
        anonymous copy, not the named mirror, is found).
        """
        agg = self.strip(agg)
        if agg is None or agg.tag not in _AGGREGATES:
            return None
        for m in agg.iter_children():
            if m.tag != "DW_TAG_member":
                continue
            off, bit, bits = self.member_location(m)
            mname = self.name(m)
            if mname == name:
                return off, m, bit, bits
            if mname is None:
                sub = self.find_member(self.type_of(m), name)
                if sub is not None:
                    soff, sm, sbit, sbits = sub
                    return (off + soff, sm,
                            None if sbit is None else off * 8 + sbit, sbits)
        return None

    def resolve(self, agg, path: str):
        """Resolve a dotted member path.  Returns (offset, DIE, bit, bits)."""
        total, die, bit, bits = 0, None, None, None
        for i, part in enumerate(path.split(".")):
            if i:
                if bits is not None:
                    return None
                agg = self.type_of(die)
            hit = self.find_member(agg, part)
            if hit is None:
                return None
            off, die, bit, bits = hit
            if bit is not None:
                bit += total * 8
            total += off
        return total, die, bit, bits

    def is_fn_ptr(self, die) -> bool:
        """Whether the type is a pointer to a function."""
        t = self.strip(die)
        if t is None or t.tag != "DW_TAG_pointer_type":
            return False
        target = self.type_of(t)
        return target is not None and \
            self.strip(target) is not None and \
            self.strip(target).tag == "DW_TAG_subroutine_type"

    def fn_leaves(self, agg, prefix: str, base: int):
        """Yield (path, offset) of every function-pointer leaf of agg.

        struct paravirt_callee_save members count as leaves (they wrap the
        pointer the pv call goes through); nested structs are walked.
        """
        agg = self.strip(agg)
        if agg is None or agg.tag not in _AGGREGATES:
            return
        for m in agg.iter_children():
            if m.tag != "DW_TAG_member":
                continue
            off, _, _ = self.member_location(m)
            mname = self.name(m)
            path = f"{prefix}.{mname}" if mname else prefix
            mt = self.strip(self.type_of(m))
            if self.is_fn_ptr(m.get_DIE_from_attribute("DW_AT_type")):
                yield path, base + off
            elif mt is not None and mt.tag in _AGGREGATES:
                if self.name(mt) == PV_CALLEE_SAVE:
                    yield path, base + off
                else:
                    yield from self.fn_leaves(mt, path, base + off)


def extract_layouts(dw: Dwarf, res: Result) -> None:
    """Fill res.sizes / res.offsets / res.bitfields from the DWARF."""
    structs = all_structs()
    specs = {**structs, **TYPEDEF_STRUCTS}
    for struct in sorted(specs):
        die = dw.structs.get(struct) if struct in structs else \
            dw.strip(dw.typedefs.get(struct))
        if die is None:
            why = "opaque (only declared)" if struct in dw.declared \
                else "not found"
            res.lack(struct, f"struct {struct} is {why} in these headers; skipped")
            continue
        res.sizes[struct] = dw.size(die)
        for spec in specs[struct]:
            alts = spec.split("|")
            for member in alts:
                hit = dw.resolve(die, member)
                if hit is None:
                    continue
                off, _, bit, bits = hit
                key = f"{struct}.{alts[0]}"
                if bits is not None:
                    res.bitfields[key] = [bit, bits]
                    if bit % 8 == 0 and bits % 8 == 0:
                        res.offsets[key] = bit // 8  # byte-sized anyway
                    else:
                        res.warn(f"{key} is a bitfield; recorded in "
                                 f"bitfields only")
                else:
                    res.offsets[key] = off
                break
            else:
                res.lack(f"{struct}.{alts[0]}", f"struct {struct} has no member "
                         f"{' or '.join(alts)}; skipped")
        if struct == PV_TEMPLATE:
            for path, off in dw.fn_leaves(die, PV_TEMPLATE, 0):
                res.offsets[path] = off
    for name in TYPEDEFS:
        die = dw.typedefs.get(name)
        size = dw.size(die) if die is not None else None
        if size is None:
            res.lack(name, f"typedef {name} not found / has no size; skipped")
            continue
        res.sizes[name] = size


def check_layouts(checks: dict[str, int], res: Result) -> None:
    """Compare the compiler's offsetof/sizeof with what DWARF gave."""
    for name, val in sorted(checks.items()):
        got = res.offsets.get(name, res.sizes.get(name))
        if got != val:
            raise GenError(f"DWARF says {name} = {got}, compiler says {val}")


# ---------------------------------------------------------------------------
# probe.ko
# ---------------------------------------------------------------------------

def inspect_ko(ko: Path, res: Result) -> dict:
    """vermagic, module_layout CRC, and layout cross-checks from probe.ko."""
    from elftools.elf.elffile import ELFFile
    from elftools.elf.relocation import RelocationSection

    out: dict = {}
    with open(ko, "rb") as f:
        elf = ELFFile(f)
        modinfo = elf.get_section_by_name(".modinfo")
        if modinfo is None:
            raise GenError(f"{ko}: no .modinfo")
        for item in modinfo.data().split(b"\0"):
            if item.startswith(b"vermagic="):
                out["vermagic"] = item[len(b"vermagic="):].decode()
        if "vermagic" not in out:
            raise GenError(f"{ko}: no vermagic in .modinfo")

        versions = elf.get_section_by_name("__versions")
        if versions is not None:
            data = versions.data()
            entry = res.sizes.get("modversion_info", 64)
            for i in range(0, len(data), entry):
                crc = int.from_bytes(data[i:i + 8], "little")
                name = data[i + 8:i + entry].split(b"\0")[0].decode()
                if name == "module_layout":
                    out["module_layout_crc"] = crc

        this = elf.get_section_by_name(".gnu.linkonce.this_module")
        if this is None:
            raise GenError(f"{ko}: no .gnu.linkonce.this_module")
        out["this_module_size"] = this.header.sh_size
        symtab = elf.get_section_by_name(".symtab")
        relocs = {}
        for sec in elf.iter_sections():
            if isinstance(sec, RelocationSection) and \
                    elf.get_section(sec.header.sh_info).name == \
                    ".gnu.linkonce.this_module":
                for r in sec.iter_relocations():
                    sym = symtab.get_symbol(r["r_info_sym"])
                    relocs[sym.name] = r["r_offset"]
        out["this_module_relocs"] = relocs
    return out


def check_ko(ko_info: dict, res: Result, layout_crc: int | None) -> None:
    """Cross-check probe.ko against the DWARF layout and Module.symvers."""
    if ko_info["this_module_size"] != res.sizes.get("module"):
        raise GenError(f"sizeof(struct module) {res.sizes.get('module')} != "
                       f".gnu.linkonce.this_module size "
                       f"{ko_info['this_module_size']}")
    relocs = ko_info["this_module_relocs"]
    for sym, member in (("init_module", "module.init"),
                        ("cleanup_module", "module.exit")):
        if sym in relocs and relocs[sym] != res.offsets.get(member):
            raise GenError(f"{member}: DWARF {res.offsets.get(member)} but "
                           f"{sym} is relocated at {relocs[sym]}")
        if sym not in relocs:
            res.warn(f"probe.ko: no relocation to {sym} in this_module")
    ko_crc = ko_info.get("module_layout_crc")
    if ko_crc is not None and layout_crc is not None and ko_crc != layout_crc:
        raise GenError(f"module_layout CRC: probe.ko {ko_crc:#x}, "
                       f"Module.symvers {layout_crc:#x}")


# ---------------------------------------------------------------------------
# Driver
# ---------------------------------------------------------------------------

def generate(kdir: Path, verbose: bool = False) -> dict:
    """Build the probe against kdir and return the target description."""
    kdir = Path(kdir).resolve()
    if not (kdir / "Module.symvers").is_file():
        raise GenError(f"{kdir}: no Module.symvers (not a kernel build dir)")
    cfg = read_config(kdir)
    release = read_release(kdir)
    version = read_kernel_version(kdir)
    line = line_of(version)
    res = Result(absent=line.absent)
    symbols = read_symvers(kdir, res)
    layout_crc = next((r[1] for r in symbols if r[0] == "module_layout"),
                      None)
    if layout_crc is None:
        res.warn("module_layout is not in Module.symvers")

    const_names = list(CONSTANTS)
    known = {n for n, _ in const_names}
    scanned = [n for n in scan_macro_names(kdir, res) if n not in known]
    const_names += [(n, "macro") for n in scanned]
    known.update(scanned)
    const_names += [(n, "enum") for n in scan_enum_names(kdir, res) if n not in known]
    # an enumerator cannot be #ifdef'd: the line's table says which it lacks
    const_names = [(n, "absent" if kind == "enum" and n in line.absent else kind)
                   for n, kind in const_names]

    with tempfile.TemporaryDirectory(prefix="kemu-probe-") as td:
        tmp = Path(td)
        build_probe(kdir, tmp, const_names, res, verbose)
        checks = parse_probe_consts(tmp / "probe.o", res,
                                    frozenset(scanned))
        dw = Dwarf(tmp / "probe.o")
        try:
            extract_layouts(dw, res)
        finally:
            dw.close()
        check_layouts(checks, res)
        ko_info = inspect_ko(tmp / "probe.ko", res)
    check_ko(ko_info, res, layout_crc)
    if res.missing and known_line(version) is None:
        raise GenError(
            f"{release} is kernel line {line.name}, which kemu does not know "
            f"(kemu.target.lines), and its headers lack "
            f"{', '.join(sorted(res.missing)[:8])}"
            f"{' ...' if len(res.missing) > 8 else ''}: say in LINES what "
            f"this line does not have, or give the member's new name as "
            f"\"old|new\" in gen.py")

    vermagic = ko_info["vermagic"]
    rebuilt = reconstruct_vermagic(kdir, release, cfg)
    if rebuilt is None:
        res.warn("cannot reconstruct vermagic for this config; using the one"
                 " of probe.ko")
    elif rebuilt != vermagic:
        raise GenError(f"vermagic mismatch: probe.ko {vermagic!r}, "
                       f"reconstructed {rebuilt!r}")

    arch = "x86_64" if cfg.get("CONFIG_X86_64") == "y" else \
        cfg.get("CONFIG_ARCH", "unknown")
    return {
        "format": FORMAT_VERSION,
        "release": release,
        "kernel_version": version,
        "arch": arch,
        "headers": kdir.name,
        "vermagic": vermagic,
        "module_layout_crc": layout_crc,
        "config": {k: cfg[k] for k in CONFIG_KEYS if k in cfg},
        "sizes": res.sizes,
        "offsets": res.offsets,
        "bitfields": res.bitfields,
        "consts": res.consts,
        "missing": sorted(res.missing),
        "symbols": symbols,
    }


_SYMBOLS_PLACEHOLDER = "\x00kemu-symbols\x00"


def dumps(data: dict) -> str:
    """Deterministic JSON: sorted keys, one entry per line, one symbol row
    per line (compact)."""
    rows = data["symbols"]
    shell = dict(data, symbols=_SYMBOLS_PLACEHOLDER)
    text = json.dumps(shell, sort_keys=True, indent=1, ensure_ascii=True)
    body = "[\n" + ",\n".join(
        "  " + json.dumps(r, separators=(",", ":"), ensure_ascii=True)
        for r in rows) + "\n ]"
    placeholder = json.dumps(_SYMBOLS_PLACEHOLDER)
    assert text.count(placeholder) == 1
    return text.replace(placeholder, body) + "\n"


def write_atomic(path: Path, text: str) -> None:
    """Write text to path via a temporary file and os.replace."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp",
                               dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def summary(data: dict) -> str:
    """A few key values, for humans."""
    o, s = data["offsets"], data["sizes"]

    def h(v):
        return "?" if v is None else f"{v:#x} ({v})"

    lines = [
        f"release        {data['release']} (kernel {data['kernel_version']})",
        f"vermagic       {data['vermagic']!r}",
        f"module_layout  crc {h(data['module_layout_crc'])}",
        f"exports        {len(data['symbols'])}",
        f"sizeof(module) {h(s.get('module'))}",
    ]
    for m in ("state", "list", "name", "init", "exit", "refcnt",
              "core_layout"):
        lines.append(f"module.{m:<9} {h(o.get('module.' + m))}")
    lines.append(f"sizeof(kernel_param) {h(s.get('kernel_param'))}")
    lines.append(f"{len(o)} offsets, {len(s)} sizes, "
                 f"{len(data['consts'])} constants, "
                 f"{len(data['missing'])} missing")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    ap = argparse.ArgumentParser(
        prog="python3 -m kemu.target.gen",
        description="Describe a kernel (struct layouts, constants, vermagic,"
                    " exports) from its installed headers.")
    ap.add_argument("--headers", metavar="DIR", type=Path,
                    help="kernel build dir (default: newest "
                         "/usr/src/linux-headers-*-amd64)")
    ap.add_argument("--out", metavar="FILE", type=Path,
                    help="output JSON (default: kemu/target/<release>.json)")
    ap.add_argument("-v", "--verbose", action="store_true",
                    help="show the Kbuild output")
    args = ap.parse_args(argv)
    try:
        kdir = args.headers or default_headers()
        data = generate(kdir, verbose=args.verbose)
    except GenError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    out = args.out or HERE / f"{data['release']}.json"
    write_atomic(out, dumps(data))
    print(summary(data))
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
