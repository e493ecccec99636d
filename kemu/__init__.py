"""kemu: run real Linux kernel modules under emulation."""
from .errors import EmulationError, InitError, KemuError, LoadError  # noqa: F401
from .exports import data, export, percpu, static_call  # noqa: F401
from .kernel import Kernel  # noqa: F401

__version__ = "0.1.0"
