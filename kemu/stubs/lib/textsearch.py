"""lib/textsearch.c: the registry of search algorithms (ts_kmp, ts_bm, ts_fsm)
and the search entry points around their ops."""
import errno

from kemu import export
from kemu.abi.exports import members

from ..crypto.internal import list_del_init
from kemu.abi.toolkit import err_ptr, init_list_head, is_err, list_add, static, static_addr
from ..kernel.module import module_put, try_module_get
from ..mm.slab import kfree_addr

members("struct ts_ops", "list")
members("struct ts_config", "ops", "get_next_block", "finish")
members("struct ts_state", "cb")

# struct ts_linear_state (local to lib/textsearch.c) kept in ts_state.cb:
# { unsigned int len; const void *data; }, natural x86_64 alignment
LINEAR_LEN, LINEAR_DATA = 0, 8


class TextSearch:
    """ts_ops: the kernel's list head plus the registered ops in list order."""

    def __init__(self, k):
        self.head = k.machine.alloc_kdata(k.target.sizeof("list_head"), 8)
        init_list_head(k, self.head)
        self.ops = []


def _ops(k, ops, member):
    return k.machine.read_u64(ops + k.target.offset(f"ts_ops.{member}"))


def _name(k, ops):
    return k.machine.read_cstr(_ops(k, ops, "name"), 256)


@export("int textsearch_register(struct ts_ops *ops)")
def textsearch_register(k, ops):
    if not all(_ops(k, ops, m) for m in ("name", "find", "init", "get_pattern",
                                         "get_pattern_len")):
        return -errno.EINVAL
    ts = k.model(TextSearch)
    name = _name(k, ops)
    if any(_name(k, o) == name for o in ts.ops):
        return -errno.EEXIST
    tail = k.machine.read_u64(ts.head + k.target.offset("list_head.prev"))
    list_add(k, ops + k.target.offset("ts_ops.list"), tail)      # list_add_tail_rcu()
    ts.ops.append(ops)
    owner = k.module_at(_ops(k, ops, "owner")) or k.current_module()
    k.register("textsearch algorithm", ops, owner, f"textsearch algorithm {name.decode()}")
    return 0


@export("int textsearch_unregister(struct ts_ops *ops)")
def textsearch_unregister(k, ops):
    ts = k.model(TextSearch)
    if ops not in ts.ops:
        return -errno.ENOENT
    list_del_init(k, ops + k.target.offset("ts_ops.list"))
    ts.ops.remove(ops)
    k.unregister("textsearch algorithm", ops)
    return 0


def _lookup(k, algo: bytes):
    for ops in k.model(TextSearch).ops:
        if _name(k, ops) == algo:
            return ops if try_module_get(k, _ops(k, ops, "owner")) else 0
    return 0


@export("struct ts_config *textsearch_prepare(const char *algo, const void *pattern, "
        "unsigned int len, gfp_t gfp_mask, int flags)")
def textsearch_prepare(k, algo, pattern, length, gfp_mask, flags):
    if length == 0:
        return err_ptr(-errno.EINVAL)
    ops = _lookup(k, k.machine.read_cstr(algo, 256))
    if not ops:
        return err_ptr(-errno.ENOENT)
    conf = yield k.call_request(_ops(k, ops, "init"), pattern, length, gfp_mask, flags)
    if is_err(conf):
        module_put(k, _ops(k, ops, "owner"))
        return conf
    k.machine.write_u64(conf + k.target.offset("ts_config.ops"), ops)
    return conf


@export("void textsearch_destroy(struct ts_config *conf)")
def textsearch_destroy(k, conf):
    ops = k.machine.read_u64(conf + k.target.offset("ts_config.ops"))
    if ops:
        destroy = _ops(k, ops, "destroy")
        if destroy:
            yield k.call_request(destroy, conf)
        module_put(k, _ops(k, ops, "owner"))
    kfree_addr(k, conf)


@static("unsigned int get_linear_data(unsigned int consumed, const u8 **dst, "
         "struct ts_config *conf, struct ts_state *state)")
def get_linear_data(k, consumed, dst, conf, state):
    m = k.machine
    cb = state + k.target.offset("ts_state.cb")
    length = m.read_u32(cb + LINEAR_LEN)
    if consumed < length:
        m.write_u64(dst, m.read_u64(cb + LINEAR_DATA) + consumed)
        return length - consumed
    return 0


@export("unsigned int textsearch_find_continuous(struct ts_config *conf, struct ts_state *state, "
        "const void *data, unsigned int len)")
def textsearch_find_continuous(k, conf, state, data, length):
    m, t = k.machine, k.target
    cb = state + t.offset("ts_state.cb")
    m.write_u64(conf + t.offset("ts_config.get_next_block"), static_addr(k, "get_linear_data"))
    m.write_u32(cb + LINEAR_LEN, length)
    m.write_u64(cb + LINEAR_DATA, data)
    ops = m.read_u64(conf + t.offset("ts_config.ops"))
    ret = yield k.call_request(_ops(k, ops, "find"), conf, state)    # textsearch_find()
    finish = m.read_u64(conf + t.offset("ts_config.finish"))
    if finish:
        yield k.call_request(finish, conf, state)
    return ret & 0xFFFFFFFF


