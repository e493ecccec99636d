"""arch/x86/lib/copy_page_64.S, clear_page_64.S: whole-page copy and clear
(the ERMS, REP and unrolled variants alternatives pick between all do the same)."""
from kemu import export

PAGE_SIZE = 4096


@export("void copy_page(void *to, void *from)")
def copy_page(k, to, from_):
    k.machine.write(to, k.machine.read(from_, PAGE_SIZE))


def _clear(k, page):
    k.machine.write(page, bytes(PAGE_SIZE))


for _name in ("clear_page_erms", "clear_page_rep", "clear_page_orig"):
    def _fn(k, page):
        _clear(k, page)
    _fn.__name__ = _fn.__qualname__ = _name
    export(f"void {_name}(void *page)")(_fn)
