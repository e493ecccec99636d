"""The ABI between module code and the models: an export declared once by its C prototype.

- ``cproto.py``: C prototypes parsed into how arguments are read and results truncated;
- ``exports.py``: ``@export``, ``data``, ``link_only``, the registry and the few chains
  models subscribe to (``module_notifier``, ``entry_check``, ``kernel_api``);
- ``toolkit.py``: what every model of kemu/stubs uses to act as kernel C code.
"""
