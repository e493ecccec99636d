"""arch/x86/kernel/head_64.S: empty_zero_page, the kernel's page of zeroes."""
from kemu import data

PAGE_SIZE = 4096


@data("unsigned long empty_zero_page[512]", size=PAGE_SIZE, align=PAGE_SIZE)
def empty_zero_page(k, addr):
    """A page-aligned page of zeroes (ZERO_PAGE(0) and sg_set_buf(empty_zero_page))."""
    k.machine.write(addr, bytes(PAGE_SIZE))
