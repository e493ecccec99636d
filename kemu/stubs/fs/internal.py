"""The fs, device and netfilter models' names for the models' toolkit
(:mod:`kemu.abi.toolkit`, re-exported here for the models written before it), and
their link-only declarations: by default, paths of a mounted filesystem, which
kemu never mounts.
"""
from __future__ import annotations

import sys

from kemu.abi.exports import link_only as _link_only
from kemu.abi.toolkit import (  # noqa: F401  (the models' toolkit, once: kemu/abi/toolkit.py)
    cstr, err_ptr, FormatArgs, init_list_head, is_err, kfree, kstrdup, kzalloc, list_add,
    list_add_tail, list_del, LIST_POISON1, LIST_POISON2, MAX_ERRNO, owner_of, ptr_err, rd,
    rd_s32, s32, s64, static, static_addr, static_name, sym, wr)

from ..lib.vsprintf import vformat  # noqa: F401

# ------------------------------------------------------------ link-only exports
NOT_MOUNTED = "kemu does not mount filesystems"


def link_only(prototype: str, result, why: str = NOT_MOUNTED):
    """Declare ``prototype`` as an export for linking only (:func:`kemu.abi.exports.link_only`;
    by default because kemu does not mount filesystems)."""
    frame = sys._getframe(1)
    _link_only(prototype, result, why, origin=f"{frame.f_code.co_filename}:{frame.f_lineno}")


def link_only_table(table, why: str = NOT_MOUNTED):
    """:func:`link_only` for each ``(prototype, result)`` of ``table``."""
    frame = sys._getframe(1)
    for prototype, result in table:
        _link_only(prototype, result, why, origin=f"{frame.f_code.co_filename}:{frame.f_lineno}")
