"""kernel/module/main.c: module reference counting as modules call it, and
the ``modules`` list.

Each module's ``struct module.list`` is linked into the kernel's ``modules``
list head (a vmlinux object, found through kallsyms) when it comes up and
unlinked when it goes, as add_unformed_module()/free_module() do. find_module()
and /proc/modules walk that list in emulated memory, so a module that unlinked
itself (``list_del(&THIS_MODULE->list)``, the classic hiding trick) is gone
from lsmod and cannot be removed, as on Linux; kemu records the unlinking.
"""
from kemu import export
from kemu.abi.exports import kernel_api, members, module_notifier
from kemu.abi.toolkit import cstr
from kemu.kernel.log import KERN_WARNING
from kemu.module.module import ModuleState
from kemu.machine.oops import modules_linked_in

from ..lib.kemu_warn import bug, warn

from .kallsyms import vmlinux_object

members("struct module", "list")


class ModuleList:
    """The ``modules`` list_head and who is on it."""

    def __init__(self, k):
        self.k = k
        self.head = k.machine.alloc_kdata(16)
        self._set(self.head, self.head, self.head)
        self.hidden: set = set()               # names recorded as unlinked

    def _off(self, member):
        return self.k.target.offset(f"list_head.{member}")

    def _set(self, node, nxt, prev):
        self.k.machine.write_u64(node + self._off("next"), nxt)
        self.k.machine.write_u64(node + self._off("prev"), prev)

    def node(self, mod) -> int:
        return mod.struct_addr + self.k.target.offset("module.list")

    def link(self, mod) -> None:
        """list_add_tail_rcu(&mod->list, &modules)."""
        m, node = self.k.machine, self.node(mod)
        last = m.read_u64(self.head + self._off("prev"))
        self._set(node, self.head, last)
        m.write_u64(last + self._off("next"), node)
        m.write_u64(self.head + self._off("prev"), node)

    def listed(self) -> set:
        """Names of the modules reachable from ``modules`` (a bounded walk)."""
        m = self.k.machine
        by_node = {self.node(mod): mod.name for mod in self.k.modules.values() if mod.struct_addr}
        names, node = set(), m.read_u64(self.head + self._off("next"))
        for _ in range(len(by_node) + 1):
            if node == self.head or node not in by_node:
                break
            names.add(by_node[node])
            node = m.read_u64(node + self._off("next"))
        return names

    def unlink(self, mod) -> None:
        """list_del_rcu() at free_module(), if the module is still on the list."""
        if mod.name in self.listed():
            m, node = self.k.machine, self.node(mod)
            nxt, prev = m.read_u64(node + self._off("next")), m.read_u64(node + self._off("prev"))
            m.write_u64(prev + self._off("next"), nxt)
            m.write_u64(nxt + self._off("prev"), prev)

    def entry_deleted(self, entry: int, site: int) -> None:
        """A list_del() of some module's ``list``: the hiding trick."""
        for mod in self.k.modules.values():
            if mod.struct_addr and entry == self.node(mod) and mod.name not in self.hidden:
                self.hidden.add(mod.name)
                self.k.behaviour.record("module-hidden", f"{mod.name} unlinked from the module "
                                     "list: hidden from /proc/modules and lsmod", site=site,
                                     hidden=mod.name)

    def check_hidden(self) -> None:
        """Record modules that left the list by other means than list_del()."""
        listed = self.listed()
        for mod in self.k.modules.values():
            if mod.state == ModuleState.LIVE and mod.name not in listed \
                    and mod.name not in self.hidden:
                self.hidden.add(mod.name)
                self.k.behaviour.record("module-hidden", f"{mod.name} is no longer on the module "
                                     "list: hidden from /proc/modules and lsmod", hidden=mod.name)


@module_notifier
def _module_list(k, mod) -> None:
    ml = k.model(ModuleList)
    if mod.state == ModuleState.COMING:
        ml.link(mod)
    elif mod.state == ModuleState.GOING:
        ml.unlink(mod)
    else:
        ml.check_hidden()


@kernel_api("listed_modules")
def listed_modules(k) -> set:
    """Names of the modules on the kernel's module list (hidden ones are not)."""
    return k.model(ModuleList).listed()


@vmlinux_object("modules")
def modules_head(k, table) -> int:
    return k.model(ModuleList).head


def module_at(k, addr):
    """The loaded module whose ``struct module`` is at ``addr``, or None."""
    return k.module_at(addr)


@export("bool try_module_get(struct module *module)")
def try_module_get(k, module):
    if not module:
        return True
    mod = module_at(k, module)
    if mod is None:
        return False
    if mod.state != ModuleState.GOING and mod.refcnt > 0:
        mod.refcnt += 1
        return True
    return False


@export("void __module_get(struct module *module)")
def __module_get(k, module):
    mod = module_at(k, module)
    if mod is not None:
        mod.refcnt += 1


def print_modules(k) -> str:
    """print_modules(): "Modules linked in:" and each module with its flags."""
    return "Modules linked in:" + modules_linked_in(k)


@export("void module_put(struct module *module)")
def module_put(k, module):
    mod = module_at(k, module)
    if mod is None:
        return
    if mod.refcnt <= 0:             # atomic_dec_if_positive() < 0: WARN_ON, count unchanged
        warn(k, "kernel/module/main.c:857", "module_put+0x8b/0x90")
        return
    mod.refcnt -= 1


def _strong_try_module_get(mod) -> bool:
    """strong_try_module_get(): a module still coming up (or going) gives no reference."""
    if mod is None:
        return True
    if mod.state == ModuleState.COMING:
        return False
    if mod.state != ModuleState.GOING and mod.refcnt > 0:
        mod.refcnt += 1
        return True
    return False


@export("void *__symbol_get(const char *symbol)")
def __symbol_get(k, symbol):
    """symbol_get(): the address of an EXPORT_SYMBOL_GPL symbol, with a reference on its
    module; NULL for an unknown symbol, and for a non-GPL one with 6.1's warning."""
    name = cstr(k, symbol, 256)
    ksym = k.find_symbol(name)
    if ksym is None:
        return 0
    if not ksym.gpl:
        k.log.emit(KERN_WARNING, f"failing symbol_get of non-GPLONLY symbol {name}.")
        return 0
    if not _strong_try_module_get(ksym.owner):
        return 0
    return ksym.addr


@export("void __symbol_put(const char *symbol)")
def __symbol_put(k, symbol):
    ksym = k.find_symbol(cstr(k, symbol, 256))
    if ksym is None:
        bug(k, "kernel/module/main.c:736")
    if ksym.owner is not None:
        module_put(k, ksym.owner.struct_addr)


@export("void symbol_put_addr(void *addr)")
def symbol_put_addr(k, addr):
    """The reference symbol_get() took on the module whose text holds ``addr``; nothing for
    the core kernel (kemu's exports)."""
    mod = k.module_containing(addr)
    if mod is None:
        return
    if mod.refcnt <= 0:
        warn(k, "kernel/module/main.c:857", "module_put+0x8b/0x90")
        return
    mod.refcnt -= 1


@export("int module_refcount(struct module *mod)")
def module_refcount(k, mod_addr):
    mod = module_at(k, mod_addr)
    return mod.refcount() if mod else 0
