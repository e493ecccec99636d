"""crypto/scatterwalk.c: copying between linear buffers and scatterlists."""
from kemu import export

from ..lib.scatterlist import SG, copy_buffer

ALL = 0xFFFFFFFF


@export("void scatterwalk_map_and_copy(void *buf, struct scatterlist *sg, unsigned int start, "
        "unsigned int nbytes, int out)")
def scatterwalk_map_and_copy(k, buf, sg, start, nbytes, out):
    if nbytes:
        copy_buffer(k, sg, ALL, buf, nbytes, start, to_buffer=not out)


@export("struct scatterlist *scatterwalk_ffwd(struct scatterlist *dst, struct scatterlist *src, "
        "unsigned int len)")
def scatterwalk_ffwd(k, dst, src, length):
    s = SG(k)
    while True:
        if not length:
            return src
        if s.length(src) > length:
            break
        length -= s.length(src)
        src = s.next(src)
    s.init_table(dst, 2)
    s.set_page(dst, s.page(src), s.length(src) - length, s.offset(src) + length)
    nxt = s.next(src)
    if nxt:                                              # sg_chain(dst, 2, nxt)
        chain = dst + s.size
        k.machine.write_u32(chain + s.o_off, 0)
        k.machine.write_u32(chain + s.o_len, 0)
        s.set_link(chain, (nxt | s.chain) & ~s.end)
    else:                                                # sg_mark_end(dst)
        s.set_link(dst, (s.link(dst) | s.end) & ~s.chain)
    return dst


@export("void memcpy_sglist(struct scatterlist *dst, struct scatterlist *src, unsigned int nbytes)")
def memcpy_sglist(k, dst, src, nbytes):
    """Copy nbytes from one scatterlist to another (through a bounce buffer)."""
    if not nbytes:
        return
    buf = k.heap.alloc(nbytes, kind="memcpy_sglist bounce")
    try:
        copy_buffer(k, src, ALL, buf, nbytes, 0, to_buffer=True)
        copy_buffer(k, dst, ALL, buf, nbytes, 0, to_buffer=False)
    finally:
        k.heap.free(buf)
