"""net/netfilter/nf_log.c: packet loggers and the log buffer.

``loggers[pf][type]`` is the kernel's table of registered ``struct nf_logger``
(per protocol family and NF_LOG_TYPE_LOG/ULOG); ``nf_log_register`` refuses a
second logger of a type for a family (-EEXIST; NFPROTO_UNSPEC means every
family), ``nf_log_unregister`` takes it off every family. The namespace's
bound loggers live in the real ``net->nf.nf_loggers[]`` (``nf_log_set``,
``nf_log_unset``, ``nf_log_bind_pf``, ``nf_log_unbind_pf``).
``nf_logger_find_get``/``nf_logger_put`` take and drop a reference on the
logger's module (NFPROTO_INET means IPv4 and IPv6). ``nf_log_packet`` and
``nf_log_trace`` format the prefix (vsnprintf into NF_LOG_PREFIXLEN bytes) and
call the logger's ``logfn`` in emulation. The ``struct nf_log_buf`` of
``nf_log_buf_open``/``_add``/``_close`` is the file's own (count, then S_SIZE
+ 1 bytes); closing prints it with printk("%s\\n").

Python API: ``loggers(k) -> {(pf, type): nf_logger address}``.
"""
from __future__ import annotations

import errno

from kemu import data, export
from kemu.kernel.log import KERN_ERR
from kemu.abi.exports import members

from kemu.abi.toolkit import cstr, kfree, owner_of, rd, s32
from ...lib.kemu_warn import bug

members("struct net", "nf", "nf.nf_loggers")
members("struct nf_logger", "name", "type", "logfn", "me")
members("struct nf_loginfo", "type", "u")

NF_LOG_PREFIXLEN = 128
S_SIZE = 1024 - (4 + 1)              # struct nf_log_buf: unsigned int count; char buf[S_SIZE + 1]


def _c(k, name):
    return k.target.const(name)


class NfLog:
    """The loggers[][] table and the once-only overflow message."""

    def __init__(self, k):
        self.loggers: dict[tuple[int, int], int] = {}
        self.warned = False


def loggers(k) -> dict:
    """{(pf, type): struct nf_logger address} of the registered loggers."""
    return dict(k.model(NfLog).loggers)


def _type(k, logger) -> int:
    return rd(k, logger, "nf_logger.type", 4)


def _numproto(k) -> int:
    return _c(k, "NFPROTO_NUMPROTO")


def _net_slot(k, net, pf) -> int:
    return net + k.target.offset("net.nf.nf_loggers") + 8 * pf


def _record(k, pf, logger):
    k.register("nf logger", (pf, _type(k, logger)),
               owner_of(k, rd(k, logger, "nf_logger.me")),
               f"nf logger {cstr(k, rd(k, logger, 'nf_logger.name'), 64)} "
               f"(pf {pf}, type {_type(k, logger)})")


@export("int nf_log_register(u8 pf, struct nf_logger *logger)")
def nf_log_register(k, pf, logger):
    st = k.model(NfLog)
    if pf >= _numproto(k):
        return -errno.EINVAL
    ltype = _type(k, logger)
    pfs = range(_numproto(k)) if pf == _c(k, "NFPROTO_UNSPEC") else [pf]
    if any((p, ltype) in st.loggers for p in pfs):
        return -errno.EEXIST
    for p in pfs:
        st.loggers[(p, ltype)] = logger
        _record(k, p, logger)
    return 0


@export("void nf_log_unregister(struct nf_logger *logger)")
def nf_log_unregister(k, logger):
    st = k.model(NfLog)
    ltype = _type(k, logger)
    for p in range(_numproto(k)):
        if st.loggers.get((p, ltype)) == logger:
            del st.loggers[(p, ltype)]
            k.unregister("nf logger", (p, ltype))


def _find_logger(k, pf, name) -> int:
    """__find_logger(): the logger of ``pf`` whose name matches (case-insensitive)."""
    st = k.model(NfLog)
    for ltype in range(_c(k, "NF_LOG_TYPE_MAX")):
        logger = st.loggers.get((pf, ltype))
        if logger and cstr(k, rd(k, logger, "nf_logger.name"), 64).lower() == name.lower():
            return logger
    return 0


@export("int nf_log_set(struct net *net, u8 pf, const struct nf_logger *logger)")
def nf_log_set(k, net, pf, logger):
    if pf == _c(k, "NFPROTO_UNSPEC") or pf >= _numproto(k):
        return -errno.EOPNOTSUPP
    if not k.machine.read_u64(_net_slot(k, net, pf)):
        k.machine.write_u64(_net_slot(k, net, pf), logger)
    return 0


@export("void nf_log_unset(struct net *net, const struct nf_logger *logger)")
def nf_log_unset(k, net, logger):
    for pf in range(_numproto(k)):
        if k.machine.read_u64(_net_slot(k, net, pf)) == logger:
            k.machine.write_u64(_net_slot(k, net, pf), 0)


@export("int nf_log_bind_pf(struct net *net, u8 pf, const struct nf_logger *logger)")
def nf_log_bind_pf(k, net, pf, logger):
    if pf >= _numproto(k):
        return -errno.EINVAL
    if not _find_logger(k, pf, cstr(k, rd(k, logger, "nf_logger.name"), 64)):
        return -errno.ENOENT
    k.machine.write_u64(_net_slot(k, net, pf), logger)
    return 0


@export("void nf_log_unbind_pf(struct net *net, u8 pf)")
def nf_log_unbind_pf(k, net, pf):
    if pf < _numproto(k):
        k.machine.write_u64(_net_slot(k, net, pf), 0)


@export("int nf_logger_find_get(int pf, enum nf_log_type type)")
def nf_logger_find_get(k, pf, type):
    from ...fs.open import module_get
    pf = s32(pf)
    if pf == _c(k, "NFPROTO_INET"):
        ret = nf_logger_find_get(k, _c(k, "NFPROTO_IPV4"), type)
        if ret < 0:
            return ret
        ret = nf_logger_find_get(k, _c(k, "NFPROTO_IPV6"), type)
        if ret < 0:
            nf_logger_put(k, _c(k, "NFPROTO_IPV4"), type)
            return ret
        return 0
    logger = k.model(NfLog).loggers.get((pf, type))
    if not logger:
        return -errno.ENOENT
    return 0 if module_get(k, rd(k, logger, "nf_logger.me")) else -errno.ENOENT


@export("void nf_logger_put(int pf, enum nf_log_type type)")
def nf_logger_put(k, pf, type):
    from ...fs.open import module_put
    pf = s32(pf)
    if pf == _c(k, "NFPROTO_INET"):
        nf_logger_put(k, _c(k, "NFPROTO_IPV4"), type)
        nf_logger_put(k, _c(k, "NFPROTO_IPV6"), type)
        return
    logger = k.model(NfLog).loggers.get((pf, type))
    if not logger:
        bug(k, "net/netfilter/nf_log.c:178")
    module_put(k, rd(k, logger, "nf_logger.me"))


def _prefix(k, fmt, va) -> int:
    """vsnprintf(prefix, NF_LOG_PREFIXLEN, fmt, args) into a kernel stack-like buffer."""
    from kemu.stubs.lib.vsprintf import vformat
    text = vformat(k, fmt, va)[:NF_LOG_PREFIXLEN - 1]
    buf = k.heap.alloc(NF_LOG_PREFIXLEN, kind="nf_log prefix", zero=True)
    k.machine.write(buf, text + b"\0")
    return buf


def _log(k, logger, net, pf, hooknum, skb, in_, out, loginfo, fmt, va):
    if not logger:
        return
    prefix = _prefix(k, fmt, va)
    try:
        yield k.call_request(rd(k, logger, "nf_logger.logfn"), net, pf, hooknum, skb, in_, out,
                             loginfo, prefix)
    finally:
        k.heap.free(prefix)


@export("void nf_log_packet(struct net *net, u8 pf, unsigned int hooknum, "
        "const struct sk_buff *skb, const struct net_device *in, "
        "const struct net_device *out, const struct nf_loginfo *loginfo, const char *fmt, ...)")
def nf_log_packet(k, net, pf, hooknum, skb, in_, out, loginfo, fmt, va):
    if loginfo:
        logger = k.model(NfLog).loggers.get((pf, rd(k, loginfo, "nf_loginfo.type", 1)), 0)
    else:
        logger = k.machine.read_u64(_net_slot(k, net, pf)) if pf < _numproto(k) else 0
    yield from _log(k, logger, net, pf, hooknum, skb, in_, out, loginfo, fmt, va)


@export("void nf_log_trace(struct net *net, u8 pf, unsigned int hooknum, "
        "const struct sk_buff *skb, const struct net_device *in, "
        "const struct net_device *out, const struct nf_loginfo *loginfo, const char *fmt, ...)")
def nf_log_trace(k, net, pf, hooknum, skb, in_, out, loginfo, fmt, va):
    logger = k.machine.read_u64(_net_slot(k, net, pf)) if pf < _numproto(k) else 0
    yield from _log(k, logger, net, pf, hooknum, skb, in_, out, loginfo, fmt, va)


@data("int sysctl_nf_log_all_netns")
def sysctl_nf_log_all_netns(k, addr):
    k.machine.write_u32(addr, 0)


# ------------------------------------------------------------ struct nf_log_buf
@export("struct nf_log_buf *nf_log_buf_open(void)")
def nf_log_buf_open(k):
    m = k.heap.alloc(4 + S_SIZE + 1, kind="kmalloc", zero=False)
    k.machine.write_u32(m, 0)
    return m


@export("int nf_log_buf_add(struct nf_log_buf *m, const char *f, ...)")
def nf_log_buf_add(k, m, f, va):
    from kemu.stubs.lib.vsprintf import vformat
    count = k.machine.read_u32(m)
    if count < S_SIZE:
        text = vformat(k, f, va)
        room = S_SIZE - count
        k.machine.write(m + 4 + count, text[:room - 1] + b"\0")
        if count + len(text) < S_SIZE:
            k.machine.write_u32(m, count + len(text))
            return 0
    k.machine.write_u32(m, S_SIZE)
    st = k.model(NfLog)
    if not st.warned:
        st.warned = True
        k.log.emit(KERN_ERR, "netfilter dropping packet info ... (increase S_SIZE)")
    return -1


@export("void nf_log_buf_close(struct nf_log_buf *m)")
def nf_log_buf_close(k, m):
    from ...kernel.printk import vprintk_emit
    count = k.machine.read_u32(m)
    k.machine.write_u8(m + 4 + count, 0)
    vprintk_emit(k, bytes(k.machine.read(m + 4, count)) + b"\n")
    kfree(k, m)

