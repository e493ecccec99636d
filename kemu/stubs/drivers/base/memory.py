"""drivers/base/memory.c: register_memory_notifier()/unregister_memory_notifier()
on memory_chain (kemu hot-adds no memory, so the chain is never called)."""
from kemu import export

from ...kernel.notifier_chain import Chain


class MemoryChain(Chain):
    def __init__(self, k):
        super().__init__(k, "memory hotplug", "memory notifier")


@export("int register_memory_notifier(struct notifier_block *nb)")
def register_memory_notifier(k, nb):
    return k.model(MemoryChain).register(k, nb)


@export("void unregister_memory_notifier(struct notifier_block *nb)")
def unregister_memory_notifier(k, nb):
    k.model(MemoryChain).unregister(k, nb)
