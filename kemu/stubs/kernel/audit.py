"""kernel/audit.c: auditing is off (audit_enabled = 0), as on a default boot."""
from kemu import data, export


@data("unsigned int audit_enabled")
def audit_enabled(k, addr):
    k.machine.write_u32(addr, 0)


@export("void __audit_log_nfcfg(const char *name, u8 af, unsigned int nentries, "
        "enum audit_nfcfgop op, gfp_t gfp)")
def __audit_log_nfcfg(k, name, af, nentries, op, gfp):
    pass


@export("void audit_log(struct audit_context *ctx, gfp_t gfp_mask, int type, const char *fmt, ...)")
def audit_log(k, ctx, gfp_mask, type_, fmt, va):
    pass


# With auditing off no audit buffer is ever handed out: audit_log_start() is
# NULL (audit_enabled is 0 and no auditd is registered) and the functions that
# fill a buffer do nothing with NULL, as in kernel/audit.c.
@export("struct audit_buffer *audit_log_start(struct audit_context *ctx, gfp_t gfp_mask, int type)")
def audit_log_start(k, ctx, gfp_mask, type_):
    return 0


@export("void audit_log_format(struct audit_buffer *ab, const char *fmt, ...)")
def audit_log_format(k, ab, fmt, va):
    pass


@export("void audit_log_end(struct audit_buffer *ab)")
def audit_log_end(k, ab):
    pass


@export("void audit_log_nf_skb(struct audit_buffer *ab, const struct sk_buff *skb, u8 nfproto)")
def audit_log_nf_skb(k, ab, skb, nfproto):
    pass
