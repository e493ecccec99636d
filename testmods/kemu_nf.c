// SPDX-License-Identifier: GPL-2.0
/*
 * kemu_nf.c - netfilter: a pernet subsystem (id + per-net data) whose init
 * registers four hooks: IPv4 LOCAL_IN at priorities 10 (drop UDP to
 * `port`), -100 and 10 (a counter, registered after the dropper) and an
 * NFPROTO_INET LOCAL_OUT hook (IPv4 and IPv6).  leak=1 leaves the counter
 * hook registered at exit.
 */
#include <linux/module.h>
#include <linux/kernel.h>
#include <linux/init.h>
#include <linux/netfilter.h>
#include <linux/netfilter_ipv4.h>
#include <linux/skbuff.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <net/net_namespace.h>
#include <net/netns/generic.h>

static ushort port = 5353;
module_param(port, ushort, 0444);
static bool leak;
module_param(leak, bool, 0444);

static unsigned int kemu_net_id;

/* net_generic() without rcu_read_lock(): pernet init/exit hold pernet_ops_rwsem */
static void *kemu_generic(struct net *net)
{
	return rcu_dereference_protected(net->gen, 1)->ptr[kemu_net_id];
}

struct kemu_net {
	unsigned long seen;
	unsigned long dropped;
};

static unsigned int drop_udp(void *priv, struct sk_buff *skb, const struct nf_hook_state *state)
{
	struct kemu_net *kn = kemu_generic(state->net);
	struct iphdr *iph = ip_hdr(skb);
	struct udphdr *uh;

	kn->seen++;
	if (iph->protocol != IPPROTO_UDP)
		return NF_ACCEPT;
	uh = (struct udphdr *)((unsigned char *)iph + iph->ihl * 4);
	if (ntohs(uh->dest) != port)
		return NF_ACCEPT;
	kn->dropped++;
	return NF_DROP;
}

static unsigned int count_hook(void *priv, struct sk_buff *skb, const struct nf_hook_state *state)
{
	(*(unsigned long *)priv)++;
	return NF_ACCEPT;
}

static unsigned long early_count, late_count, out_count;

static struct nf_hook_ops kemu_ops[] = {
	{ .hook = drop_udp, .pf = NFPROTO_IPV4, .hooknum = NF_INET_LOCAL_IN, .priority = 10 },
	{ .hook = count_hook, .priv = &early_count, .pf = NFPROTO_IPV4,
	  .hooknum = NF_INET_LOCAL_IN, .priority = -100 },
	{ .hook = count_hook, .priv = &out_count, .pf = NFPROTO_INET,
	  .hooknum = NF_INET_LOCAL_OUT, .priority = NF_IP_PRI_FILTER },
};

static struct nf_hook_ops late_op = {
	.hook = count_hook, .priv = &late_count, .pf = NFPROTO_IPV4,
	.hooknum = NF_INET_LOCAL_IN, .priority = 10,
};

static struct nf_hook_ops bad_op = {
	.hook = count_hook, .pf = NFPROTO_IPV4, .hooknum = 7, .priority = 0,
};

static int __net_init kemu_net_init(struct net *net)
{
	struct kemu_net *kn = kemu_generic(net);
	int err;

	pr_info("kemu_nf: net init id=%u zeroed=%d\n", kemu_net_id, !kn->seen && !kn->dropped);
	err = nf_register_net_hooks(net, kemu_ops, ARRAY_SIZE(kemu_ops));
	if (err)
		return err;
	err = nf_register_net_hook(net, &late_op);
	if (err) {
		nf_unregister_net_hooks(net, kemu_ops, ARRAY_SIZE(kemu_ops));
		return err;
	}
	pr_info("kemu_nf: bad hooknum=%d\n", nf_register_net_hook(net, &bad_op));
	return 0;
}

static void __net_exit kemu_net_exit(struct net *net)
{
	struct kemu_net *kn = kemu_generic(net);

	if (!leak)
		nf_unregister_net_hook(net, &late_op);
	nf_unregister_net_hooks(net, kemu_ops, ARRAY_SIZE(kemu_ops));
	pr_info("kemu_nf: net exit seen=%lu dropped=%lu\n", kn->seen, kn->dropped);
}

static struct pernet_operations kemu_net_ops = {
	.init = kemu_net_init,
	.exit = kemu_net_exit,
	.id = &kemu_net_id,
	.size = sizeof(struct kemu_net),
};

static int __init kemu_nf_init(void)
{
	return register_pernet_subsys(&kemu_net_ops);
}

static void __exit kemu_nf_exit(void)
{
	unregister_pernet_subsys(&kemu_net_ops);
}

module_init(kemu_nf_init);
module_exit(kemu_nf_exit);

MODULE_LICENSE("GPL");
MODULE_AUTHOR("kemu project");
MODULE_DESCRIPTION("kemu test: netfilter hooks in a pernet subsystem");
