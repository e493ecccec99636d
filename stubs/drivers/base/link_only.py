"""Link-only declarations for device-model exports kemu's runs never reach.

No hardware exists in kemu's machine: a PCI device, an I2C client or adapter,
an SPI device are never found or created, so what a driver can only call on
one (config space, SMBus transfers, I/O mapping of a BAR...) is declared for
linking. Should one ever be called, the call is reported as a ``not-modelled``
finding and fails the way Linux fails without the device.
"""
from __future__ import annotations

import sys

from kemu.exports import unreachable


def called(k, name: str, why: str) -> None:
    """Report a call of a link-only path inside a modelled export."""
    k.finding("not-modelled", f"{name}() was called, but kemu models it only for linking: {why}",
              k.current_module())


def link_only(prototype: str, result, why: str, before=None):
    """Declare ``prototype`` returning ``result`` (a value, or fn(k, *args)) after a finding.

    ``before(k, *args)`` runs first (to fill out-parameters as Linux would).
    """
    frame = sys._getframe(1)
    return unreachable(prototype, result, f"kemu models it only for linking: {why}",
                       origin=f"{frame.f_code.co_filename}:{frame.f_lineno}", before=before).fn
