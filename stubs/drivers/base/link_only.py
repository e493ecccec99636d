"""Link-only declarations for device-model exports kemu's runs never reach.

No hardware exists in kemu's machine: a PCI device, an I2C client or adapter,
an SPI device are never found or created, so what a driver can only call on
one (config space, SMBus transfers, I/O mapping of a BAR...) is declared for
linking. Should one ever be called, the call is reported as a ``not-modelled``
finding and fails the way Linux fails without the device.
"""
from __future__ import annotations

from kemu import export


def called(k, name: str, why: str) -> None:
    """Report a call of a link-only export."""
    k.finding("not-modelled", f"{name}() was called, but kemu models it only for linking: {why}",
              k.current_module())


def link_only(prototype: str, result, why: str, before=None):
    """Declare ``prototype`` returning ``result`` (a value, or fn(k, *args)) after a finding.

    ``before(k, *args)`` runs first (to fill out-parameters as Linux would).
    """
    name = prototype.split("(")[0].split()[-1].lstrip("*")

    def fn(k, *args):
        called(k, name, why)
        if before is not None:
            before(k, *args)
        return result(k, *args) if callable(result) else result
    fn.__name__ = name
    fn.__doc__ = f"{name}(): link-only ({why})."
    export(prototype)(fn)
    return fn
