// SPDX-License-Identifier: GPL-2.0
/* kemu warn-site triggers: skbuff, netfilter core, nf_queue, nlattr (real kernel and kemu) */
#include <linux/module.h>
#include <linux/kernel.h>
#include <linux/slab.h>
#include <linux/skbuff.h>
#include <linux/netfilter.h>
#include <linux/netfilter_ipv4.h>
#include <net/netfilter/nf_queue.h>
#include <net/netlink.h>
#include <net/net_namespace.h>

#define MARK(s) pr_info("ws: " s "\n")

static unsigned int ws_hook(void *priv, struct sk_buff *skb, const struct nf_hook_state *state)
{
	return NF_ACCEPT;
}

static int ws_outfn(struct nf_queue_entry *entry, unsigned int queuenum)
{
	return 0;
}

static void ws_hook_drop(struct net *net)
{
}

static const struct nf_queue_handler ws_qh = { .outfn = ws_outfn, .nf_hook_drop = ws_hook_drop };

static struct nf_hook_ops ws_ops(u8 pf, unsigned int hooknum)
{
	struct nf_hook_ops ops = { .hook = ws_hook, .pf = pf, .hooknum = hooknum };
	return ops;
}

static int __init ws_init(void)
{
	struct nf_hook_ops ops, other;
	struct sk_buff *skb;
	struct nla_policy policy[2] = { };
	struct { struct nlattr nla; char s[8]; } attr = { { NLA_HDRLEN + 4, 1 }, "abc" };
	char dst[8];
	int ret;

	MARK("skb_trim nonlinear");
	skb = alloc_skb(256, GFP_KERNEL);
	skb_put(skb, 64);
	skb->len = 100;
	skb->data_len = 36;
	skb_trim(skb, 10);
	skb->len = 64;
	skb->data_len = 0;
	MARK("skb_checksum_help csum_start past headlen");
	skb->ip_summed = CHECKSUM_PARTIAL;
	skb->csum_start = skb_headroom(skb) + 100;
	skb->csum_offset = 0;
	ret = skb_checksum_help(skb);
	pr_info("ws: ret %d\n", ret);
	MARK("skb_checksum_help csum_offset past headlen");
	skb->ip_summed = CHECKSUM_PARTIAL;
	skb->csum_start = skb_headroom(skb);
	skb->csum_offset = 63;
	ret = skb_checksum_help(skb);
	pr_info("ws: ret %d\n", ret);
	kfree_skb(skb);

	MARK("nf_register_queue_handler twice");
	nf_register_queue_handler(&ws_qh);
	nf_register_queue_handler(&ws_qh);
	nf_unregister_queue_handler();

	MARK("nf hook ipv4 hooknum 5");
	ops = ws_ops(NFPROTO_IPV4, NF_INET_NUMHOOKS);
	ret = nf_register_net_hook(&init_net, &ops);
	pr_info("ws: ret %d\n", ret);
	MARK("nf hook ipv6 hooknum 5");
	ops = ws_ops(NFPROTO_IPV6, NF_INET_NUMHOOKS);
	ret = nf_register_net_hook(&init_net, &ops);
	pr_info("ws: ret %d\n", ret);
	MARK("nf hook arp hooknum 3");
	ops = ws_ops(NFPROTO_ARP, 3);
	ret = nf_register_net_hook(&init_net, &ops);
	pr_info("ws: ret %d\n", ret);
	MARK("nf hook bridge hooknum 6");
	ops = ws_ops(NFPROTO_BRIDGE, 6);
	ret = nf_register_net_hook(&init_net, &ops);
	pr_info("ws: ret %d\n", ret);
	MARK("nf hook pf 0");
	ops = ws_ops(NFPROTO_UNSPEC, 0);
	ret = nf_register_net_hook(&init_net, &ops);
	pr_info("ws: ret %d\n", ret);
	MARK("nf unregister inet ingress without dev");
	ops = ws_ops(NFPROTO_INET, NF_INET_INGRESS);
	nf_unregister_net_hook(&init_net, &ops);
	MARK("nf unregister netdev without dev");
	ops = ws_ops(NFPROTO_NETDEV, NF_NETDEV_INGRESS);
	nf_unregister_net_hook(&init_net, &ops);
	MARK("nf unregister ipv4 forward, nothing registered");
	ops = ws_ops(NFPROTO_IPV4, NF_INET_FORWARD);
	nf_unregister_net_hook(&init_net, &ops);
	MARK("nf unregister ipv4 forward, other hook registered");
	other = ws_ops(NFPROTO_IPV4, NF_INET_FORWARD);
	ret = nf_register_net_hook(&init_net, &other);
	pr_info("ws: ret %d\n", ret);
	nf_unregister_net_hook(&init_net, &ops);
	nf_unregister_net_hook(&init_net, &other);

	MARK("nla_strscpy dstsize > U16_MAX");
	ret = nla_strscpy(dst, &attr.nla, 0x10000);
	pr_info("ws: ret %d\n", ret);
	MARK("nla_validate range on NLA_FLAG");
	attr.nla.nla_len = NLA_HDRLEN;
	policy[1].type = NLA_FLAG;
	policy[1].validation_type = NLA_VALIDATE_RANGE;
	policy[1].max = 1;
	ret = nla_validate(&attr.nla, NLA_HDRLEN, 1, policy, NULL);
	pr_info("ws: ret %d\n", ret);
	MARK("done");
	return 0;
}

static void __exit ws_exit(void)
{
}

module_init(ws_init);
module_exit(ws_exit);
MODULE_LICENSE("GPL");
