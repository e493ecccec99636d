#include <linux/module.h>
#include <linux/netdevice.h>
#include <linux/etherdevice.h>
#include <linux/skbuff.h>
#include <linux/interrupt.h>
#include <linux/rtnetlink.h>

#define PROTO 0x88b5
static struct net_device *vdev;
static struct napi_struct napi;
static int seen;
static const u8 host[ETH_ALEN] = { 0x02, 0, 0, 0, 0, 0x01 };
static const u8 bcast[ETH_ALEN] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
static const u8 mcast[ETH_ALEN] = { 0x01, 0x00, 0x5e, 0, 0, 0x01 };
static const u8 other[ETH_ALEN] = { 0x02, 0, 0, 0, 0, 0x09 };

static int vnet_open(struct net_device *dev)
{
	netif_start_queue(dev);
	netdev_info(dev, "open, carrier %d\n", netif_carrier_ok(dev));
	return 0;
}

static int vnet_stop(struct net_device *dev)
{
	netif_stop_queue(dev);
	netdev_info(dev, "stop\n");
	return 0;
}

static netdev_tx_t vnet_xmit(struct sk_buff *skb, struct net_device *dev)
{
	dev->stats.tx_packets++;
	dev->stats.tx_bytes += skb->len;
	dev_kfree_skb(skb);
	return NETDEV_TX_OK;
}

static const struct net_device_ops vnet_ops = {
	.ndo_open = vnet_open,
	.ndo_stop = vnet_stop,
	.ndo_start_xmit = vnet_xmit,
	.ndo_validate_addr = eth_validate_addr,
	.ndo_set_mac_address = eth_mac_addr,
};

static int vnet_rcv(struct sk_buff *skb, struct net_device *dev, struct packet_type *pt,
		    struct net_device *orig)
{
	seen++;
	pr_info("vnet16: rcv len %u proto %04x pkt_type %u mac_len %u users %d on %s\n",
		skb->len, ntohs(skb->protocol), skb->pkt_type, skb->mac_len,
		refcount_read(&skb->users), dev->name);
	kfree_skb(skb);
	return NET_RX_SUCCESS;
}

static struct packet_type vnet_pt = {
	.type = htons(PROTO),
	.func = vnet_rcv,
};

static struct sk_buff *frame(const u8 *dest, u16 proto, int len)
{
	struct sk_buff *skb = netdev_alloc_skb(vdev, ETH_HLEN + len);
	struct ethhdr *eth;

	if (!skb)
		return NULL;
	eth = skb_put(skb, ETH_HLEN);
	memcpy(eth->h_dest, dest, ETH_ALEN);
	memcpy(eth->h_source, other, ETH_ALEN);
	eth->h_proto = htons(proto);
	memset(skb_put(skb, len), 0xab, len);
	vdev->stats.rx_packets++;
	vdev->stats.rx_bytes += skb->len;
	skb->protocol = eth_type_trans(skb, vdev);
	return skb;
}

static int vnet_poll(struct napi_struct *n, int budget)
{
	pr_info("vnet16: poll budget %d\n", budget);
	napi_gro_receive(n, frame(host, PROTO, 60));
	napi_gro_receive(n, frame(bcast, PROTO, 60));
	napi_complete_done(n, 2);
	return 2;
}

static int __init vnet16_init(void)
{
	struct sk_buff *skb;
	int err;

	vdev = alloc_etherdev(0);
	if (!vdev)
		return -ENOMEM;
	vdev->netdev_ops = &vnet_ops;
	pr_info("vnet16: name %s mtu %u type %u addr_len %u hard_header_len %u\n", vdev->name,
		vdev->mtu, vdev->type, vdev->addr_len, vdev->hard_header_len);
	pr_info("vnet16: validate before %d\n", eth_validate_addr(vdev));
	eth_hw_addr_set(vdev, host);
	pr_info("vnet16: validate after %d\n", eth_validate_addr(vdev));
	netif_napi_add(vdev, &napi, vnet_poll);
	err = register_netdev(vdev);
	if (err) {
		free_netdev(vdev);
		return err;
	}
	pr_info("vnet16: registered %s %pM\n", vdev->name, vdev->dev_addr);
	dev_add_pack(&vnet_pt);

	skb = frame(host, PROTO, 46);
	pr_info("vnet16: down: netif_rx %d\n", netif_rx(skb));
	rtnl_lock();
	err = dev_open(vdev, NULL);
	rtnl_unlock();
	pr_info("vnet16: dev_open %d running %d flags_up %d\n", err, netif_running(vdev),
		!!(vdev->flags & IFF_UP));
	netif_carrier_off(vdev);
	pr_info("vnet16: carrier %d\n", netif_carrier_ok(vdev));
	netif_carrier_on(vdev);

	pr_info("vnet16: host netif_rx %d\n", netif_rx(frame(host, PROTO, 46)));
	pr_info("vnet16: broadcast netif_rx %d\n", netif_rx(frame(bcast, PROTO, 46)));
	pr_info("vnet16: multicast netif_rx %d\n", netif_rx(frame(mcast, PROTO, 46)));
	pr_info("vnet16: otherhost netif_rx %d\n", netif_rx(frame(other, PROTO, 46)));
	pr_info("vnet16: unhandled netif_rx %d\n", netif_rx(frame(host, 0x88b6, 46)));
	pr_info("vnet16: receive_skb %d\n", netif_receive_skb(frame(host, PROTO, 100)));

	napi_enable(&napi);
	local_bh_disable();
	napi_schedule(&napi);
	local_bh_enable();
	pr_info("vnet16: seen %d\n", seen);
	return 0;
}

static void __exit vnet16_exit(void)
{
	napi_disable(&napi);
	dev_remove_pack(&vnet_pt);
	unregister_netdev(vdev);
	free_netdev(vdev);
	pr_info("vnet16: gone, seen %d\n", seen);
}

module_init(vnet16_init);
module_exit(vnet16_exit);
MODULE_LICENSE("GPL");
