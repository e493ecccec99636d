"""kernel/bpf/btf.c: kfunc registration for modules (the BPF verifier is not modelled).

``register_btf_kfunc_id_set`` records the module's kfunc set and succeeds, as
it does for a module carrying BTF (Debian's do); no BPF program is ever
verified in kemu, so ``btf_type_by_id`` and ``bpf_log`` (verifier callbacks)
are reported when called.
"""
from kemu import export
from kemu.abi.exports import members

from kemu.abi.toolkit import owner_of, rd

members("struct btf_kfunc_id_set", "owner", "set")


@export("int register_btf_kfunc_id_set(enum bpf_prog_type prog_type, "
        "const struct btf_kfunc_id_set *kset)")
def register_btf_kfunc_id_set(k, prog_type, kset):
    # the set stays registered with the module's BTF until the module goes: not a leak
    owner = owner_of(k, rd(k, kset, "btf_kfunc_id_set.owner"))
    k.note(f"btf: kfunc set of {owner.name if owner else 'vmlinux'} registered for BPF program "
           f"type {prog_type}")
    return 0


@export("const struct btf_type *btf_type_by_id(const struct btf *btf, u32 type_id)")
def btf_type_by_id(k, btf, type_id):
    k.finding("not-modelled", "btf_type_by_id(): kemu has no BTF", k.current_module())
    return 0


@export("void bpf_log(struct bpf_verifier_log *log, const char *fmt, ...)")
def bpf_log(k, log, fmt, va):
    k.finding("not-modelled", "bpf_log(): kemu has no BPF verifier", k.current_module())
