"""drivers/tty/serial/8250/8250_core.c and drivers/tty/sysrq.c, for linking.

Registering an 8250 port needs the UART it drives, and ``handle_sysrq`` is
reached from a hardware watchdog's expiry path: kemu drives neither, so both
are link-only (a ``not-modelled`` finding and the kernel's failure).
"""
from __future__ import annotations

import errno

from kemu.abi.exports import link_only

link_only("int serial8250_register_8250_port(const struct uart_8250_port *up)", -errno.ENOSPC,
          "kemu's machine has no UART for an 8250 port")
link_only("void serial8250_unregister_port(int line)", None,
          "kemu's machine has no UART for an 8250 port")
link_only("void handle_sysrq(int key)", None, "kemu does not run magic SysRq actions")
