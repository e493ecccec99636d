"""net/core/skbuff.c, dev.c, neighbour.c, flow_dissector.c, gso.c, net/ipv4/syncookies.c,
net/ipv6/syncookies.c, net/netfilter/nf_queue.c: packet-path functions kemu does not drive.

These run only on packets in flight (transmit, segmentation, copying,
queueing to userspace, SYN cookies), which need a device, a route or a
socket that kemu's machine never has; Netfilter modules link against them
for their packet hooks. A call is a not-modelled finding and returns the
failure Linux would give.
"""
import errno

from kemu.abi.exports import unreachable

WHY = "kemu does not drive packet transmission/segmentation (no device, route or socket)"
ENOMEM, ENETDOWN, EINVAL = -errno.ENOMEM, -errno.ENETDOWN, -errno.EINVAL

for _proto, _result in [
        ("int pskb_expand_head(struct sk_buff *skb, int nhead, int ntail, gfp_t gfp_mask)",
         ENOMEM),
        ("struct sk_buff *__pskb_copy_fclone(struct sk_buff *skb, int headroom, gfp_t gfp_mask, "
         "bool fclone)", 0),
        ("struct sk_buff *skb_copy_expand(const struct sk_buff *skb, int newheadroom, "
         "int newtailroom, gfp_t gfp_mask)", 0),
        ("struct sk_buff *skb_realloc_headroom(struct sk_buff *skb, unsigned int headroom)", 0),
        ("int ___pskb_trim(struct sk_buff *skb, unsigned int len)", ENOMEM),
        ("int __dev_queue_xmit(struct sk_buff *skb, struct net_device *sb_dev)", ENETDOWN),
        ("int neigh_xmit(int index, struct net_device *dev, const void *addr, "
         "struct sk_buff *skb)", ENETDOWN),
        ("bool skb_gso_validate_network_len(const struct sk_buff *skb, unsigned int mtu)", False),
        ("struct sk_buff *__skb_gso_segment(struct sk_buff *skb, u64 features, "
         "bool tx_path)", (-errno.EPROTONOSUPPORT) & 0xFFFFFFFFFFFFFFFF),
        ("void __skb_get_hash_net(const struct net *net, struct sk_buff *skb)", None),
        # its name before the 6.1 point releases of 2025 (6.1.176 still exports this one)
        ("void __skb_get_hash(struct sk_buff *skb)", None),
        ("u32 __skb_get_hash_symmetric(const struct sk_buff *skb)", 0),
        ("void skb_tx_error(struct sk_buff *skb)", None),
        ("unsigned int skb_zerocopy_headlen(const struct sk_buff *from)", 0),
        ("int skb_zerocopy(struct sk_buff *to, struct sk_buff *from, int len, int hlen)",
         ENOMEM),
        ("int skb_crc32c_csum_help(struct sk_buff *skb)", EINVAL),
        ("void kfree_skb_list_reason(struct sk_buff *segs, enum skb_drop_reason reason)", None),
        ("void skb_set_owner_w(struct sk_buff *skb, struct sock *sk)", None),
        ("u32 __cookie_v4_init_sequence(const struct iphdr *iph, const struct tcphdr *th, "
         "u16 *mssp)", 0),
        ("int __cookie_v4_check(const struct iphdr *iph, const struct tcphdr *th, u32 cookie)", 0),
        ("u32 __cookie_v6_init_sequence(const struct ipv6hdr *iph, const struct tcphdr *th, "
         "u16 *mssp)", 0),
        ("int __cookie_v6_check(const struct ipv6hdr *iph, const struct tcphdr *th, u32 cookie)",
         0),
        ("void nf_reinject(struct nf_queue_entry *entry, unsigned int verdict)", None),
        ("bool nf_queue_entry_get_refs(struct nf_queue_entry *entry)", False),
        ("void nf_queue_entry_free(struct nf_queue_entry *entry)", None)]:
    unreachable(_proto, _result, WHY)
