"""kemu: run real Linux kernel modules under emulation.

The names below are imported on first use, so that ``kemu``'s thin command
line client (kemu/client.py) starts without loading the emulator."""
from kemu.errors import EmulationError, InitError, KemuError, LoadError  # noqa: F401

__version__ = "0.1.0"

_LAZY = {"data": "abi.exports", "export": "abi.exports", "percpu": "abi.exports",
         "static_call": "abi.exports", "Kernel": "kernel.facade"}


def __getattr__(name: str):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'kemu' has no attribute {name!r}")
    import importlib
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value
