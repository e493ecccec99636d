"""drivers/tty/tty_io.c, drivers/tty/tty_port.c: tty drivers and ports as they register.

``__tty_alloc_driver`` allocates the driver and its ttys/termios/ports/cdevs
arrays as 6.1 does (-EINVAL for no line, or several unnumbered ones);
``tty_register_driver`` takes its char region (a dynamic major when none is
given), adds the one cdev of a TTY_DRIVER_DYNAMIC_ALLOC driver, and, unless
TTY_DRIVER_DYNAMIC_DEV, registers a device per line in class "tty" (name
``NAME<base+index>``, a /dev node and a cdev each). ``tty_unregister_driver``
gives the region back; the last ``tty_driver_kref_put`` removes the devices
and frees the driver. A driver still registered after its module's exit is
reported. ``tty_port_init``/``tty_port_destroy`` and
``tty_port_register_device`` do what they do for a port with no tty.

Opening a tty is not modelled (no line discipline, no tty_struct): the
runtime calls a driver makes on an open tty (flip buffers, hangups, termios
helpers, port open/close) are link-only, and ``open`` of a tty node is a
``not-modelled`` finding failing -ENODEV. /proc/tty/drivers is not listed.
"""
from __future__ import annotations

import errno

from kemu import data, export
from kemu.abi.exports import link_only_table, members
from kemu.abi.toolkit import (cstr, err_ptr, is_err, kfree, kzalloc, ptr_err, rd, rd_s32,
                              static, static_addr, wr)
from kemu.kernel.log import KERN_ERR

from ...fs.char_dev import (alloc_chrdev_region, cdev_add, cdev_alloc, cdev_del,
                            register_chrdev_region, unregister_chrdev_region)
from ..base.class_ import Classes
from ..base.core import create_device, device_destroy

members("struct tty_driver", "kref", "num", "owner", "flags", "ttys", "termios", "ports",
        "cdevs", "major", "minor_start", "name", "name_base", "type", "driver_name")
members("struct tty_port", "kref", "close_delay", "closing_wait", "open_wait",
        "delta_msr_wait", "mutex", "buf_mutex", "tty")
members("struct ktermios", "c_iflag", "c_oflag", "c_cflag", "c_lflag", "c_line", "c_cc",
        "c_ispeed", "c_ospeed")
members("struct cdev", "ops", "owner")

TTY_DRIVER_INSTALLED = 0x0001
TTY_DRIVER_RESET_TERMIOS = 0x0002
TTY_DRIVER_REAL_RAW = 0x0004
TTY_DRIVER_DYNAMIC_DEV = 0x0008
TTY_DRIVER_DEVPTS_MEM = 0x0010
TTY_DRIVER_HARDWARE_BREAK = 0x0020
TTY_DRIVER_DYNAMIC_ALLOC = 0x0040
TTY_DRIVER_UNNUMBERED_NODE = 0x0080
_MINORBITS = 20


def _u32(k, drv, member) -> int:
    return rd(k, drv, f"tty_driver.{member}", 4)


def _name(k, drv) -> str:
    return cstr(k, rd(k, drv, "tty_driver.name"), 64)


# ------------------------------------------------------------ the default termios
@data("struct ktermios tty_std_termios")
def tty_std_termios(k, addr):
    """The initial termios of every tty: 38400 8N1, canonical with echo, INIT_C_CC."""
    t = k.target
    for member, value in (("c_iflag", 0o400 | 0o2000),              # ICRNL | IXON
                          ("c_oflag", 0o1 | 0o4),                   # OPOST | ONLCR
                          ("c_cflag", 0o17 | 0o60 | 0o200 | 0o2000),  # B38400|CS8|CREAD|HUPCL
                          ("c_lflag", 0o1 | 0o2 | 0o10 | 0o20 | 0o40 | 0o1000 | 0o4000 |
                           0o100000),       # ISIG|ICANON|ECHO|ECHOE|ECHOK|ECHOCTL|ECHOKE|IEXTEN
                          ("c_ispeed", 38400), ("c_ospeed", 38400)):
        k.machine.write_u32(addr + t.offset(f"ktermios.{member}"), value)
    k.machine.write(addr + t.offset("ktermios.c_cc"),
                    b"\003\034\177\025\004\0\1\0\021\023\032\0\022\017\027\026\0")   # INIT_C_CC


# ------------------------------------------------------------ drivers
@export("struct tty_driver *__tty_alloc_driver(unsigned int lines, struct module *owner, "
        "unsigned long flags)", fails="ERR_PTR(-ENOMEM)")
def __tty_alloc_driver(k, lines, owner, flags):
    if not lines or (flags & TTY_DRIVER_UNNUMBERED_NODE and lines > 1):
        return err_ptr(-errno.EINVAL)
    drv = kzalloc(k, k.target.sizeof("tty_driver"), "tty_driver")
    wr(k, drv, "tty_driver.kref", 1, 4)                       # kref_init()
    wr(k, drv, "tty_driver.num", lines, 4)
    wr(k, drv, "tty_driver.owner", owner)
    wr(k, drv, "tty_driver.flags", flags)
    if not flags & TTY_DRIVER_DEVPTS_MEM:
        wr(k, drv, "tty_driver.ttys", kzalloc(k, 8 * lines, "tty_struct *"))
        wr(k, drv, "tty_driver.termios", kzalloc(k, 8 * lines, "ktermios *"))
    cdevs = 1
    if not flags & TTY_DRIVER_DYNAMIC_ALLOC:
        wr(k, drv, "tty_driver.ports", kzalloc(k, 8 * lines, "tty_port *"))
        cdevs = lines
    wr(k, drv, "tty_driver.cdevs", kzalloc(k, 8 * cdevs, "cdev *"))
    return drv


@static("int tty_open(struct inode *inode, struct file *filp)")
def tty_open(k, inode, filp):
    """Opening a tty needs its tty_struct and line discipline: not modelled."""
    k.finding("not-modelled", "open of a tty: kemu does not model tty_open() (no tty_struct, "
                              "no line discipline)", k.current_module())
    return -errno.ENODEV


class Ttys:
    """Per-kernel tty state: tty_fops (open only) and the registered drivers."""

    def __init__(self, k):
        self.fops = kzalloc(k, k.target.sizeof("file_operations"), "tty_fops")
        wr(k, self.fops, "file_operations.open", static_addr(k, "tty_open"))
        self.drivers: list[int] = []


def _cdev_add_tty(k, drv, devt, index, count) -> int:
    """tty_cdev_add(): a cdev with tty_fops for ``count`` minors at ``devt``."""
    cdev = cdev_alloc(k)
    wr(k, cdev, "cdev.ops", k.model(Ttys).fops)
    wr(k, cdev, "cdev.owner", rd(k, drv, "tty_driver.owner"))
    err = cdev_add(k, cdev, devt, count)
    if err:
        kfree(k, cdev)
        return err
    k.machine.write_u64(rd(k, drv, "tty_driver.cdevs") + 8 * index, cdev)
    return 0


def _cdev_del_tty(k, drv, index) -> None:
    slot = rd(k, drv, "tty_driver.cdevs") + 8 * index
    cdev = k.machine.read_u64(slot)
    if cdev:
        cdev_del(k, cdev)
        k.machine.write_u64(slot, 0)


def _devt(k, drv, index=0) -> int:
    return (_u32(k, drv, "major") << _MINORBITS) + _u32(k, drv, "minor_start") + index


@export("struct device *tty_register_device_attr(struct tty_driver *driver, unsigned index, "
        "struct device *device, void *drvdata, const struct attribute_group **attr_grp)")
def tty_register_device_attr(k, drv, index, device, drvdata, attr_grp):
    if index >= _u32(k, drv, "num"):
        k.log.emit(KERN_ERR, f"{_name(k, drv)}: Attempt to register invalid tty line number "
                             f"({index})")
        return err_ptr(-errno.EINVAL)
    flags = rd(k, drv, "tty_driver.flags")
    if flags & TTY_DRIVER_UNNUMBERED_NODE:
        name = _name(k, drv)
    else:
        name = f"{_name(k, drv)}{index + rd_s32(k, drv, 'tty_driver.name_base')}"
    devt = _devt(k, drv, index)
    dev = yield from create_device(k, k.model(Classes).boot["tty"], device, devt, drvdata,
                                   attr_grp, name)
    if is_err(dev):
        return dev
    if not flags & TTY_DRIVER_DYNAMIC_ALLOC:
        err = _cdev_add_tty(k, drv, devt, index, 1)
        if err:
            yield from device_destroy(k, k.model(Classes).boot["tty"], devt)
            return err_ptr(err)
    return dev


@export("struct device *tty_register_device(struct tty_driver *driver, unsigned index, "
        "struct device *device)")
def tty_register_device(k, drv, index, device):
    return (yield from tty_register_device_attr(k, drv, index, device, 0, 0))


@export("void tty_unregister_device(struct tty_driver *driver, unsigned index)")
def tty_unregister_device(k, drv, index):
    yield from device_destroy(k, k.model(Classes).boot["tty"], _devt(k, drv, index))
    if not rd(k, drv, "tty_driver.flags") & TTY_DRIVER_DYNAMIC_ALLOC:
        _cdev_del_tty(k, drv, index)


@export("int tty_register_driver(struct tty_driver *driver)")
def tty_register_driver(k, drv):
    num = _u32(k, drv, "num")
    name = rd(k, drv, "tty_driver.name")
    if not _u32(k, drv, "major"):
        devp = k.heap.alloc(4, kind="dev_t", zero=True)
        try:
            err = alloc_chrdev_region(k, devp, _u32(k, drv, "minor_start"), num, name)
            dev = k.machine.read_u32(devp)
        finally:
            k.heap.free(devp)
        if not err:
            wr(k, drv, "tty_driver.major", dev >> _MINORBITS, 4)
            wr(k, drv, "tty_driver.minor_start", dev & ((1 << _MINORBITS) - 1), 4)
    else:
        dev = _devt(k, drv)
        err = register_chrdev_region(k, dev, num, name)
    if err < 0:
        return err
    flags = rd(k, drv, "tty_driver.flags")
    if flags & TTY_DRIVER_DYNAMIC_ALLOC:
        err = _cdev_add_tty(k, drv, dev, 0, num)
        if err:
            unregister_chrdev_region(k, dev, num)
            return err
    if not flags & TTY_DRIVER_DYNAMIC_DEV:
        for i in range(num):
            d = yield from tty_register_device(k, drv, i, 0)
            if is_err(d):
                for j in range(i - 1, -1, -1):
                    yield from tty_unregister_device(k, drv, j)
                unregister_chrdev_region(k, dev, num)
                return ptr_err(d)
    k.model(Ttys).drivers.append(drv)
    wr(k, drv, "tty_driver.flags", flags | TTY_DRIVER_INSTALLED)
    k.register("tty driver", drv, k.current_module(), f"tty driver {_name(k, drv)}")
    return 0


@export("void tty_unregister_driver(struct tty_driver *driver)")
def tty_unregister_driver(k, drv):
    unregister_chrdev_region(k, _devt(k, drv), _u32(k, drv, "num"))
    tt = k.model(Ttys)
    if drv in tt.drivers:
        tt.drivers.remove(drv)
        k.unregister("tty driver", drv)


@export("void tty_driver_kref_put(struct tty_driver *driver)")
def tty_driver_kref_put(k, drv):
    """The last reference: destruct_tty_driver()."""
    refs = _u32(k, drv, "kref") - 1
    wr(k, drv, "tty_driver.kref", refs, 4)
    if refs:
        return
    flags = rd(k, drv, "tty_driver.flags")
    if flags & TTY_DRIVER_INSTALLED:
        termios = rd(k, drv, "tty_driver.termios")
        for i in range(_u32(k, drv, "num")):
            if termios and k.machine.read_u64(termios + 8 * i):
                kfree(k, k.machine.read_u64(termios + 8 * i))
                k.machine.write_u64(termios + 8 * i, 0)
            if not flags & TTY_DRIVER_DYNAMIC_DEV:
                yield from tty_unregister_device(k, drv, i)
        if flags & TTY_DRIVER_DYNAMIC_ALLOC:
            _cdev_del_tty(k, drv, 0)
    for member in ("cdevs", "ports", "termios", "ttys"):
        kfree(k, rd(k, drv, f"tty_driver.{member}"))
    kfree(k, drv)


# ------------------------------------------------------------ ports
def _init_list(k, addr) -> None:
    k.machine.write_u64(addr, addr)
    k.machine.write_u64(addr + 8, addr)


@export("void tty_port_init(struct tty_port *port)")
def tty_port_init(k, port):
    """A zeroed port with its wait queues and mutexes initialised, one reference and the
    default close delays (HZ / 2 and 30 * HZ)."""
    t = k.target
    k.machine.write(port, bytes(t.sizeof("tty_port")))
    for wq in ("open_wait", "delta_msr_wait"):
        _init_list(k, port + t.offset(f"tty_port.{wq}") + t.offset("wait_queue_head.head"))
    for mutex in ("mutex", "buf_mutex"):
        _init_list(k, port + t.offset(f"tty_port.{mutex}") + t.offset("mutex.wait_list"))
    hz = t.const("HZ")
    wr(k, port, "tty_port.close_delay", 50 * hz // 100, 4)
    wr(k, port, "tty_port.closing_wait", 3000 * hz // 100, 4)
    wr(k, port, "tty_port.kref", 1, 4)


@export("void tty_port_destroy(struct tty_port *port)")
def tty_port_destroy(k, port):
    """tty_buffer_free_all(): no flip buffer was ever allocated (no tty was opened)."""


@export("void tty_port_link_device(struct tty_port *port, struct tty_driver *driver, "
        "unsigned index)")
def tty_port_link_device(k, port, drv, index):
    if index >= _u32(k, drv, "num"):
        from ...lib.kemu_warn import warn_once
        warn_once(k, "drivers/tty/tty_port.c:87", "tty_port_link_device+0x27/0x30")
        return
    k.machine.write_u64(rd(k, drv, "tty_driver.ports") + 8 * index, port)


@export("struct device *tty_port_register_device(struct tty_port *port, "
        "struct tty_driver *driver, unsigned index, struct device *device)")
def tty_port_register_device(k, port, drv, index, device):
    tty_port_link_device(k, port, drv, index)
    return (yield from tty_register_device_attr(k, drv, index, device, 0, 0))


@export("struct device *tty_port_register_device_attr(struct tty_port *port, "
        "struct tty_driver *driver, unsigned index, struct device *device, void *drvdata, "
        "const struct attribute_group **attr_grp)")
def tty_port_register_device_attr(k, port, drv, index, device, drvdata, attr_grp):
    tty_port_link_device(k, port, drv, index)
    return (yield from tty_register_device_attr(k, drv, index, device, drvdata, attr_grp))


@export("struct tty_struct *tty_port_tty_get(struct tty_port *port)")
def tty_port_tty_get(k, port):
    """port->tty with a reference: NULL, no tty is ever opened on a port here."""
    tty = rd(k, port, "tty_port.tty")
    if tty:
        k.finding("not-modelled", "tty_port_tty_get() of a port with a tty: kemu opens none",
                  k.current_module())
    return tty


# ------------------------------------------------------------ an open tty's calls
link_only_table((
    ("void tty_flip_buffer_push(struct tty_port *port)", None),
    ("int tty_insert_flip_string_fixed_flag(struct tty_port *port, const unsigned char *chars, "
     "char flag, size_t size)", 0),
    ("int __tty_insert_flip_char(struct tty_port *port, unsigned char ch, char flag)", 0),
    ("speed_t tty_termios_baud_rate(struct ktermios *termios)", 0),
    ("void tty_termios_copy_hw(struct ktermios *new, const struct ktermios *old)", None),
    ("int tty_standard_install(struct tty_driver *driver, struct tty_struct *tty)",
     -errno.ENODEV),
    ("void tty_hangup(struct tty_struct *tty)", None),
    ("void tty_kref_put(struct tty_struct *tty)", None),
    ("struct tty_ldisc *tty_ldisc_ref(struct tty_struct *tty)", 0),
    ("void tty_ldisc_deref(struct tty_ldisc *ld)", None),
    ("void tty_port_tty_wakeup(struct tty_port *port)", None),
    ("void tty_port_hangup(struct tty_port *port)", None),
    ("void tty_port_tty_vhangup(struct tty_port *port)", None),
    ("void tty_port_close(struct tty_port *port, struct tty_struct *tty, struct file *filp)",
     None),
    ("int tty_port_open(struct tty_port *port, struct tty_struct *tty, struct file *filp)",
     -errno.ENODEV),
    ("void tty_encode_baud_rate(struct tty_struct *tty, speed_t ibaud, speed_t obaud)", None),
    ("void tty_termios_encode_baud_rate(struct ktermios *termios, speed_t ibaud, "
     "speed_t obaud)", None),
    ("unsigned char tty_get_char_size(unsigned int cflag)", 8),
    ("bool tty_termios_hw_change(const struct ktermios *a, const struct ktermios *b)", False),
    ("void tty_port_tty_hangup(struct tty_port *port, bool check_clocal)", None),
    ("void tty_wakeup(struct tty_struct *tty)", None),
    ("int tty_put_char(struct tty_struct *tty, unsigned char ch)", 0),
), "no tty is ever opened in kemu (tty_open() is not modelled)")
