"""Link-only declarations for device-model exports kemu's runs never reach.

No hardware exists in kemu's machine: a PCI device, an I2C client or adapter,
an SPI device are never found or created, so what a driver can only call on
one (config space, SMBus transfers, I/O mapping of a BAR...) is declared for
linking. Should one ever be called, the call is reported as a ``not-modelled``
finding and fails the way Linux fails without the device. The mechanism is
:func:`kemu.abi.exports.link_only`; this module names it for the device model.
"""
from kemu.abi.exports import link_only, not_modelled as called  # noqa: F401
