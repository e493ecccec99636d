"""mm/gup.c: pinning user pages, for linking.

Only a filesystem's I/O paths pin user pages (orangefs's client-core device
maps its shared buffer, direct I/O); kemu drives none, so these are
link-only: a call is a ``not-modelled`` finding, pinning fails -EFAULT.
"""
import errno

from ..fs.internal import link_only_table

_WHY = "kemu does not pin user pages (no user process does I/O here)"

link_only_table((
    ("int pin_user_pages_fast(unsigned long start, int nr_pages, unsigned int gup_flags, "
     "struct page **pages)", -errno.EFAULT),
    ("long pin_user_pages(unsigned long start, unsigned long nr_pages, unsigned int gup_flags, "
     "struct page **pages, struct vm_area_struct **vmas)", -errno.EFAULT),
    ("int get_user_pages_fast(unsigned long start, int nr_pages, unsigned int gup_flags, "
     "struct page **pages)", -errno.EFAULT),
    ("void unpin_user_page(struct page *page)", None),
    ("void unpin_user_pages(struct page **pages, unsigned long npages)", None),
    ("void unpin_user_pages_dirty_lock(struct page **pages, unsigned long npages, "
     "bool make_dirty)", None),
), _WHY)
