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
