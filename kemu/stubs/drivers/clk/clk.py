"""drivers/clk/clk.c and clkdev.c: clock consumers on a machine without clock providers.

No clock provider or clkdev lookup is registered in kemu's machine (an x86
PC's drivers rarely have one): ``devm_clk_get`` / ``clk_get`` fail with
-ENOENT like the kernel's lookup, and the consumer calls accept the NULL
clock of an optional clock (rate 0, enabling succeeds).
"""
from __future__ import annotations

import errno

from kemu import export

from kemu.abi.toolkit import err_ptr
from kemu.abi.exports import not_modelled

_WHY = "kemu's machine has no clock provider"


@export("struct clk *devm_clk_get(struct device *dev, const char *id)")
def devm_clk_get(k, dev, id_):
    return err_ptr(-errno.ENOENT)


@export("struct clk *clk_get(struct device *dev, const char *id)")
def clk_get(k, dev, id_):
    return err_ptr(-errno.ENOENT)


@export("unsigned long clk_get_rate(struct clk *clk)")
def clk_get_rate(k, clk):
    if clk:
        not_modelled(k, "clk_get_rate", _WHY)
    return 0
