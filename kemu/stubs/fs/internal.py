"""Link-only declarations of the fs, device and netfilter models: by default,
paths of a mounted filesystem, which kemu never mounts (the models' toolkit
itself is :mod:`kemu.abi.toolkit`).
"""
from __future__ import annotations

import sys

from kemu.abi.exports import link_only as _link_only

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
