// SPDX-License-Identifier: GPL-2.0
/*
 * kemu_subsys: what a teaching module does with subsystems on a machine
 * without the hardware: an ISA DMA channel, IRQ descriptors, legacy GPIO
 * numbers and optional GPIO lookups, a virtual Ethernet device (allocated,
 * registered, carrier toggled, netdev_info, unregistered), a class interface.
 * Every result is printed, so the log can be compared with the real kernel's.
 * leave=1 keeps the net device and the DMA channel registered past exit.
 */
#include <linux/module.h>
#include <linux/version.h>
#include <asm/dma.h>
#include <linux/irq.h>
#include <linux/gpio.h>
#include <linux/gpio/consumer.h>
#include <linux/netdevice.h>
#include <linux/etherdevice.h>
#include <linux/device.h>

static bool leave;
module_param(leave, bool, 0444);

struct kemu_priv {
	u32 magic;
};

static struct net_device *ndev;
static int irq_base = -1;
static int events[16];

static int kemu_ndo_init(struct net_device *dev)
{
	pr_info("kemu_subsys: ndo_init %s\n", dev->name);
	return 0;
}

static void kemu_ndo_uninit(struct net_device *dev)
{
	pr_info("kemu_subsys: ndo_uninit %s\n", dev->name);
}

static netdev_tx_t kemu_xmit(struct sk_buff *skb, struct net_device *dev)
{
	dev_kfree_skb(skb);
	return NETDEV_TX_OK;
}

static const struct net_device_ops kemu_ops = {
	.ndo_init = kemu_ndo_init,
	.ndo_uninit = kemu_ndo_uninit,
	.ndo_start_xmit = kemu_xmit,
};

static int kemu_netdev_event(struct notifier_block *nb, unsigned long ev, void *ptr)
{
	struct net_device *dev = netdev_notifier_info_to_dev(ptr);

	if (dev == ndev && ev < ARRAY_SIZE(events))
		events[ev]++;
	return NOTIFY_DONE;
}

static struct notifier_block kemu_nb = { .notifier_call = kemu_netdev_event };

/* 6.4 dropped the class_interface argument of add_dev and class_create()'s owner */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 4, 0)
static int kemu_add_dev(struct device *dev)
#else
static int kemu_add_dev(struct device *dev, struct class_interface *intf)
#endif
{
	return 0;
}

static struct class *kemu_class;
static struct class_interface kemu_intf = { .add_dev = kemu_add_dev };

static int __init kemu_subsys_init(void)
{
	struct kemu_priv *priv;
	struct gpio_desc *g;
	int ret;

	pr_info("kemu_subsys: request_dma(3) = %d\n", request_dma(3, "kemu_subsys"));
	pr_info("kemu_subsys: request_dma(3) again = %d\n", request_dma(3, "again"));
	pr_info("kemu_subsys: request_dma(4) = %d\n", request_dma(4, "kemu_subsys"));
	pr_info("kemu_subsys: request_dma(8) = %d\n", request_dma(8, "kemu_subsys"));

	irq_base = irq_alloc_descs(-1, 0, 4, 0);
	pr_info("kemu_subsys: irq_alloc_descs(-1, 0, 4) ok=%d\n", irq_base > 15);
	pr_info("kemu_subsys: irq_alloc_descs(3, 0, 1) = %d\n", irq_alloc_descs(3, 0, 1, 0));
	pr_info("kemu_subsys: irq_alloc_descs(-1, 0, 0) = %d\n", irq_alloc_descs(-1, 0, 0, 0));
	pr_info("kemu_subsys: irq_alloc_descs(5, 6, 1) = %d\n", irq_alloc_descs(5, 6, 1, 0));

	pr_info("kemu_subsys: gpio_request(17) = %d\n", gpio_request(17, "kemu"));
	pr_info("kemu_subsys: gpio_request(5000) = %d\n", gpio_request(5000, "kemu"));
	pr_info("kemu_subsys: gpio_request_one(3) = %d\n",
		gpio_request_one(3, GPIOF_OUT_INIT_LOW, "kemu"));
	g = gpiod_get_optional(NULL, "reset", GPIOD_OUT_LOW);
	pr_info("kemu_subsys: gpiod_get_optional = %ld\n", PTR_ERR(g));
	g = gpiod_get(NULL, "reset", GPIOD_OUT_LOW);
	pr_info("kemu_subsys: gpiod_get = %ld\n", PTR_ERR(g));
	pr_info("kemu_subsys: gpiod_direction_output_raw(err) = %d\n",
		gpiod_direction_output_raw(g, 1));

	ret = register_netdevice_notifier(&kemu_nb);
	pr_info("kemu_subsys: register_netdevice_notifier = %d\n", ret);
	ndev = alloc_etherdev(sizeof(struct kemu_priv));
	if (!ndev)
		return -ENOMEM;
	priv = netdev_priv(ndev);
	priv->magic = 0x6b656d75;
	ndev->netdev_ops = &kemu_ops;
	netdev_info(ndev, "before register: mtu %u type %u addr_len %u\n",
		    ndev->mtu, ndev->type, ndev->addr_len);
	eth_hw_addr_set(ndev, (u8[]){ 0x02, 0x00, 0x00, 0x6b, 0x65, 0x6d });
	ret = register_netdev(ndev);
	pr_info("kemu_subsys: register_netdev = %d\n", ret);
	netdev_info(ndev, "registered: mac %pM, priv aligned %d, magic %x\n",
		    ndev->dev_addr, IS_ALIGNED((unsigned long)priv, NETDEV_ALIGN),
		    priv->magic);
	pr_info("kemu_subsys: carrier %d\n", netif_carrier_ok(ndev));
	netif_carrier_off(ndev);
	pr_info("kemu_subsys: carrier after off %d\n", netif_carrier_ok(ndev));
	netif_carrier_on(ndev);
	pr_info("kemu_subsys: carrier after on %d\n", netif_carrier_ok(ndev));
	pr_info("kemu_subsys: NETDEV_REGISTER events %d\n", events[NETDEV_REGISTER]);

#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 4, 0)
	kemu_class = class_create("kemu_subsys");
#else
	kemu_class = class_create(THIS_MODULE, "kemu_subsys");
#endif
	if (IS_ERR(kemu_class))
		return PTR_ERR(kemu_class);
	kemu_intf.class = kemu_class;
	pr_info("kemu_subsys: class_interface_register = %d\n",
		class_interface_register(&kemu_intf));
	return 0;
}

static void __exit kemu_subsys_exit(void)
{
	class_interface_unregister(&kemu_intf);
	class_destroy(kemu_class);
	if (!leave) {
		unregister_netdev(ndev);
		netdev_info(ndev, "after unregister\n");
		pr_info("kemu_subsys: NETDEV_UNREGISTER events %d\n", events[NETDEV_UNREGISTER]);
		free_netdev(ndev);
		free_dma(3);
	}
	unregister_netdevice_notifier(&kemu_nb);
	free_dma(3);
	free_dma(9);
	if (irq_base > 0)
		irq_free_descs(irq_base, 4);
	pr_info("kemu_subsys: exit\n");
}

module_init(kemu_subsys_init);
module_exit(kemu_subsys_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kemu test: subsystems without hardware");
