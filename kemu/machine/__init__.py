"""The machine: Unicorn with the kernel's address map, and nothing of Linux's API.

- ``emulator.py``: the x86_64 machine (address space, export slots, thunks, calls,
  the watchdog);
- ``memory.py``: address-space regions and the kernel heap with KASAN-style redzones;
  ``sanitize.py`` words its reports;
- ``oops.py``, ``unwind.py``, ``debuginfo.py``: fault reports, ORC unwinding through
  module frames, file:line from a module's DWARF.
"""
