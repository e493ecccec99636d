"""net/sysctl_net.c: per-namespace sysctl tables (``register_net_sysctl``).

A table is checked as ``__register_sysctl_table`` checks it (every entry
needs a procname; an entry whose procname already exists in the same
directory of the namespace is refused with "sysctl duplicate entry" and
NULL). The header is a real ``struct ctl_table_header`` whose
``ctl_table``/``ctl_table_arg`` point at the module's table, so that modules
find their table again (``header->ctl_table_arg``) before freeing it.
``unregister_net_sysctl_table`` removes the entries and frees the header.

The table lives in kemu's per-namespace registry of net sysctls; the
``/proc/sys`` tree itself is the fs model's (reads and writes of these
entries are not routed here).

Python API: ``net_sysctls(k) -> {(net, "path/procname"): ctl_table entry address}``.
"""
from __future__ import annotations

from kemu import export
from kemu.kernel.log import KERN_ERR
from kemu.abi.exports import members

from kemu.abi.toolkit import cstr, kfree, kzalloc, rd, wr

members("struct ctl_table", "procname")
members("struct ctl_table_header", "ctl_table", "nreg", "ctl_table_arg")


class NetSysctl:
    """(net, dir path) -> {procname: entry}; header -> (net, path, [procnames])."""

    def __init__(self, k):
        self.dirs: dict[tuple[int, str], dict[str, int]] = {}
        self.headers: dict[int, tuple[int, str, list[str]]] = {}


def net_sysctls(k) -> dict:
    """Every registered net sysctl entry."""
    out = {}
    for (net, path), entries in k.model(NetSysctl).dirs.items():
        for name, entry in entries.items():
            out[(net, f"{path}/{name}")] = entry
    return out


def _entries(k, table, count=None):
    size = k.target.sizeof("ctl_table")
    out = []
    entry = table
    while (count is None or len(out) < count) and rd(k, entry, "ctl_table.procname"):
        out.append((cstr(k, rd(k, entry, "ctl_table.procname"), 256), entry))
        entry += size
    return out


@export("struct ctl_table_header *register_net_sysctl(struct net *net, const char *path, "
        "struct ctl_table *table)", until="6.6", fails="NULL")
def register_net_sysctl(k, net, path, table):
    return register_net_sysctl_sz(k, net, path, table, None)


@export("struct ctl_table_header *register_net_sysctl_sz(struct net *net, const char *path, "
        "struct ctl_table *table, size_t table_size)", since="6.6", fails="NULL")
def register_net_sysctl_sz(k, net, path, table, table_size):
    """6.6: the table's size is passed (ARRAY_SIZE); 6.11's tables have no sentinel."""
    st = k.model(NetSysctl)
    text = cstr(k, path, 256).strip("/")
    entries = _entries(k, table, table_size)
    existing = st.dirs.setdefault((net, text), {})
    for name, _entry in entries:
        if name in existing:
            k.log.emit(KERN_ERR, f"sysctl duplicate entry: /{text}/{name}")
            return 0
    header = kzalloc(k, k.target.sizeof("ctl_table_header"), "ctl_table_header")
    wr(k, header, "ctl_table_header.ctl_table", table)
    wr(k, header, "ctl_table_header.ctl_table_arg", table)
    k.machine.write_u32(header + k.target.offset("ctl_table_header.nreg"), 1)
    for name, entry in entries:
        existing[name] = entry
    st.headers[header] = (net, text, [name for name, _e in entries])
    k.register("net sysctl", header, k.current_module(),
               f"net sysctl table /proc/sys/{text} ({len(entries)} entries)")
    return header


@export("void unregister_net_sysctl_table(struct ctl_table_header *header)")
def unregister_net_sysctl_table(k, header):
    st = k.model(NetSysctl)
    if not header or header not in st.headers:
        return
    net, text, names = st.headers.pop(header)
    existing = st.dirs.get((net, text), {})
    for name in names:
        existing.pop(name, None)
    k.unregister("net sysctl", header)
    kfree(k, header)
