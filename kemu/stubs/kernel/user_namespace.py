"""kernel/user_namespace.c, kernel/utsname.c: the initial namespaces.

Only the initial user namespace exists, whose map is the identity, so a
kuid_t is the uid itself.
"""
from kemu import data, export
from kemu.abi.exports import members

# the namespace's refcount: ns.count since 5.11, the outer struct's before
members("struct user_namespace", "level", "uid_map", "gid_map", "owner", "group")
members("struct uts_namespace", "name", "user_ns", "ns")
members("struct new_utsname", "sysname", "nodename", "release", "version", "machine",
        "domainname")


@data("struct user_namespace init_user_ns")
def init_user_ns(k, addr):
    t = k.target
    k.machine.write_u32(addr + t.offset("user_namespace.level"), 0)


@export("unsigned int make_kuid(struct user_namespace *from, uid_t uid)")
def make_kuid(k, ns, uid):
    return uid


@export("unsigned int make_kgid(struct user_namespace *from, gid_t gid)")
def make_kgid(k, ns, gid):
    return gid


@export("uid_t from_kuid(struct user_namespace *to, kuid_t kuid)")
def from_kuid(k, ns, kuid):
    return kuid


@export("gid_t from_kgid(struct user_namespace *to, kgid_t kgid)")
def from_kgid(k, ns, kgid):
    return kgid


@export("uid_t from_kuid_munged(struct user_namespace *to, kuid_t kuid)")
def from_kuid_munged(k, ns, kuid):
    return kuid


@export("gid_t from_kgid_munged(struct user_namespace *to, kgid_t kgid)")
def from_kgid_munged(k, ns, kgid):
    return kgid


@export("unsigned int make_kprojid(struct user_namespace *from, unsigned int projid)")
def make_kprojid(k, ns, projid):
    """kprojid_t (a struct of one projid_t, returned in EAX)."""
    return projid


@export("unsigned int from_kprojid(struct user_namespace *to, unsigned int kprojid)")
def from_kprojid(k, ns, kprojid):
    return kprojid


@data("struct uts_namespace init_uts_ns")
def init_uts_ns(k, addr):
    t, m = k.target, k.machine
    name = addr + t.offset("uts_namespace.name")
    fields = {"sysname": "Linux", "nodename": "kemu", "release": t.release,
              "version": "#1 SMP PREEMPT_DYNAMIC Debian " + (t.kernel_version or ""),
              "machine": "x86_64", "domainname": "(none)"}
    for field, value in fields.items():
        m.write(name + t.offset(f"new_utsname.{field}"), value.encode()[:64] + b"\0")
    m.write_u64(addr + t.offset("uts_namespace.user_ns"), k.export_addr("init_user_ns"))


@export("void __put_user_ns(struct user_namespace *ns)")
def __put_user_ns(k, ns):
    """The last reference to a user namespace went: only init_user_ns exists in kemu,
    and it is never freed (its count never reaches zero in Linux either)."""
    if ns != k.export_addr("init_user_ns"):
        k.note("__put_user_ns() of a namespace kemu did not create")


@export("bool current_in_userns(const struct user_namespace *target_ns)")
def current_in_userns(k, target_ns):
    """Is the running task's user namespace ``target_ns`` or below it? The task is in
    init_user_ns, which is below nothing but itself."""
    return target_ns == k.export_addr("init_user_ns")
