"""drivers/base/component.c: components of aggregate devices.

``component_add`` records the component; an aggregate driver would bind once
all its components are present, but no aggregate (master) is registered in
kemu's machine, so none binds. ``component_del`` removes it (WARNing for one
never added, as the kernel does). A component left after its module's exit is
reported.
"""
from __future__ import annotations

from kemu import export


class Components:
    """Registered components: (device, ops)."""

    def __init__(self, k):
        self.items: list[tuple[int, int]] = []


def _add(k, dev, ops, subcomponent=0):
    k.model(Components).items.append((dev, ops))
    from .base import dev_name
    k.register("component", (dev, ops), k.current_module(), f"component {dev_name(k, dev)}")
    return 0


@export("int component_add(struct device *dev, const struct component_ops *ops)")
def component_add(k, dev, ops):
    return _add(k, dev, ops)


@export("int component_add_typed(struct device *dev, const struct component_ops *ops, "
        "int subcomponent)")
def component_add_typed(k, dev, ops, subcomponent):
    return _add(k, dev, ops, subcomponent)


@export("void component_del(struct device *dev, const struct component_ops *ops)")
def component_del(k, dev, ops):
    items = k.model(Components).items
    if (dev, ops) not in items:
        from ...lib.kemu_warn import warn
        warn(k, "drivers/base/component.c:821", "component_del+0x122/0x140")
        return
    items.remove((dev, ops))
    k.unregister("component", (dev, ops))
