#include <linux/module.h>
#include <linux/kobject.h>
#include <linux/slab.h>
static int __init uev_init(void)
{
	struct kobj_uevent_env *env = kzalloc(sizeof(*env), GFP_KERNEL);
	int i, err = 0;
	char big[300];
	if (!env)
		return -ENOMEM;
	for (i = 0; i < 70 && !err; i++)
		err = add_uevent_var(env, "K%d=%d", i, i);
	pr_info("uev: keys i=%d err=%d idx=%d buflen=%d\n", i, err, env->envp_idx, env->buflen);
	memset(env, 0, sizeof(*env));
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	err = 0;
	for (i = 0; i < 20 && !err; i++)
		err = add_uevent_var(env, "B%d=%s", i, big);
	pr_info("uev: buf i=%d err=%d idx=%d buflen=%d first=%.6s\n", i, err, env->envp_idx, env->buflen, env->envp[0]);
	kfree(env);
	return 0;
}
static void __exit uev_exit(void) { }
module_init(uev_init);
module_exit(uev_exit);
MODULE_LICENSE("GPL");
