"""kernel/irq/manage.c: requesting, freeing, enabling and disabling interrupt lines.

kemu's machine raises no interrupt, but the lines are a real shared
resource: the legacy ISA interrupts 0-15 have descriptors (as on a booted
PC, where the timer, the i8042, the RTC and ACPI's SCI hold 0, 1, 12, 8 and
9; 2 is the cascade and cannot be requested); higher numbers have no
descriptor (-EINVAL). ``request_threaded_irq`` checks the flags as the
kernel does, refuses a line held without matching IRQF_SHARED (with the
kernel's "Flags mismatch" message) and records the action; ``free_irq``
returns the name it was requested with, or WARNs ("Trying to free
already-free IRQ"). An action still requested after its module's exit is
reported. Handlers are never called (no interrupt is raised); a threaded
handler's thread is not started.

Python API: ``irq_actions(k) -> {irq: [(name, dev_id, flags, owner module name)]}``.
"""
from __future__ import annotations

import errno

from kemu import export
from kemu.kernel.log import KERN_ERR, KERN_WARNING

from kemu.abi.toolkit import cstr

NR_LEGACY_IRQS = 16
IRQ_NOTCONNECTED = 1 << 31
# (irq, name, flag constants): actions the booted kernel holds
BOOT_ACTIONS = ((0, "timer", ("IRQF_TIMER",)), (1, "i8042", ()), (8, "rtc0", ()),
                (9, "acpi", ("IRQF_SHARED",)), (12, "i8042", ()))
NOREQUEST = (2,)               # the PIC cascade


class Action:
    """One struct irqaction (kept in Python)."""
    __slots__ = ("handler", "thread_fn", "flags", "name", "dev_id", "owner")

    def __init__(self, handler, thread_fn, flags, name, dev_id, owner):
        self.handler, self.thread_fn, self.flags = handler, thread_fn, flags
        self.name, self.dev_id, self.owner = name, dev_id, owner


class Desc:
    """An irq_desc: its actions and disable depth."""
    __slots__ = ("irq", "actions", "depth", "wake", "handler", "handler_name", "chained")

    def __init__(self, irq):
        self.irq, self.actions, self.depth, self.wake = irq, [], 1, 0
        self.handler, self.handler_name, self.chained = 0, "", False


class Irqs:
    """Per-kernel interrupt descriptors."""

    def __init__(self, k):
        self.k = k
        self.descs: dict[int, Desc] = {i: Desc(i) for i in range(NR_LEGACY_IRQS)}
        for irq, name, flag_names in BOOT_ACTIONS:
            d = self.descs[irq]
            flags = 0
            for f in flag_names:
                flags |= k.target.const(f)
            d.actions.append(Action(0, 0, flags, 0, 0, None))
            d.actions[-1].name = name
            d.depth = 0

    def desc(self, irq):
        return self.descs.get(irq)


def _c(k, name):
    return k.target.const(name)


def _action_name(k, a) -> str:
    return a.name if isinstance(a.name, str) else cstr(k, a.name, 64)


def setup_irq(k, irq, handler, thread_fn, flags, devname, dev_id) -> int:
    """request_threaded_irq()'s checks and __setup_irq(); 0 or -errno."""
    if irq == IRQ_NOTCONNECTED:
        return -errno.ENOTCONN
    shared = flags & _c(k, "IRQF_SHARED")
    if (shared and not dev_id) or (shared and flags & _c(k, "IRQF_NO_AUTOEN")) or \
            (not shared and flags & _c(k, "IRQF_COND_SUSPEND")) or \
            (flags & _c(k, "IRQF_NO_SUSPEND") and flags & _c(k, "IRQF_COND_SUSPEND")):
        return -errno.EINVAL
    irqs = k.model(Irqs)
    desc = irqs.desc(irq)
    if desc is None or irq in NOREQUEST:
        return -errno.EINVAL
    if not handler:
        if not thread_fn:
            return -errno.EINVAL
        if not flags & _c(k, "IRQF_ONESHOT"):
            k.log.emit(KERN_ERR, f"genirq: Threaded irq requested with handler=NULL and !ONESHOT for "
                          f"{cstr(k, devname, 64)} (irq {irq})")
            return -errno.EINVAL
    if desc.actions:
        old = desc.actions[0]
        ok = (old.flags & flags & _c(k, "IRQF_SHARED")) and \
            not ((old.flags ^ flags) & (_c(k, "IRQF_TRIGGER_MASK") | _c(k, "IRQF_ONESHOT"))) \
            and not ((old.flags ^ flags) & _c(k, "IRQF_PERCPU"))
        if not ok:
            if not (flags & old.flags & _c(k, "IRQF_PROBE_SHARED")):
                k.log.emit(KERN_ERR, f"genirq: Flags mismatch irq {irq}. {flags:08x} "
                              f"({cstr(k, devname, 64)}) vs. {old.flags:08x} "
                              f"({_action_name(k, old)})")
            return -errno.EBUSY
    owner = k.current_module()
    desc.actions.append(Action(handler, thread_fn, flags, devname, dev_id, owner))
    if len(desc.actions) == 1:
        desc.depth = 1 if flags & _c(k, "IRQF_NO_AUTOEN") else 0
    if thread_fn:
        k.note("request_threaded_irq: kemu raises no interrupt and starts no irq thread")
    k.register("irq", (irq, dev_id), owner, f"irq {irq} ({cstr(k, devname, 64)})")
    return 0


@export("int request_threaded_irq(unsigned int irq, void *handler, "
        "void *thread_fn, unsigned long irqflags, const char *devname, void *dev_id)", fails="-EBUSY")
def request_threaded_irq(k, irq, handler, thread_fn, irqflags, devname, dev_id):
    return setup_irq(k, irq, handler, thread_fn, irqflags, devname, dev_id)


@export("int request_any_context_irq(unsigned int irq, void *handler, "
        "unsigned long flags, const char *name, void *dev_id)")
def request_any_context_irq(k, irq, handler, flags, name, dev_id):
    """0 (IRQC_IS_HARDIRQ): kemu's descriptors are not nested-threaded."""
    return setup_irq(k, irq, handler, 0, flags, name, dev_id)


def remove_action(k, irq, dev_id):
    """__free_irq(): the removed Action, or None after the kernel's warning."""
    desc = k.model(Irqs).desc(irq)
    if desc is not None:
        for a in desc.actions:
            if a.dev_id == dev_id and (a.owner is not None or a.handler or a.thread_fn):
                desc.actions.remove(a)
                if not desc.actions:
                    desc.depth = 1
                k.unregister("irq", (irq, dev_id))
                return a
    from ...lib.kemu_warn import warn
    warn(k, "kernel/irq/manage.c:1887", "free_irq+0x1d3/0x340",
         f"Trying to free already-free IRQ {irq}")
    return None


@export("const void *free_irq(unsigned int irq, void *dev_id)")
def free_irq(k, irq, dev_id):
    a = remove_action(k, irq, dev_id)
    return a.name if a is not None and not isinstance(a.name, str) else 0


def _desc_or_none(k, irq):
    return k.model(Irqs).desc(irq)


@export("void disable_irq(unsigned int irq)")
def disable_irq(k, irq):
    d = _desc_or_none(k, irq)
    if d is not None:
        d.depth += 1


@export("void disable_irq_nosync(unsigned int irq)")
def disable_irq_nosync(k, irq):
    disable_irq(k, irq)


@export("bool disable_hardirq(unsigned int irq)")
def disable_hardirq(k, irq):
    disable_irq(k, irq)
    return True


@export("void enable_irq(unsigned int irq)")
def enable_irq(k, irq):
    d = _desc_or_none(k, irq)
    if d is None:
        return
    if d.depth == 0:
        from ...lib.kemu_warn import warn
        warn(k, "kernel/irq/manage.c:781", "__enable_irq+0x37/0x60",
             f"Unbalanced enable for IRQ {irq}")
        return
    d.depth -= 1


@export("void synchronize_irq(unsigned int irq)")
def synchronize_irq(k, irq):
    """No handler ever runs in kemu: nothing to wait for."""


@export("bool synchronize_hardirq(unsigned int irq)")
def synchronize_hardirq(k, irq):
    return True


@export("int irq_set_irq_wake(unsigned int irq, unsigned int on)")
def irq_set_irq_wake(k, irq, on):
    d = _desc_or_none(k, irq)
    if d is None:
        return -errno.EINVAL
    if on:
        d.wake += 1
    elif d.wake == 0:
        k.log.emit(KERN_WARNING, f"Unbalanced IRQ {irq} wake disable")
    else:
        d.wake -= 1
    return 0


# ------------------------------------------------------------ Python API
def irq_actions(k) -> dict:
    """{irq: [(name, dev_id, flags, owner module name or None)]} of requested lines."""
    return {irq: [(_action_name(k, a), a.dev_id, a.flags, a.owner.name if a.owner else None)
                  for a in d.actions]
            for irq, d in k.model(Irqs).descs.items() if d.actions}

