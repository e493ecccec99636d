"""crypto/asymmetric_keys/asymmetric_type.c and public_key.c (built in):
the asymmetric key parser list and the public_key subtype.

Parsers (x509 built in, pkcs8 from its module) are kept on the real list; kemu
creates no keys, so a parser's ->parse is never driven. public_key_subtype's
operations are reached only through keys: they are modelled for linking, and a
call is reported as not modelled and fails as for a key without the operation.
"""
from __future__ import annotations

import errno

from kemu import data, export
from kemu.kernel.log import KERN_ERR, KERN_NOTICE
from kemu.abi.exports import members

from ..internal import list_del_init
from kemu.abi.toolkit import cstr, init_list_head, list_add, owner_of, static, static_addr

members("struct asymmetric_key_parser", "link", "owner", "name", "parse")
members("struct asymmetric_key_subtype", "name", "name_len", "owner", "describe", "destroy",
        "query", "eds_op", "verify_signature")

PUBLIC_KEY_NAME = b"public_key"


class Parsers:
    """asymmetric_key_parsers: the list head and the registered parsers (oldest first)."""

    def __init__(self, k):
        self.head = k.machine.alloc_kdata(k.target.sizeof("list_head"), 8)
        init_list_head(k, self.head)
        self.parsers: list = []


def _name(k, parser):
    return cstr(k, k.machine.read_u64(parser + k.target.offset("asymmetric_key_parser.name")))


@export("int register_asymmetric_key_parser(struct asymmetric_key_parser *parser)")
def register_asymmetric_key_parser(k, parser):
    """Add a parser at the tail of the list; -EEXIST for a name already there."""
    p = k.model(Parsers)
    name = _name(k, parser)
    if name == "x509" or any(_name(k, q) == name for q in p.parsers):
        k.log.emit(KERN_ERR, f"Asymmetric key parser '{name}' already registered")
        return -errno.EEXIST
    head_prev = k.machine.read_u64(p.head + k.target.offset("list_head.prev"))
    list_add(k, parser + k.target.offset("asymmetric_key_parser.link"), head_prev)
    p.parsers.append(parser)
    owner = owner_of(k, k.machine.read_u64(parser + k.target.offset("asymmetric_key_parser.owner")))
    k.register("asymmetric key parser", parser, owner, f"asymmetric key parser {name}")
    k.log.emit(KERN_NOTICE, f"Asymmetric key parser '{name}' registered")
    return 0


@export("void unregister_asymmetric_key_parser(struct asymmetric_key_parser *parser)")
def unregister_asymmetric_key_parser(k, parser):
    p = k.model(Parsers)
    list_del_init(k, parser + k.target.offset("asymmetric_key_parser.link"))
    if parser in p.parsers:
        p.parsers.remove(parser)
        k.unregister("asymmetric key parser", parser)
    k.log.emit(KERN_NOTICE, f"Asymmetric key parser '{_name(k, parser)}' unregistered")


# ------------------------------------------------------------ public_key_subtype
def _not_modelled(k, name):
    k.finding("not-modelled", f"{name}() was called, but kemu models public_key_subtype only "
                              "for linking: kemu creates no keys", k.current_module())


@static("void public_key_describe(const struct key *asymmetric_key, struct seq_file *m)")
def public_key_describe(k, key, m):
    _not_modelled(k, "public_key_describe")


@static("void public_key_destroy(void *payload0, void *payload3)")
def public_key_destroy(k, payload0, payload3):
    _not_modelled(k, "public_key_destroy")


@static("int software_key_query(const struct kernel_pkey_params *params, "
         "struct kernel_pkey_query *info)")
def software_key_query(k, params, info):
    _not_modelled(k, "software_key_query")
    return -errno.EOPNOTSUPP


@static("int software_key_eds_op(struct kernel_pkey_params *params, const void *in, void *out)")
def software_key_eds_op(k, params, in_, out):
    _not_modelled(k, "software_key_eds_op")
    return -errno.EOPNOTSUPP


@static("int public_key_verify_signature_2(const struct key *key, "
         "const struct public_key_signature *sig)")
def public_key_verify_signature_2(k, key, sig):
    _not_modelled(k, "public_key_verify_signature_2")
    return -errno.EOPNOTSUPP


@data("struct asymmetric_key_subtype public_key_subtype")
def public_key_subtype(k, addr):
    m, t = k.machine, k.target
    name = m.alloc_kdata(len(PUBLIC_KEY_NAME) + 1, 1)
    m.write(name, PUBLIC_KEY_NAME + b"\0")
    m.write_u64(addr + t.offset("asymmetric_key_subtype.name"), name)
    m.write_u16(addr + t.offset("asymmetric_key_subtype.name_len"), len(PUBLIC_KEY_NAME))
    for member, fn in (("describe", "public_key_describe"), ("destroy", "public_key_destroy"),
                       ("query", "software_key_query"), ("eds_op", "software_key_eds_op"),
                       ("verify_signature", "public_key_verify_signature_2")):
        m.write_u64(addr + t.offset(f"asymmetric_key_subtype.{member}"), static_addr(k, fn))
