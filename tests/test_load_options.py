"""Kernel.load(): module parameters never collide with load's options.

blowfish-x86_64 (Debian 6.1) has a module parameter ``force`` (load on a CPU
it would refuse), which is also insmod -f's option name.
"""
import os

import pytest

from kemu import Kernel
from kemu.module.modprobe import shared_tree


@pytest.fixture
def blowfish(debian_modules):
    tree = shared_tree(os.path.dirname(str(debian_modules)))
    k = Kernel(modules=tree)
    k.load(tree.path("blowfish_common"))
    return k, tree.path("blowfish_x86_64")


def _force_param(k, mod) -> bytes:
    return k.machine.read(mod.symbol_addr("force"), 1)


def test_a_parameter_named_force_goes_through_params(blowfish):
    k, path = blowfish
    mod = k.load(path, params={"force": 1})
    assert _force_param(k, mod) == b"\x01"              # the module's bool force=Y
    assert "F" not in k.taints                          # not insmod -f


def test_the_force_option_is_insmod_f(blowfish):
    k, path = blowfish
    mod = k.load(path, force=True)
    assert _force_param(k, mod) == b"\x00"
    assert "F" in k.taints and "F" in mod.taints


def test_options_are_keyword_only(blowfish):
    k, path = blowfish
    with pytest.raises(TypeError):
        k.load(path, "", 0)                              # flags cannot be positional
