"""The kernel facade (``facade.py``: ``Kernel``) and the parts it is composed of,
each named after the kernel file it models: ``symbols`` (kallsyms, find_symbol),
``taint`` (panic.c), ``bug`` (lib/bug.c), ``log`` (printk's ring), ``trace``,
``findings``, ``kmod`` (kernel/kmod.c), ``version`` (init/version.c), ``idle``,
``kallsyms`` (the target's own symbol table), ``faultinject``, ``behaviour``, and
``api`` (what a user program does to the kernel from outside).

``from kemu.kernel import Kernel`` works; the facade is imported on first use, so
that importing one part does not import the whole kernel.
"""


def __getattr__(name: str):
    if name != "Kernel":
        raise AttributeError(f"module 'kemu.kernel' has no attribute {name!r}")
    from kemu.kernel.facade import Kernel
    return Kernel
