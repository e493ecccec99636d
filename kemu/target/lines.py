"""The kernel lines kemu supports, and every fact that differs between them.

Debian builds three lines for a Debian 12 machine: 5.10 (bullseye), 6.1
(bookworm) and 6.12 (bookworm-backports).  What differs between them and
matters to kemu is held here, once, each fact naming the upstream version it
comes from; the generator (:mod:`kemu.target.gen`), the loader and the
export declarations (:mod:`kemu.abi.exports`) read it through :func:`line_of`.

Leaves out: lines Debian does not build for Debian 12 (a release of another
line is still described and loaded, under the facts of the nearest older
known line, but the generator refuses to describe it while something it
looks for is missing: see :func:`kemu.target.gen.generate`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field


def version_tuple(version: str | None) -> tuple[int, int]:
    """(MAJOR, PATCHLEVEL) of '6.12.48' / '5.10.0-32-amd64'; (0, 0) if unknown."""
    m = re.match(r"(\d+)\.(\d+)", version or "")
    return (int(m.group(1)), int(m.group(2))) if m else (0, 0)


@dataclass(frozen=True)
class Line:
    """One kernel line: MAJOR.PATCHLEVEL and what is true of it."""

    name: str
    #: names the generator looks for that this line does not have: struct
    #: members ("struct.member"), enumerators, whole structs
    absent: frozenset[str] = field(default_factory=frozenset)

    @property
    def version(self) -> tuple[int, int]:
        return version_tuple(self.name)

    def at_least(self, version: str) -> bool:
        """True on this line and later ones: ``line.at_least("6.4")``."""
        return self.version >= version_tuple(version)

    # -- struct module and its memory (kernel/module/main.c) ---------------

    @property
    def module_memory(self) -> bool:
        """6.4 ("module: replace module_layout with module_memory"): struct module holds ``mem[MOD_MEM_NUM_TYPES]``,
        one allocation per class of section, instead of core_layout and
        init_layout."""
        return self.at_least("6.4")

    @property
    def license_taint_summary(self) -> bool:
        """6.12's module_augment_kernel_taints() ends, after the signature
        check, with "M: module license taints kernel." when this load set
        TAINT_PROPRIETARY_MODULE (not in 6.1's check_modinfo())."""
        return self.at_least("6.12")

    @property
    def dump_stack_taint_names(self) -> bool:
        """6.12's dump_stack_print_info(): "CPU: 0 UID: 0 PID: ..." and, when
        tainted, "Tainted: [O]=OOT_MODULE, ..." (print_tainted_verbose())."""
        return self.at_least("6.12")

    # -- printk (kernel/printk/printk.c) -----------------------------------

    @property
    def printk_text_max(self) -> int:
        """Bytes of one printk() kept, KERN_<LEVEL> prefix included: 5.10 and
        6.1 format into PRINTKRB_RECORD_MAX - PREFIX_MAX (992, one for the
        NUL); 6.12 formats into all of PRINTKRB_RECORD_MAX (1024)."""
        return 1023 if self.at_least("6.12") else 991

    @property
    def ptr_key_waits_for_crng(self) -> bool:
        """5.10 prints a hashed %p as "(____ptrval____)" until the crng is
        ready to fill its siphash key, and it is not yet when the oracle's
        modules load; 6.1 fills the key at boot."""
        return not self.at_least("6.1")


#: 6.4 "module: replace module_layout with module_memory"
_BEFORE_6_4 = frozenset({
    # 6.2: struct pcpu_hot
    "pcpu_hot", "pcpu_hot.current_task", "pcpu_hot.preempt_count", "pcpu_hot.cpu_number",
    "pcpu_hot.call_depth", "pcpu_hot.top_of_stack", "pcpu_hot.hardirq_stack_ptr",
    "pcpu_hot.softirq_pending", "pcpu_hot.hardirq_stack_inuse",
    "module.mem", "module_memory", "MOD_TEXT", "MOD_DATA", "MOD_RODATA",
    "MOD_RO_AFTER_INIT", "MOD_INIT_TEXT", "MOD_INIT_DATA", "MOD_INIT_RODATA",
    "MOD_MEM_NUM_TYPES",
})

#: The lines, oldest first.
LINES: tuple[Line, ...] = (
    Line("5.10", absent=_BEFORE_6_4 | frozenset({
        # lib/kunit as 6.1 has it: enum kunit_status and skips (5.12), parameterised
        # cases (5.11), suite_init/suite_exit (6.0), struct kunit_loc (6.0),
        # the assertion text structs (6.0), TAINT_TEST (5.17)
        "KUNIT_FAILURE", "KUNIT_SKIPPED", "KUNIT_SUCCESS",
        "KUNIT_PARAM_DESC_SIZE", "KUNIT_STATUS_COMMENT_SIZE", "TAINT_TEST",
        "kunit.param_index", "kunit.param_value", "kunit.status", "kunit.status_comment",
        "kunit_binary_assert.text", "kunit_binary_assert_text", "kunit_binary_ptr_assert.text",
        "kunit_binary_str_assert.text", "kunit_case.generate_params", "kunit_case.status",
        "kunit_loc", "kunit_resource.should_kfree", "kunit_suite.status_comment",
        "kunit_suite.suite_exit", "kunit_suite.suite_init", "kunit_suite.suite_init_err",
        "vfsmount",                             # no member of it is read on 5.10's mounts
        "ITER_XARRAY",                          # 5.14
        "ITER_UBUF",                            # 6.0
        "NLA_BE16", "NLA_BE32",                 # 5.19
        "ZSTD_error_maxCode",                   # linux/zstd_errors.h is 5.16
        # members and constants added between 5.11 and 6.1
        "CRYPTO_ALG_FIPS_INTERNAL", "FS_ALLOW_IDMAP", "ITER_DEST", "ITER_SOURCE",
        "MODULE_INIT_COMPRESSED_FILE", "SG_PAGE_LINK_MASK", "SHRINKER_REGISTERED",
        "WQ_FLAG_PRIORITY", "address_space_operations.dirty_folio",
        "address_space_operations.read_folio", "btf_kfunc_id_set", "cpuinfo_x86.ppin",
        "cpuinfo_x86.smt_active", "cred.ucounts", "crypto_tfm.refcnt",
        "exception_table_entry.data", "fqdir.free_list", "genl_family.resv_start_op",
        "gnet_stats_basic_sync", "hwrng.dying", "input_dev.inhibited",
        "iov_iter.data_source", "iov_iter.iter_type", "iov_iter.nofault",
        "iov_iter.ubuf", "iov_iter.user_backed", "iov_iter.xarray",
        "iov_iter.xarray_start", "module.btf_data", "module.btf_data_size",
        "nf_ct_hook.attach", "nf_ct_hook.confirm", "nf_ct_hook.set_closing",
        "nf_hook_ops.hook_ops_type", "ns_common.count", "padata_instance.cpuhp_node",
        "padata_instance.validate_cpumask", "platform_driver.remove_new",
        "xa_state.xa_lru", "xt_table.ops",
        "NAPI_STATE_PREFER_BUSY_POLL",          # 5.11
        "NAPI_STATE_SCHED_THREADED",            # 5.12
        "GENHD_FL_NO_PART",                     # 5.17 (GENHD_FL_NO_PART_SCAN before)
        "BLK_MQ_F_NO_SCHED_BY_DEFAULT",         # 5.14
        # only with CONFIG_PREEMPT_RCU, which Debian's 5.10 does not set
        "task_struct.rcu_read_lock_nesting",
        # the block layer and net devices as 6.1 has them (5.11 to 6.1): block_device's
        # bd_device/bd_nr_sectors/bd_queue/bd_read_only (5.11-6.0), GD_READ_ONLY and
        # request_queue.disk (5.15, 6.0), free_disk (5.19), gendisk.bdi (5.15),
        # struct blk_mq_tags public (5.11), queue_limits' bounce, dma_alignment and
        # max_secure_erase_sectors (5.19-6.0), net_device.core_stats (5.19),
        # rtnl_link_ops.alloc (5.13)
        "GD_READ_ONLY", "blk_mq_tags", "block_device.bd_device", "block_device.bd_nr_sectors",
        "block_device.bd_queue", "block_device.bd_read_only", "block_device_operations.free_disk",
        "gendisk.bdi", "net_device.core_stats", "queue_limits.bounce",
        "queue_limits.dma_alignment", "queue_limits.max_secure_erase_sectors",
        "request_queue.disk", "rtnl_link_ops.alloc",
    })),
    Line("6.1", absent=_BEFORE_6_4),
    Line("6.12", absent=frozenset({
        "PG_error",                             # 6.12: "mm: remove PG_error"
        # the block layer and the VFS after 6.1: FMODE_EXCL became BLK_OPEN_EXCL
        # (6.5), QUEUE_FLAG_DYING/FUA/WC went to queue_limits features (6.11),
        # block_device's bd_inode, bd_partno, bd_read_only and bd_super went (6.6-6.10),
        # address_space's private_data/private_list (6.6), file.f_version (6.12),
        # file_operations.iterate (6.6), inode's i_atime/i_mtime/i_ctime became
        # __i_* with accessors (6.6-6.7), queue_limits' bounce, misaligned,
        # discard_misaligned and zoned (6.9-6.11), super_block.s_mode (6.5)
        "FMODE_EXCL", "QUEUE_FLAG_DYING", "QUEUE_FLAG_FUA", "QUEUE_FLAG_WC",
        "address_space.private_data", "address_space.private_list", "block_device.bd_inode",
        "block_device.bd_partno", "block_device.bd_read_only", "block_device.bd_super",
        "file.f_version", "file_operations.iterate", "inode.i_atime", "inode.i_ctime",
        "inode.i_mtime", "queue_limits.bounce", "queue_limits.discard_misaligned",
        "queue_limits.misaligned", "queue_limits.zoned", "super_block.s_mode",
        "KUNIT_LOG_SIZE",                       # 6.6: the log is a string_stream
        "net_device.padded",                    # 6.9: net_device no longer padded
        "netdev_rx_queue",                      # 6.6: moved to net/netdev_rx_queue.h
        "ITER_PIPE",                            # removed in 6.5
        "PG_slab",                              # a page type (PGTY_slab) since 6.10
        "kernel_symbol",                        # private to kernel/module/ since 6.5
        "kmem_cache",                           # linux/slub_def.h is mm/slab.h since 6.8
        # 6.4: module_memory replaced module_layout
        "module.core_layout", "module.core_layout.base",
        "module.core_layout.ro_after_init_size", "module.core_layout.ro_size",
        "module.core_layout.size", "module.core_layout.text_size", "module.init_layout",
        "module.init_layout.base", "module.init_layout.ro_after_init_size",
        "module.init_layout.ro_size", "module.init_layout.size",
        "module.init_layout.text_size", "module_layout",
        # 6.4: class_create() lost its owner; struct class and bus_type lost
        # their private pointers to subsys_private
        "class.owner", "class.dev_kobj", "class.p", "bus_type.dev_root", "bus_type.p",
        # members and constants removed between 6.2 and 6.12
        "BUS_NOTIFY_ADD_DEVICE", "BUS_NOTIFY_BIND_DRIVER", "BUS_NOTIFY_BOUND_DRIVER",
        "BUS_NOTIFY_DEL_DEVICE", "BUS_NOTIFY_DRIVER_NOT_BOUND",
        "BUS_NOTIFY_REMOVED_DEVICE", "BUS_NOTIFY_UNBIND_DRIVER",
        "BUS_NOTIFY_UNBOUND_DRIVER", "CLBR_ANY", "CLBR_RET_REG",
        "CRYPTO_ALG_TYPE_AHASH_MASK", "CRYPTO_ALG_TYPE_HASH_MASK",
        "FMODE_UNSIGNED_OFFSET", "HASH_MAX_STATESIZE", "acpi_driver.owner",
        "akcipher_alg.reqsize", "cpuinfo_x86.apicid", "cpuinfo_x86.cpu_core_id",
        "cpuinfo_x86.cpu_die_id", "cpuinfo_x86.cu_id", "cpuinfo_x86.initial_apicid",
        "cpuinfo_x86.logical_die_id", "cpuinfo_x86.logical_proc_id",
        "cpuinfo_x86.phys_proc_id", "cpuinfo_x86.x86_coreid_bits",
        "cpuinfo_x86.x86_max_cores", "crypto_ahash.digest", "crypto_ahash.export",
        "crypto_ahash.final", "crypto_ahash.finup", "crypto_ahash.import",
        "crypto_ahash.init", "crypto_ahash.setkey", "crypto_ahash.update",
        "crypto_type.init", "ctl_table.child", "i2c_driver.probe_new",
        "iov_iter.pipe", "iov_iter.user_backed", "kpp_alg.reqsize",
        "paravirt_patch_site", "pci_driver.node", "platform_device.driver_override",
    })),
)


def known_line(version: str | None) -> Line | None:
    """The line of a version exactly ('5.10.223' -> 5.10), else None."""
    v = version_tuple(version)
    return next((ln for ln in LINES if ln.version == v), None)


def line_of(version: str | None) -> Line:
    """The line whose facts apply to a version: its own when kemu knows it,
    else the newest known line not after it (the oldest for older ones)."""
    v = version_tuple(version)
    best = LINES[0]
    for ln in LINES:
        if ln.version <= v:
            best = ln
    return best if best.version == v else Line(
        f"{v[0]}.{v[1]}", absent=best.absent)
