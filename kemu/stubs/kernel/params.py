"""kernel/params.c: the param_ops_* tables and their set/get callbacks."""
import errno

from kemu import data, export
from kemu.kernel.log import KERN_ERR
from kemu.module.params import KERNEL_PARAM_OPS_FL_NOARG
from kemu.abi.exports import members

from ..lib.kstrtox import kstrto, kstrtobool

members("struct kernel_param_ops", "get", "free")
members("struct kparam_string", "maxlen", "string")
members("struct kparam_array", "max", "elemsize", "num", "ops", "elem")

# name -> (C type, kstrto kind, size, get format)
_STANDARD = {
    "byte": ("unsigned char", "u8", 1, "{:d}"), "short": ("short", "s16", 2, "{:d}"),
    "ushort": ("unsigned short", "u16", 2, "{:d}"), "int": ("int", "int", 4, "{:d}"),
    "uint": ("unsigned int", "uint", 4, "{:d}"), "long": ("long", "l", 8, "{:d}"),
    "ulong": ("unsigned long", "ul", 8, "{:d}"), "ullong": ("unsigned long long", "ull", 8, "{:d}"),
    "hexint": ("unsigned int", "uint", 4, "{:#08x}"),
}
PAGE_SIZE = 4096


def _kp(k, kp, member):
    return k.machine.read_u64(kp + k.target.offset(f"kernel_param.{member}"))


def _kp_name(k, kp):
    return k.machine.read_cstr(_kp(k, kp, "name"), 256).decode("latin-1")


def _get_value(k, kp, size, signed):
    return int.from_bytes(k.machine.read(_kp(k, kp, "arg"), size), "little", signed=signed)


def _emit(k, buffer, text: str) -> int:
    data_ = text.encode("utf-8", "surrogateescape")[:PAGE_SIZE - 1]
    k.machine.write(buffer, data_ + b"\0")
    return len(data_)


def _make_standard(name, ctype, kind, size, fmt):
    signed = kind in ("s16", "int", "l", "ll")

    @export(f"int param_set_{name}(const char *val, const struct kernel_param *kp)")
    def set_(k, val, kp):
        err, value = kstrto(kind, k.machine.read_cstr(val, 4096), 0)
        if err:
            return err
        k.machine.write(_kp(k, kp, "arg"), (value & ((1 << (8 * size)) - 1)).to_bytes(size, "little"))
        return 0

    @export(f"int param_get_{name}(char *buffer, const struct kernel_param *kp)")
    def get_(k, buffer, kp):
        value = _get_value(k, kp, size, signed)
        return _emit(k, buffer, fmt.format(value) + "\n")

    @data(f"const struct kernel_param_ops param_ops_{name}")
    def ops_(k, addr):
        _write_ops(k, addr, 0, f"param_set_{name}", f"param_get_{name}")


def _write_ops(k, addr, flags, set_name, get_name, free_name=None):
    t, m = k.target, k.machine
    m.write_u32(addr + t.offset("kernel_param_ops.flags"), flags)
    m.write_u64(addr + t.offset("kernel_param_ops.set"), k.export_addr(set_name))
    m.write_u64(addr + t.offset("kernel_param_ops.get"), k.export_addr(get_name))
    if free_name:
        m.write_u64(addr + t.offset("kernel_param_ops.free"), k.export_addr(free_name))


for _name, (_ctype, _kind, _size, _fmt) in _STANDARD.items():
    _make_standard(_name, _ctype, _kind, _size, _fmt)


@export("int param_set_charp(const char *val, const struct kernel_param *kp)")
def param_set_charp(k, val, kp):
    m = k.machine
    text = m.read_cstr(val, 4096)
    if len(text) > 1024:
        k.log.emit(KERN_ERR, f"{_kp_name(k, kp)}: string parameter too long")
        return -errno.ENOSPC
    arg = _kp(k, kp, "arg")
    old = m.read_u64(arg)
    if old and k.heap.find(old) is not None and k.heap.find(old).kind == "kmalloc_parameter":
        k.heap.free(old)
    new = k.heap.alloc(len(text) + 1, kind="kmalloc_parameter")
    m.write(new, text + b"\0")
    m.write_u64(arg, new)
    return 0


@export("int param_get_charp(char *buffer, const struct kernel_param *kp)")
def param_get_charp(k, buffer, kp):
    ptr = k.machine.read_u64(_kp(k, kp, "arg"))
    text = k.machine.read_cstr(ptr).decode("utf-8", "replace") if ptr else "(null)"
    return _emit(k, buffer, text + "\n")


@export("void param_free_charp(void *arg)")
def param_free_charp(k, arg):
    ptr = k.machine.read_u64(arg)
    obj = k.heap.find(ptr)
    if obj is not None and obj.kind == "kmalloc_parameter":
        k.heap.free(ptr)


@data("const struct kernel_param_ops param_ops_charp")
def param_ops_charp(k, addr):
    _write_ops(k, addr, 0, "param_set_charp", "param_get_charp", "param_free_charp")


def _set_bool_at(k, val, arg_addr, invert=False, size=1):
    text = k.machine.read_cstr(val, 16) if val else b"1"
    err, value = kstrtobool(text)
    if err:
        return err
    k.machine.write(arg_addr, int(value != invert).to_bytes(size, "little"))
    return 0


@export("int param_set_bool(const char *val, const struct kernel_param *kp)")
def param_set_bool(k, val, kp):
    return _set_bool_at(k, val, _kp(k, kp, "arg"))


@export("int param_get_bool(char *buffer, const struct kernel_param *kp)")
def param_get_bool(k, buffer, kp):
    return _emit(k, buffer, ("Y" if k.machine.read_u8(_kp(k, kp, "arg")) else "N") + "\n")


@data("const struct kernel_param_ops param_ops_bool")
def param_ops_bool(k, addr):
    _write_ops(k, addr, KERNEL_PARAM_OPS_FL_NOARG, "param_set_bool", "param_get_bool")


@export("int param_set_bool_enable_only(const char *val, const struct kernel_param *kp)")
def param_set_bool_enable_only(k, val, kp):
    arg = _kp(k, kp, "arg")
    current = k.machine.read_u8(arg)
    text = k.machine.read_cstr(val, 16) if val else b"1"
    err, value = kstrtobool(text)
    if err:
        return err
    if current and not value:
        return -errno.EROFS
    k.machine.write_u8(arg, int(value))
    return 0


@data("const struct kernel_param_ops param_ops_bool_enable_only")
def param_ops_bool_enable_only(k, addr):
    _write_ops(k, addr, KERNEL_PARAM_OPS_FL_NOARG, "param_set_bool_enable_only", "param_get_bool")


@export("int param_set_invbool(const char *val, const struct kernel_param *kp)")
def param_set_invbool(k, val, kp):
    return _set_bool_at(k, val, _kp(k, kp, "arg"), invert=True)


@export("int param_get_invbool(char *buffer, const struct kernel_param *kp)")
def param_get_invbool(k, buffer, kp):
    return _emit(k, buffer, ("N" if k.machine.read_u8(_kp(k, kp, "arg")) else "Y") + "\n")


@data("const struct kernel_param_ops param_ops_invbool")
def param_ops_invbool(k, addr):
    _write_ops(k, addr, 0, "param_set_invbool", "param_get_invbool")    # no NOARG in 6.1


@export("int param_set_bint(const char *val, const struct kernel_param *kp)")
def param_set_bint(k, val, kp):
    return _set_bool_at(k, val, _kp(k, kp, "arg"), size=4)


@data("const struct kernel_param_ops param_ops_bint")
def param_ops_bint(k, addr):
    _write_ops(k, addr, KERNEL_PARAM_OPS_FL_NOARG, "param_set_bint", "param_get_int")


@export("int param_set_copystring(const char *val, const struct kernel_param *kp)")
def param_set_copystring(k, val, kp):
    t, m = k.target, k.machine
    kps = _kp(k, kp, "arg")
    maxlen = m.read_u32(kps + t.offset("kparam_string.maxlen"))
    text = m.read_cstr(val, 1 << 20)
    if len(text) + 1 > maxlen:
        k.log.emit(KERN_ERR, f"{_kp_name(k, kp)}: string doesn't fit in {maxlen - 1} chars.")
        return -errno.ENOSPC
    m.write(m.read_u64(kps + t.offset("kparam_string.string")), text + b"\0")
    return 0


@export("int param_get_string(char *buffer, const struct kernel_param *kp)")
def param_get_string(k, buffer, kp):
    t, m = k.target, k.machine
    kps = _kp(k, kp, "arg")
    text = m.read_cstr(m.read_u64(kps + t.offset("kparam_string.string")))
    return _emit(k, buffer, text.decode("utf-8", "replace") + "\n")


@data("const struct kernel_param_ops param_ops_string")
def param_ops_string(k, addr):
    _write_ops(k, addr, 0, "param_set_copystring", "param_get_string")


@export("int param_array_set(const char *val, const struct kernel_param *kp)")
def param_array_set(k, val, kp):
    """param_array(): split on ',' in place and call the element ops' set on each."""
    t, m = k.target, k.machine
    arr = _kp(k, kp, "arg")
    max_ = m.read_u32(arr + t.offset("kparam_array.max"))
    elemsize = m.read_u32(arr + t.offset("kparam_array.elemsize"))
    num_addr = m.read_u64(arr + t.offset("kparam_array.num"))
    elem_ops = m.read_u64(arr + t.offset("kparam_array.ops"))
    elem = m.read_u64(arr + t.offset("kparam_array.elem"))
    set_fn = m.read_u64(elem_ops + t.offset("kernel_param_ops.set"))
    name = _kp_name(k, kp)
    # the kernel passes a struct kernel_param on its stack: name, arg and level
    tmp = k.heap.alloc(t.sizeof("kernel_param"), kind="param_array kp", zero=True)
    m.write_u64(tmp + t.offset("kernel_param.name"), _kp(k, kp, "name"))
    m.write_u8(tmp + t.offset("kernel_param.level"),
               m.read_u8(kp + t.offset("kernel_param.level")))
    num, ret = 0, 0
    try:
        while True:
            if num == max_:
                k.log.emit(KERN_ERR, f"{name}: can only take {max_} arguments")
                ret = -errno.EINVAL
                break
            text = m.read_cstr(val, 1 << 20)
            length = text.find(b",")
            length = len(text) if length < 0 else length
            save = text[length:length + 1]
            m.write_u8(val + length, 0)
            m.write_u64(tmp + t.offset("kernel_param.arg"), elem + num * elemsize)
            raw = (yield k.call_request(set_fn, val, tmp)) & 0xFFFFFFFF
            ret = raw - (1 << 32) if raw >> 31 else raw
            if ret != 0:
                break
            val += length + 1
            num += 1
            if save != b",":
                break
        if num_addr:
            m.write_u32(num_addr, num)
        if ret == 0 and num < 1:
            k.log.emit(KERN_ERR, f"{name}: needs at least 1 arguments")
            ret = -errno.EINVAL
    finally:
        k.heap.free(tmp)
    return ret


@export("int param_array_get(char *buffer, const struct kernel_param *kp)")
def param_array_get(k, buffer, kp):
    return _emit(k, buffer, "\n")


@export("void param_array_free(void *arg)")
def param_array_free(k, arg):
    pass


@data("const struct kernel_param_ops param_array_ops")
def param_array_ops(k, addr):
    _write_ops(k, addr, 0, "param_array_set", "param_array_get", "param_array_free")
