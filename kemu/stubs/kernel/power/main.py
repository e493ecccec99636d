"""kernel/power/main.c: register_pm_notifier()/unregister_pm_notifier() on
pm_chain_head (kemu never suspends, so the chain is never called)."""
from kemu import export

from ..notifier_chain import Chain


class PmChain(Chain):
    def __init__(self, k):
        super().__init__(k, "PM", "pm notifier")


@export("int register_pm_notifier(struct notifier_block *nb)")
def register_pm_notifier(k, nb):
    return k.model(PmChain).register(k, nb)


@export("int unregister_pm_notifier(struct notifier_block *nb)")
def unregister_pm_notifier(k, nb):
    return k.model(PmChain).unregister(k, nb)
