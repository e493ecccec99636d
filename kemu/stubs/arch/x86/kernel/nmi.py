"""arch/x86/kernel/nmi.c: NMI handler registration.

``__register_nmi_handler()`` puts a ``struct nmiaction`` on the list of its
NMI type (NMI_FLAG_FIRST at the head), refusing a type out of range with the
kernel's WARN-less -EINVAL; ``unregister_nmi_handler()`` removes the action of
that name. No NMI is ever raised in kemu, so handlers never run; one still
registered when its module is gone is reported. ``nmi_panic()`` is
unreachable: kemu never panics.
"""
import errno

from kemu import export
from kemu.abi.exports import members, unreachable

from kemu.abi.toolkit import cstr, rd

members("struct nmiaction", "handler", "flags", "name", "list", "max_duration")


class NmiDescs:
    """Per-type lists of registered nmiaction addresses (head first)."""

    def __init__(self, k):
        self.lists: dict[int, list[int]] = {}


@export("int __register_nmi_handler(unsigned int type, struct nmiaction *action)")
def __register_nmi_handler(k, type_, action):
    if type_ >= k.target.const("NMI_MAX") or not rd(k, action, "nmiaction.handler"):
        return -errno.EINVAL
    actions = k.model(NmiDescs).lists.setdefault(type_, [])
    if rd(k, action, "nmiaction.flags") & k.target.const("NMI_FLAG_FIRST"):
        actions.insert(0, action)
    else:
        actions.append(action)
    name = cstr(k, rd(k, action, "nmiaction.name"), 64)
    owner = k.module_containing(action) or k.current_module()
    k.register("nmi handler", (type_, action), owner, f"NMI handler {name}")
    return 0


@export("void unregister_nmi_handler(unsigned int type, const char *name)")
def unregister_nmi_handler(k, type_, name):
    want = cstr(k, name, 64)
    actions = k.model(NmiDescs).lists.get(type_, [])
    for action in actions:
        if cstr(k, rd(k, action, "nmiaction.name"), 64) == want:
            actions.remove(action)
            k.unregister("nmi handler", (type_, action))
            return


unreachable("void nmi_panic(struct pt_regs *regs, const char *msg)", None,
            "kemu never raises an NMI or panics")
