"""drivers/acpi/osl.c: acpi_check_resource_conflict(), acpi_check_region().

With ``acpi_enforce_resources=strict`` (the default) the kernel refuses a
driver's I/O or memory range that an ACPI SystemIO/SystemMemory
OperationRegion declares. kemu's machine loads no DSDT, so no operation
region is declared and there is never a conflict (0).
"""
from __future__ import annotations

from kemu import export


@export("int acpi_check_resource_conflict(const struct resource *res)")
def acpi_check_resource_conflict(k, res):
    return 0


@export("int acpi_check_region(resource_size_t start, resource_size_t n, const char *name)")
def acpi_check_region(k, start, n, name):
    return 0
