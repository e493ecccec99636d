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
STRUCTS: dict[str, list[str]] = {
    # lib/kunit (include/kunit/*.h): the KUnit core kemu runs suites with
    "kunit": ["priv", "name", "log", "try_catch", "param_value", "param_index", "status",
              "resources", "status_comment"],
    "kunit_suite": ["name", "suite_init", "suite_exit", "init", "exit", "test_cases",
                    "status_comment", "log", "suite_init_err"],
    "kunit_case": ["run_case", "name", "generate_params", "status", "log"],
    "kunit_loc": ["line", "file"],
    "kunit_unary_assert": ["condition", "expected_true"],
    "kunit_ptr_not_err_assert": ["text", "value"],
    "kunit_binary_assert_text": ["operation", "left_text", "right_text"],
    "kunit_binary_assert": ["text", "left_value", "right_value"],
    "kunit_binary_ptr_assert": ["text", "left_value", "right_value"],
    "kunit_binary_str_assert": ["text", "left_value", "right_value"],
    "kunit_resource": ["data", "name", "free", "refcount", "node", "should_kfree"],
    "__kfifo": ["in", "out", "mask", "esize", "data"],
    "fwnode_endpoint": ["port", "id", "local_fwnode"],
    "gpio": ["gpio", "flags", "label"],
    "fwnode_reference_args": ["fwnode", "nargs", "args"],
    "class_interface": ["node", "class", "add_dev", "remove_dev"],
    "ff_device": ["upload", "erase", "playback", "set_gain", "set_autocenter", "destroy",
                  "private", "ffbit", "mutex", "max_effects", "effects"],
    "interval_tree_node": ["rb", "start", "last", "__subtree_last"],
    "rb_root_cached": ["rb_root", "rb_leftmost"],
    "nmiaction": ["list", "handler", "max_duration", "flags", "name"],
    "atomic_notifier_head": ["lock", "head"],
    "blocking_notifier_head": ["rwsem", "head"],
    "raw_notifier_head": ["head"],
    "kobj_uevent_env": ["argv", "envp", "envp_idx", "buf", "buflen"],
    "fasync_struct": ["fa_lock", "magic", "fa_fd", "fa_next", "fa_file", "fa_rcu"],
    "static_key_false": ["key"],
    "static_key_true": ["key"],
    # the namespace's refcount: ns.count since 5.11, the outer struct's before
    "user_namespace": ["uid_map", "gid_map", "level", "owner", "group", "ns",
                       "ns.count|count"],
    "uts_namespace": ["name", "user_ns", "ns"],
    "new_utsname": ["sysname", "nodename", "release", "version", "machine", "domainname"],
    "module": [
        "state", "list", "name", "mkobj", "modinfo_attrs", "version",
        "srcversion", "holders_dir", "syms", "crcs", "num_syms", "kp",
        "num_kp", "num_gpl_syms", "gpl_syms", "gpl_crcs",
        "using_gplonly_symbols", "sig_ok", "async_probe_requested",
        "num_exentries", "extable", "init", "core_layout",
        "core_layout.base", "core_layout.size", "core_layout.text_size",
        "core_layout.ro_size", "core_layout.ro_after_init_size",
        "init_layout", "init_layout.base", "init_layout.size",
        "init_layout.text_size", "init_layout.ro_size",
        "init_layout.ro_after_init_size", "arch", "taints",
        "num_bugs", "bug_list", "bug_table", "kallsyms", "core_kallsyms",
        "sect_attrs", "notes_attrs", "args", "percpu", "percpu_size",
        "noinstr_text_start", "noinstr_text_size", "num_tracepoints",
        "tracepoints_ptrs", "num_srcu_structs", "srcu_struct_ptrs",
        "num_bpf_raw_events", "bpf_raw_events", "btf_data_size", "btf_data",
        "jump_entries", "num_jump_entries", "num_trace_bprintk_fmt",
        "trace_bprintk_fmt_start", "trace_events", "num_trace_events",
        "trace_evals", "num_trace_evals", "num_ftrace_callsites",
        "ftrace_callsites", "kprobes_text_start", "kprobes_text_size",
        "kprobe_blacklist", "num_kprobe_blacklist", "num_static_call_sites",
        "static_call_sites", "source_list", "target_list", "exit", "refcnt",
        "mem",                          # 6.4+: struct module_memory mem[]
    ],
    # 6.4+ (kernel/module/main.c): one per enum mod_mem_type
    "module_memory": ["base", "size", "mtn"],
    "module_layout": ["base", "size", "text_size", "ro_size",
                      "ro_after_init_size", "mtn"],
    "module_kobject": ["kobj", "mod", "drivers_dir", "mp",
                       "kobj_completion"],
    "mod_arch_specific": ["num_orcs", "orc_unwind_ip", "orc_unwind"],
    "mod_kallsyms": ["symtab", "num_symtab", "strtab", "typetab"],
    "modversion_info": ["crc", "name"],
    "kernel_param": ["name", "mod", "ops", "perm", "level", "flags", "arg",
                     "str", "arr"],
    "kernel_param_ops": ["flags", "set", "get", "free"],
    "kparam_string": ["maxlen", "string"],
    "kparam_array": ["max", "elemsize", "num", "ops", "elem"],
    "kernel_symbol": ["value_offset", "name_offset", "namespace_offset"],
    "list_head": ["next", "prev"],
    "hlist_head": ["first"],
    "hlist_node": ["next", "pprev"],
    "fixed_percpu_data": ["gs_base", "stack_canary"],
    # 6.2+ (arch/x86/include/asm/current.h): current_task and its neighbours
    "pcpu_hot": ["current_task", "preempt_count", "cpu_number", "call_depth",
                 "top_of_stack", "hardirq_stack_ptr", "softirq_pending",
                 "hardirq_stack_inuse"],
    "task_struct": ["thread_info", "__state|state", "stack", "usage",
                    "flags", "prio", "mm", "active_mm", "pid", "tgid",
                    "stack_canary", "real_parent", "parent", "real_cred",
                    "cred", "comm", "files", "thread",
                    "rcu_read_lock_nesting", "thread_pid", "signal",
                    "pending", "blocked", "jobctl"],
    "cred": ["usage", "uid", "gid", "suid", "sgid", "euid", "egid", "fsuid",
             "fsgid", "cap_effective", "securebits", "cap_inheritable",
             "cap_permitted", "cap_bset", "cap_ambient", "user", "user_ns",
             "ucounts", "group_info", "non_rcu", "rcu"],
    "file_operations": ["owner", "llseek", "read", "write", "read_iter",
                        "write_iter", "poll", "unlocked_ioctl",
                        "compat_ioctl", "mmap", "open", "flush", "release",
                        "fsync", "fasync"],
    "proc_ops": ["proc_flags", "proc_open", "proc_read", "proc_read_iter",
                 "proc_write", "proc_lseek", "proc_release", "proc_poll",
                 "proc_ioctl", "proc_compat_ioctl", "proc_mmap"],
    "seq_file": ["buf", "size", "from", "count", "pad_until", "index",
                 "read_pos", "lock", "op", "poll_event", "file", "private"],
    "seq_operations": ["start", "stop", "next", "show"],
    "file": ["f_path", "f_inode", "f_op", "f_lock", "f_count", "f_flags",
             "f_mode", "f_pos", "f_cred", "private_data", "f_mapping"],
    "inode": ["i_mode", "i_uid", "i_gid", "i_flags", "i_op", "i_sb",
              "i_mapping", "i_ino", "i_rdev", "i_size", "i_fop", "i_cdev",
              "i_private", "__i_nlink", "i_state", "i_count", "i_data"],
    "super_block": ["s_time_gran", "s_time_min", "s_time_max", "s_remove_count",
                    "s_dev", "s_blocksize", "s_blocksize_bits", "s_magic", "s_root",
                    "s_type", "s_flags", "s_fs_info", "s_id"],
    # the mounts and address spaces of files opened from the command line (stubs/fs/dcache.py)
    "vfsmount": ["mnt_root", "mnt_sb", "mnt_flags"],
    "address_space": ["host", "a_ops"],
    "mm_struct": ["pgd", "task_size"],
    # mmap(2) of a device file (stubs/mm/mmap.py)
    "vm_area_struct": ["vm_start", "vm_end", "vm_mm", "vm_page_prot", "vm_flags",
                       "vm_pgoff", "vm_file", "vm_private_data", "vm_ops"],
    "vm_operations_struct": ["open", "close", "fault"],
    "vm_fault": ["vma", "gfp_mask", "pgoff", "address", "flags", "page"],
    "match_token": ["token", "pattern"],
    "percpu_counter": ["lock", "count", "list", "counters"],
    "shrinker": ["count_objects", "scan_objects", "batch", "seeks", "flags",
                 "list", "nr_deferred"],
    "ctl_table": ["procname", "data", "maxlen", "mode", "child",
                  "proc_handler", "poll", "extra1", "extra2"],
    "ctl_table_header": ["ctl_table", "used", "count", "nreg", "unregistering",
                         "ctl_table_arg", "root", "set", "parent", "node"],
    "quota_format_type": ["qf_fmt_id", "qf_ops", "qf_owner", "qf_next"],
    "dqstats": ["stat", "counter"],
    "tm": ["tm_sec", "tm_min", "tm_hour", "tm_mday", "tm_mon", "tm_year",
           "tm_wday", "tm_yday"],
    "timezone": ["tz_minuteswest", "tz_dsttime"],
    "xattr_handler": ["name", "prefix", "flags", "list", "get", "set"],
    "backing_dev_info": ["id", "ra_pages", "io_pages", "dev", "refcnt", "dev_name",
                         "min_ratio", "max_ratio", "capabilities", "owner"],
    "pipe_buf_operations": ["confirm", "release", "try_steal", "get"],
    "address_space_operations": ["writepage", "read_folio", "dirty_folio"],
    "dquot_operations": ["write_dquot", "alloc_dquot", "destroy_dquot"],
    "quotactl_ops": ["quota_on", "quota_off", "get_state"],
    "bio_set": ["bio_slab", "front_pad"],
    "linux_binfmt": ["lh", "module", "load_binary", "load_shlib", "core_dump",
                     "min_coredump"],
    "mempool_s": ["lock", "min_nr", "curr_nr", "elements", "pool_data",
                  "alloc", "free", "wait"],
    "file_system_type": ["name", "fs_flags", "init_fs_context",
                         "parameters", "mount", "kill_sb", "owner", "next",
                         "fs_supers"],
    "nf_hook_ops": ["hook", "dev", "priv", "pf", "hook_ops_type", "hooknum",
                    "priority"],
    "sk_buff": ["next", "prev", "dev", "sk", "tstamp", "cb", "len",
                "data_len", "mac_len", "hdr_len", "protocol",
                "transport_header", "network_header", "mac_header", "tail",
                "end", "head", "data", "truesize", "users", "cloned",
                "destructor", "ip_summed", "csum", "csum_start", "csum_offset", "_nfct",
                "pkt_type"],
    "skb_shared_info": ["nr_frags", "frag_list", "dataref"],
    "nlattr": ["nla_len", "nla_type"],
    "timer_list": ["entry", "expires", "function", "flags"],
    "work_struct": ["data", "entry", "func"],
    "delayed_work": ["work", "timer", "wq", "cpu"],
    "tasklet_struct": ["next", "state", "count", "use_callback", "func",
                       "callback", "data"],
    "spinlock": ["rlock"],
    "mutex": ["owner", "wait_lock", "osq", "wait_list"],
    "completion": ["done", "wait"],
    "wait_queue_head": ["lock", "head"],
    "kmem_cache": ["cpu_slab", "flags", "min_partial", "size",
                   "object_size", "offset", "ctor", "inuse", "align",
                   "red_left_pad", "name", "list", "useroffset", "usersize",
                   "refcount"],
    "pernet_operations": ["list", "init", "pre_exit", "exit", "exit_batch",
                          "id", "size"],
    "net": ["ns", "ns.count|count", "list", "user_ns", "proc_net", "proc_net_stat",
            "loopback_dev", "gen", "passive", "exit_list", "ifindex", "nf",
            "nf.hooks_ipv4", "nf.hooks_ipv6", "nf.hooks_arp",
            "nf.hooks_bridge", "nf.nf_loggers"],
    "ns_common": ["stashed", "ops", "inum", "count"],
    "xt_match": ["list", "name", "revision", "match", "checkentry",
                 "destroy", "me", "usersize", "matchsize", "table", "hooks",
                 "proto", "family"],
    "xt_target": ["list", "name", "revision", "target", "checkentry",
                  "destroy", "me", "usersize", "targetsize", "table",
                  "hooks", "proto", "family"],
    "shash_alg": ["init", "update", "final", "finup", "digest", "export",
                  "import", "setkey", "init_tfm", "exit_tfm", "descsize",
                  "digestsize", "statesize", "base"],
    "crypto_alg": ["cra_list", "cra_users", "cra_flags", "cra_blocksize",
                   "cra_ctxsize", "cra_alignmask", "cra_priority",
                   "cra_refcnt", "cra_name", "cra_driver_name", "cra_type",
                   "cra_u", "cra_init", "cra_exit", "cra_destroy",
                   "cra_module"],
    "nls_table": ["charset", "alias", "uni2char", "char2uni",
                  "charset2lower", "charset2upper", "owner", "next"],
    "kprobe": ["hlist", "list", "nmissed", "addr", "symbol_name", "offset",
               "pre_handler", "post_handler", "opcode", "ainsn", "flags"],
    "bug_entry": ["bug_addr_disp|bug_addr", "file_disp|file", "line",
                  "flags"],
    "exception_table_entry": ["insn", "fixup", "data"],
    "orc_entry": ["sp_offset", "bp_offset"],
    "va_format": ["fmt", "va"],
    # fs, proc, seq_file, devices, sysfs, netns (stubs/fs, stubs/drivers, stubs/net)
    "kiocb": ["ki_filp", "ki_pos", "ki_complete", "private", "ki_flags"],
    "iov_iter": ["iter_type", "nofault", "data_source", "user_backed",
                 "iov_offset", "count", "iov|__iov", "kvec", "ubuf", "nr_segs",
                 "bvec", "xarray", "pipe", "xarray_start"],
    "iovec": ["iov_base", "iov_len"],
    "kvec": ["iov_base", "iov_len"],
    "seq_net_private": ["net"],
    "nf_hook_entries": ["num_hook_entries"],
    "nf_hook_entry": ["hook", "priv"],
    "xt_table": ["list", "valid_hooks", "private", "ops", "me", "af",
                 "priority", "name"],
    "net_generic": ["s", "s.len", "ptr"],
    "class": ["name", "owner", "class_groups", "dev_groups", "dev_kobj",
              "dev_uevent", "devnode", "class_release", "dev_release", "p"],
    "device": ["kobj", "parent", "p", "init_name", "type", "bus", "driver",
               "platform_data", "driver_data", "devt", "id", "class",
               "groups", "release", "mutex", "devres_head", "dma_pools",
               "numa_node", "power", "power.usage_count", "power.runtime_status",
               "power.disable_depth", "power.runtime_error", "power.child_count",
               "power.can_wakeup", "power.wakeup",
               "dma_mask", "coherent_dma_mask", "of_node", "fwnode", "pm_domain"],
    "device_type": ["name", "groups", "uevent", "devnode", "release", "pm"],
    # device model, buses (stubs/drivers)
    "device_driver": ["name", "bus", "owner", "mod_name", "suppress_bind_attrs",
                      "probe_type", "of_match_table", "acpi_match_table", "probe",
                      "sync_state", "remove", "shutdown", "suspend", "resume", "groups",
                      "dev_groups", "pm", "coredump", "p"],
    "bus_type": ["name", "dev_name", "dev_root", "bus_groups", "dev_groups", "drv_groups",
                 "match", "uevent", "probe", "sync_state", "remove", "shutdown", "pm", "p"],
    "dev_pm_ops": ["runtime_suspend", "runtime_resume", "runtime_idle"],
    "platform_driver": ["probe", "remove", "remove_new", "shutdown", "driver", "id_table",
                        "prevent_deferred_probe"],
    "platform_device": ["name", "id", "id_auto", "dev", "platform_dma_mask",
                        "num_resources", "resource", "id_entry", "driver_override", "mfd_cell"],
    "platform_device_info": ["parent", "fwnode", "of_node_reused", "name", "id", "res",
                             "num_res", "data", "size_data", "dma_mask", "properties"],
    "platform_device_id": ["name", "driver_data"],
    "resource": ["start", "end", "name", "flags", "desc", "parent", "sibling", "child"],
    "i2c_driver": ["class", "probe", "remove", "probe_new", "shutdown", "driver", "id_table",
                   "detect", "address_list", "clients"],
    "i2c_device_id": ["name", "driver_data"],
    "i2c_client": ["flags", "addr", "name", "adapter", "dev", "init_irq", "irq"],
    "pci_driver": ["node", "name", "id_table", "probe", "remove", "driver"],
    "pci_device_id": ["vendor", "device", "subvendor", "subdevice", "class", "class_mask",
                      "driver_data"],
    "spi_driver": ["id_table", "probe", "remove", "shutdown", "driver"],
    "hwrng": ["name", "init", "cleanup", "data_present", "data_read", "read", "priv",
              "quality", "list", "ref", "cleanup_done", "dying"],
    "idr": ["idr_rt", "idr_base", "idr_next"],
    "xarray": ["xa_lock", "xa_flags", "xa_head"],
    "ida": ["xa"],
    "irqaction": ["handler", "dev_id", "thread_fn", "irq", "flags", "name"],
    "hwmon_chip_info": ["ops", "info"],
    "hwmon_ops": ["is_visible", "read", "read_string", "write"],
    "hwmon_channel_info": ["type", "config"],
    "dmi_system_id": ["callback", "ident", "matches", "driver_data"],
    "dmi_strmatch": ["slot", "exact_match", "substr"],
    "class_attribute": ["attr", "show", "store"],
    "class_attribute_string": ["attr", "str"],
    "input_dev": ["name", "phys", "uniq", "id", "propbit", "evbit", "keybit", "relbit",
                  "absbit", "mscbit", "ledbit", "sndbit", "ffbit", "swbit",
                  "hint_events_per_packet", "keycodemax", "keycodesize", "keycode",
                  "setkeycode", "getkeycode", "ff", "poller", "rep", "mt", "absinfo", "key",
                  "led", "snd", "sw", "open", "close", "event", "users", "going_away", "dev",
                  "h_list", "node", "num_vals", "max_vals", "vals", "devres_managed",
                  "inhibited", "flush"],
    "ff_effect": ["type", "id"],
    "input_device_id": ["flags", "bustype", "vendor", "product", "version", "evbit", "keybit",
                        "relbit", "absbit", "mscbit", "ledbit", "sndbit", "ffbit", "swbit",
                        "propbit", "driver_info"],
    "input_id": ["bustype", "vendor", "product", "version"],
    "acpi_driver": ["name", "class", "ids", "flags", "ops", "drv", "owner"],
    "acpi_buffer": ["length", "pointer"],
    "pnp_driver": ["name", "id_table", "flags", "probe", "remove", "driver"],
    "notifier_block": ["notifier_call", "next", "priority"],
    "acpi_bus_type": ["list", "name", "match", "find_companion", "setup"],
    "input_absinfo": ["value", "minimum", "maximum", "fuzz", "flat", "resolution"],
    "input_handler": ["private", "event", "events", "filter", "match", "connect",
                      "disconnect", "start", "legacy_minors", "minor", "name", "id_table",
                      "h_list", "node"],
    "input_handle": ["private", "open", "name", "dev", "handler", "d_node", "h_node"],
    "led_classdev": ["name", "brightness", "max_brightness", "flags",
                     "brightness_set", "brightness_set_blocking", "brightness_get",
                     "blink_set", "pattern_set", "pattern_clear", "dev", "groups", "node",
                     "default_trigger", "trigger", "trig_list", "trigger_data",
                     "activated", "trigger_type", "blink_delay_on", "blink_delay_off",
                     "work_flags"],
    "led_trigger": ["name", "activate", "deactivate", "trigger_type", "leddev_list_lock",
                    "led_cdevs", "next_trig", "groups"],
    "led_init_data": ["fwnode", "default_label", "devicename", "devname_mandatory"],
    "attribute": ["name", "mode"],
    "attribute_group": ["name", "is_visible", "is_bin_visible", "attrs",
                        "bin_attrs"],
    "bin_attribute": ["attr", "size", "private", "read", "write"],
    "kobj_attribute": ["attr", "show", "store"],
    "device_attribute": ["attr", "show", "store"],
    "kobj_type": ["release", "sysfs_ops", "default_groups"],
    "sysfs_ops": ["show", "store"],
    "kset": ["list", "list_lock", "kobj", "uevent_ops"],
    "kref": ["refcount"],
    "dentry": ["d_flags", "d_parent", "d_name", "d_inode", "d_iname",
               "d_sb", "d_fsdata"],
    "debugfs_blob_wrapper": ["data", "size"],
    "qstr": ["hash_len", "name"],
    "inode_operations": ["lookup", "get_link"],
    "path": ["mnt", "dentry"],
    "nf_hook_state": ["hook", "pf", "in", "out", "sk", "net", "okfn"],
    "nf_sockopt_ops": ["list", "pf", "set_optmin", "set_optmax", "set",
                       "get_optmin", "get_optmax", "get", "owner"],
    # netlink, nf_log, sockets, fragments, conntrack (stubs/lib/nlattr.py, stubs/net)
    "nla_policy": ["type", "validation_type", "len", "strict_start_type",
                   "bitfield32_valid", "mask", "reject_message",
                   "nested_policy", "range", "range_signed", "min", "max",
                   "validate"],
    "netlink_range_validation": ["min", "max"],
    "netlink_range_validation_signed": ["min", "max"],
    "netlink_ext_ack": ["_msg", "bad_attr", "policy"],
    "nlmsghdr": ["nlmsg_len", "nlmsg_type", "nlmsg_flags", "nlmsg_seq",
                 "nlmsg_pid"],
    "netlink_dump_control": ["start", "dump", "done", "data", "module",
                             "min_dump_alloc"],
    "nf_logger": ["name", "type", "logfn", "me"],
    "nf_loginfo": ["type", "u"],
    "sock": ["__sk_common.skc_refcnt", "__sk_common.skc_family", "sk_lock",
             "sk_lock.slock", "sk_lock.owned", "sk_lock.wq", "sk_destruct",
             "sk_prot_creator", "sk_omem_alloc", "sk_socket", "sk_wq",
             "__sk_common.skc_prot", "sk_type", "sk_security"],
    "net_proto_family": ["family", "create", "owner"],
    "proto": ["name", "owner", "obj_size", "slab", "node"],
    "net_device": ["name", "ifindex", "dev_list", "nd_net", "state", "flags", "priv_flags",
                   "netdev_ops", "ethtool_ops", "header_ops", "mtu", "min_mtu", "max_mtu",
                   "type", "hard_header_len", "addr_len", "dev_addr", "broadcast",
                   "tx_queue_len", "num_tx_queues", "real_num_tx_queues", "_tx",
                   "num_rx_queues", "real_num_rx_queues", "_rx", "reg_state",
                   "needs_free_netdev", "priv_destructor", "padded", "dev", "name_assign_type",
                   "watchdog_timeo", "perm_addr", "addr_assign_type"],
    "net_device_ops": ["ndo_init", "ndo_uninit", "ndo_open", "ndo_stop", "ndo_start_xmit"],
    "netdev_queue": ["dev", "state"],
    "netdev_rx_queue": ["dev"],
    "netdev_hw_addr": ["list", "addr", "type"],
    "netdev_notifier_info": ["dev", "extack"],
    "inet_frags": ["qsize", "constructor", "destructor", "frag_expire",
                   "frags_cachep", "frags_cache_name", "rhash_params",
                   "refcnt", "completion"],
    "fqdir": ["high_thresh", "low_thresh", "timeout", "max_dist", "f", "net",
              "dead", "rhashtable", "mem", "destroy_work", "free_list"],
    "ctl_table": ["procname", "data", "maxlen", "mode", "child",
                  "proc_handler", "poll", "extra1", "extra2"],
    "netlink_notify": ["net", "portid", "protocol"],
    "ctl_table_header": ["ctl_table", "used", "count", "nreg", "unregistering",
                         "ctl_table_arg", "root", "set", "parent", "node"],
    "nf_queue_handler": ["outfn", "nf_hook_drop"],
    "nf_conntrack_zone": ["id", "flags", "dir"],
    "skb_checksum_ops": ["update", "combine"],
    "btf_kfunc_id_set": ["owner", "set"],
    "notifier_block": ["notifier_call", "next", "priority"],
    "timezone": ["tz_minuteswest", "tz_dsttime"],
    "in6_addr": ["in6_u"],
    # lib/rbtree.c, lib/rhashtable.c (stubs/lib/rbtree.py, stubs/lib/rhashtable.py)
    "packet_type": ["type", "dev", "func", "list", "af_packet_priv"],
    "genl_family": ["id", "hdrsize", "name", "version", "maxattr", "mcgrp_offset",
                    "n_ops", "n_small_ops", "n_mcgrps", "resv_start_op", "policy", "ops",
                    "small_ops", "mcgrps", "module"],
    "genl_ops": ["doit", "start", "dumpit", "done", "policy", "maxattr", "cmd",
                 "internal_flags", "flags", "validate"],
    "genl_small_ops": ["doit", "dumpit", "cmd", "internal_flags", "flags", "validate"],
    "genl_multicast_group": ["name", "flags"],
    "genlmsghdr": ["cmd", "version", "reserved"],
    "nf_ct_hook": ["update", "destroy", "get_tuple_skb", "attach", "set_closing",
                   "confirm"],
    "rb_node": ["__rb_parent_color", "rb_right", "rb_left"],
    "rb_root": ["rb_node"],
    "rb_root_cached": ["rb_root", "rb_leftmost"],
    "rhashtable": ["tbl", "key_len", "max_elems", "p", "rhlist", "run_work",
                   "mutex", "lock", "nelems"],
    "rhltable": ["ht"],
    "rhashtable_params": ["nelem_hint", "key_len", "key_offset", "head_offset",
                          "max_size", "min_size", "automatic_shrinking", "hashfn",
                          "obj_hashfn", "obj_cmpfn"],
    # buckets[] is the flexible array at the end: at sizeof(struct bucket_table)
    "bucket_table": ["size", "nest", "hash_rnd", "walkers", "rcu", "future_tbl"],
    "rhashtable_iter": ["ht", "p", "list", "walker", "slot", "skip", "end_of_table"],
    "rhashtable_walker": ["list", "tbl"],
    "rhash_head": ["next"],
    "rhlist_head": ["rhead", "next"],
    "rhashtable_compare_arg": ["ht", "key"],
    # net/core/gen_estimator.c, gen_stats.c, socket core (stubs/net/core)
    "gnet_stats_basic_sync": ["bytes", "packets"],          # syncp is empty on 64-bit
    "gnet_stats_rate_est64": ["bps", "pps"],
    "tc_estimator": ["interval", "ewma_log"],
    "socket": ["state", "type", "flags", "file", "sk", "ops", "wq"],
    "proto_ops": ["family", "owner"],
    # crypto, scatterlists, lib (stubs/crypto, stubs/lib, stubs/fs/nls.py)
    "crypto_tfm": ["refcnt", "crt_flags", "node", "exit", "__crt_alg"],
    "crypto_type": ["ctxsize", "extsize", "init", "init_tfm", "show",
                    "report", "free", "type", "maskclear", "maskset",
                    "tfmsize"],
    "crypto_template": ["list", "instances", "module", "create", "name"],
    "crypto_instance": ["alg", "tmpl", "list", "spawns", "free_work"],
    "crypto_spawn": ["list", "alg", "inst", "next", "frontend", "mask",
                     "dead", "registered"],
    "cipher_alg": ["cia_min_keysize", "cia_max_keysize", "cia_setkey",
                   "cia_encrypt", "cia_decrypt"],
    "compress_alg": ["coa_compress", "coa_decompress"],
    "crypto_shash": ["descsize", "base"],
    "shash_desc": ["tfm"],
    "hash_alg_common": ["digestsize", "statesize", "base"],
    "ahash_alg": ["init", "update", "final", "finup", "digest", "export",
                  "import", "setkey", "init_tfm", "exit_tfm", "halg"],
    "crypto_ahash": ["init", "update", "final", "finup", "digest",
                     "export", "import", "setkey", "reqsize", "base"],
    "ahash_request": ["base", "nbytes", "src", "result", "priv"],
    "crypto_async_request": ["list", "complete", "data", "tfm", "flags"],
    "crypto_wait": ["completion", "err"],
    "skcipher_alg": ["setkey", "encrypt", "decrypt", "init", "exit",
                     "min_keysize", "max_keysize", "ivsize", "chunksize",
                     "walksize", "base"],
    "crypto_skcipher": ["reqsize", "base"],
    "skcipher_request": ["cryptlen", "iv", "src", "dst", "base"],
    "aead_alg": ["setkey", "setauthsize", "encrypt", "decrypt", "init",
                 "exit", "ivsize", "maxauthsize", "chunksize", "base"],
    "crypto_aead": ["authsize", "reqsize", "base"],
    "aead_request": ["base", "assoclen", "cryptlen", "iv", "src", "dst"],
    "akcipher_alg": ["sign", "verify", "encrypt", "decrypt", "set_pub_key",
                     "set_priv_key", "max_size", "init", "exit", "reqsize",
                     "base"],
    "kpp_alg": ["set_secret", "generate_public_key",
                "compute_shared_secret", "max_size", "init", "exit",
                "reqsize", "base"],
    "rng_alg": ["generate", "seed", "set_ent", "seedsize", "base"],
    "crypto_rng": ["base"],
    "crypto_kpp": ["base"],
    "crypto_akcipher": ["base"],
    "crypto_scomp": ["base"],
    "crypto_acomp": ["compress", "decompress", "dst_free", "reqsize", "base"],
    "scomp_alg": ["alloc_ctx", "free_ctx", "compress", "decompress",
                  "base"],
    "acomp_alg": ["compress", "decompress", "dst_free", "init", "exit",
                  "reqsize", "base"],
    "crypto_cipher": ["base"],
    "crypto_comp": ["base"],
    "rtattr": ["rta_len", "rta_type"],
    "crypto_attr_alg": ["name"],
    "crypto_attr_type": ["type", "mask"],
    "scatterlist": ["page_link", "offset", "length", "dma_address",
                    "dma_length"],
    "sg_table": ["sgl", "nents", "orig_nents"],
    "page": ["flags", "_refcount", "_mapcount", "compound_head", "mapping", "index",
             "private", "lru"],
    "sysinfo": ["uptime", "loads", "totalram", "freeram", "sharedram", "bufferram",
                "totalswap", "freeswap", "procs", "totalhigh", "freehigh", "mem_unit"],
    "rnd_state": ["s1", "s2", "s3", "s4"],
    "xxh32_state": ["total_len_32", "large_len", "v1", "v2", "v3", "v4",
                    "mem32", "memsize"],
    "xxh64_state": ["total_len", "v1", "v2", "v3", "v4", "mem64", "memsize"],
    "crypto_aes_ctx": ["key_enc", "key_dec", "key_length"],
    "sha256_state": ["state", "count", "buf"],
    "sha1_state": ["state", "count", "buffer"],
    "md5_state": ["hash", "block", "byte_count"],
    "crypto_queue": ["list", "backlog", "qlen", "max_qlen"],
    "skcipher_instance": ["free", "alg"],
    "aead_instance": ["free", "alg"],
    "shash_instance": ["free", "alg"],
    "ahash_instance": ["free", "alg"],
    "crypto_skcipher_spawn": ["base"],
    "crypto_aead_spawn": ["base"],
    "crypto_shash_spawn": ["base"],
    "crypto_ahash_spawn": ["base"],
    "crypto_cipher_spawn": ["base"],
    "scatter_walk": ["sg", "offset"],
    "skcipher_walk": ["src", "src.virt.page", "src.virt.addr", "src.phys.page",
                      "src.phys.offset", "dst", "dst.virt.page",
                      "dst.virt.addr", "dst.phys.page", "dst.phys.offset", "in",
                      "nbytes", "out", "total", "buffers", "page", "buffer",
                      "oiv", "iv", "ivsize", "flags", "blocksize", "stride",
                      "alignmask"],
    "sg_page_iter": ["sg", "sg_pgoffset", "__nents", "__pg_advance"],
    "sg_mapping_iter": ["page", "addr", "length", "consumed", "piter",
                        "__offset", "__remaining", "__flags"],
    "ts_ops": ["name", "init", "find", "destroy", "get_pattern",
               "get_pattern_len", "owner", "list"],
    "ts_config": ["ops", "flags", "get_next_block", "finish"],
    "ts_state": ["offset", "cb"],
    "kretprobe": ["kp", "handler", "entry_handler", "maxactive", "nmissed",
                  "data_size"],
    "ratelimit_state": ["lock", "interval", "burst", "printed", "missed",
                        "begin", "flags"],
    "cpuinfo_x86": ["x86", "x86_vendor", "x86_model", "x86_stepping",
                    "x86_virt_bits", "x86_phys_bits", "x86_coreid_bits",
                    "cu_id", "extended_cpuid_level", "cpuid_level",
                    "x86_capability", "x86_vendor_id", "x86_model_id",
                    "x86_cache_size", "x86_cache_alignment",
                    "x86_cache_max_rmid", "x86_cache_occ_scale",
                    "x86_cache_mbm_width_offset", "x86_power",
                    "loops_per_jiffy", "x86_max_cores", "apicid",
                    "initial_apicid", "x86_clflush_size", "booted_cores",
                    "phys_proc_id", "logical_proc_id", "cpu_core_id",
                    "cpu_die_id", "logical_die_id", "cpu_index",
                    "microcode", "x86_tlbsize", "ppin", "smt_active",
                    "x86_cache_bits"],
    # locking, scheduling, time, deferred work (stubs/kernel/{locking,sched,time},
    # stubs/kernel/{rcu,workqueue,softirq,kthread}.py)
    "wait_queue_entry": ["flags", "private", "func", "entry"],
    "wait_bit_key": ["flags", "bit_nr", "timeout"],
    "wait_bit_queue_entry": ["key", "wq_entry"],
    "swait_queue_head": ["lock", "task_list"],
    "swait_queue": ["task", "task_list"],
    "semaphore": ["lock", "count", "wait_list"],
    "rw_semaphore": ["count", "owner", "osq", "wait_lock", "wait_list"],
    "qspinlock": ["val", "locked"],
    "qrwlock": ["cnts", "wlocked", "wait_lock"],
    "thread_info": ["flags"],
    "timespec64": ["tv_sec", "tv_nsec"],
    "hrtimer": ["node", "node.expires", "_softexpires", "function", "base",
                "state", "is_rel", "is_soft", "is_hard"],
    "hrtimer_clock_base": ["cpu_base", "index", "clockid", "running",
                           "get_time", "offset"],
    "callback_head": ["next", "func"],
    "rcuwait": ["task"],
    "kthread_worker": ["flags", "lock", "work_list", "delayed_work_list", "task",
                       "current_work"],
    "kthread_work": ["node", "func", "worker", "canceling"],
    "kthread_delayed_work": ["work", "timer"],
    "static_call_key": ["func", "type", "mods", "sites"],
    "static_call_site": ["addr", "key"],
    "jump_entry": ["code", "target", "key"],
    "static_key": ["enabled", "type", "entries", "next"],
    "alt_instr": ["instr_offset", "repl_offset", "cpuid", "instrlen",
                  "replacementlen"],
    "paravirt_patch_site": ["instr", "type", "len"],
    "paravirt_callee_save": ["func"],
    # lib and kernel helpers of the filesystems (stubs/lib/{lockref,xarray,iov_iter,
    # decompress,interval_tree}.py, stubs/kernel/{pid,cred,freezer}.py,
    # stubs/kernel/locking/percpu_rwsem.py)
    "lockref": ["lock", "count"],
    "rcu_sync": ["gp_state", "gp_count", "gp_wait", "cb_head"],
    "percpu_rw_semaphore": ["rss", "read_count", "writer", "waiters", "block"],
    "pid": ["count", "level", "lock", "tasks", "inodes", "wait_pidfd", "rcu"],
    "upid": ["nr", "ns"],
    "pid_namespace": ["idr", "pid_allocated", "child_reaper", "level", "parent",
                      "user_ns", "ns", "ns.count|kref"],      # a kref before 5.11
    "z_stream_s": ["next_in", "avail_in", "total_in", "next_out", "avail_out",
                   "total_out", "msg", "state", "workspace", "data_type",
                   "adler"],
    "xz_buf": ["in", "in_pos", "in_size", "out", "out_pos", "out_size"],
    "xarray": ["xa_lock", "xa_flags", "xa_head"],
    "xa_state": ["xa", "xa_index", "xa_shift", "xa_sibs", "xa_offset",
                 "xa_pad", "xa_node", "xa_alloc", "xa_update", "xa_lru"],
    "xa_limit": ["max", "min"],
    "xa_node": ["shift", "offset", "count", "nr_values", "parent", "array", "slots"],
    "rb_node": ["__rb_parent_color", "rb_right", "rb_left"],
    "rb_root": ["rb_node"],
    "rb_root_cached": ["rb_root", "rb_leftmost"],
    "interval_tree_node": ["rb", "start", "last", "__subtree_last"],
    "bio_vec": ["bv_page", "bv_len", "bv_offset"],
    "group_info": ["usage", "ngroups"],
    # Members of paravirt_patch_template are generated from the DWARF: every
    # function pointer / paravirt_callee_save leaf of cpu, irq, mmu, lock.
    "paravirt_patch_template": ["cpu", "irq", "mmu", "lock"],
    # crypto / lib helpers (stubs/crypto, stubs/lib, stubs/kernel/padata.py,
    # stubs/arch/x86/kernel/cpu_match.py)
    "x86_cpu_id": ["vendor", "family", "model", "steppings", "feature", "flags",
                   "driver_data"],
    "aead_geniv_ctx": ["lock", "child", "sknull"],          # salt[]: at sizeof()
    "crypto_sync_skcipher": ["base"],
    "asn1_decoder": ["machine", "machlen", "actions"],
    "padata_priv": ["list", "pd", "cb_cpu", "seq_nr", "info", "parallel", "serial"],
    "padata_shell": ["pinst", "pd", "opd", "list"],
    "parallel_data": ["ps", "reorder_list", "squeue", "refcnt", "seq_nr", "processed",
                      "cpu", "cpumask"],
    "padata_instance": ["cpuhp_node", "parallel_wq", "serial_wq", "pslist", "cpumask",
                        "validate_cpumask", "kobj", "lock", "flags"],
    "padata_cpumask": ["pcpu", "cbcpu"],
    "notifier_block": ["notifier_call", "next", "priority"],
    "asymmetric_key_parser": ["link", "owner", "name", "parse"],
    "asymmetric_key_subtype": ["owner", "name", "name_len", "describe", "destroy", "query",
                               "eds_op", "verify_signature"],
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
    ("O_ACCMODE", "macro"), ("O_RDONLY", "macro"), ("O_WRONLY", "macro"),
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
    ("PF_KTHREAD", "macro"), ("PF_EXITING", "macro"),
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
