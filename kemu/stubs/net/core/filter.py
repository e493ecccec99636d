"""net/core/filter.c: classic BPF programs created by the kernel for a module (xt_bpf).

A program is created only when a rule carrying one is added (xt_bpf's
checkentry, reached through setsockopt(IPT_SO_SET_REPLACE), which kemu does
not drive), so kemu never translates or runs classic BPF: a call is a
not-modelled finding, and creation fails as an allocation failure would.
"""
import errno

from kemu.abi.exports import unreachable

WHY = "kemu adds no iptables rules, so no classic BPF program is ever built"

unreachable("int bpf_prog_create(struct bpf_prog **pfp, struct sock_fprog_kern *fprog)",
            -errno.ENOMEM, WHY)
unreachable("void bpf_prog_destroy(struct bpf_prog *fp)", None, WHY)
