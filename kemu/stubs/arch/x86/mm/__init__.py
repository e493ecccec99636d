"""arch/x86/mm: the memory layout variables modules read."""
