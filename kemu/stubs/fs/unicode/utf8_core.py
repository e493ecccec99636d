"""fs/unicode/utf8-core.c: UTF-8 normalisation and casefolding of names, for linking.

Only a mounted casefolding filesystem (ext4 or f2fs with the casefold
feature) loads an encoding and compares names through it; kemu mounts
nothing, so these are link-only: ``utf8_load`` fails with
ERR_PTR(-EOPNOTSUPP), as when the kernel lacks the requested version, and the
comparisons report -EINVAL; ``utf8_unload`` of the NULL map a filesystem
without casefolding holds does nothing, as in Linux.
"""
import errno

from kemu import export

from ..internal import link_only_table
from kemu.abi.toolkit import err_ptr

_EINVAL = -errno.EINVAL

link_only_table((
    ("struct unicode_map *utf8_load(unsigned int version)", err_ptr(-errno.EOPNOTSUPP)),
    ("int utf8_validate(const struct unicode_map *um, const struct qstr *str)", _EINVAL),
    ("int utf8_strncmp(const struct unicode_map *um, const struct qstr *s1, "
     "const struct qstr *s2)", _EINVAL),
    ("int utf8_strncasecmp(const struct unicode_map *um, const struct qstr *s1, "
     "const struct qstr *s2)", _EINVAL),
    ("int utf8_strncasecmp_folded(const struct unicode_map *um, const struct qstr *cf, "
     "const struct qstr *s1)", _EINVAL),
    ("int utf8_normalize(const struct unicode_map *um, const struct qstr *str, "
     "unsigned char *dest, size_t dlen)", _EINVAL),
    ("int utf8_casefold(const struct unicode_map *um, const struct qstr *str, "
     "unsigned char *dest, size_t dlen)", _EINVAL),
    ("int utf8_casefold_hash(const struct unicode_map *um, const void *salt, "
     "struct qstr *str)", _EINVAL),
))


@export("void utf8_unload(struct unicode_map *um)")
def utf8_unload(k, um):
    pass                                      # no map is ever loaded (utf8_load fails)
