// SPDX-License-Identifier: GPL-2.0
/*
 * kunit_demo.c - three KUnit suites built against the distribution's headers
 * (which export no KUnit: the build needs KBUILD_MODPOST_WARN=1). Suite
 * kemu_demo has passing, failing (EXPECT and ASSERT), skipped, allocating
 * and parameterised cases, with init/exit hooks; kemu_demo_ok passes, with
 * suite_init/suite_exit hooks; kemu_demo_bad's suite_init fails.
 */
#include <kunit/test.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/string.h>

struct demo_ctx {
	int base;
};

static noinline int demo_add(int a, int b)
{
	return a + b;
}

static int demo_init(struct kunit *test)
{
	struct demo_ctx *ctx = kunit_kzalloc(test, sizeof(*ctx), GFP_KERNEL);

	if (!ctx)
		return -ENOMEM;
	ctx->base = 40;
	test->priv = ctx;
	return 0;
}

static void demo_exit(struct kunit *test)
{
	struct demo_ctx *ctx = test->priv;

	if (ctx)		/* exit runs after a failed init too */
		ctx->base = 0;
}

static void demo_pass(struct kunit *test)
{
	struct demo_ctx *ctx = test->priv;

	KUNIT_EXPECT_EQ(test, demo_add(ctx->base, 2), 42);
	KUNIT_EXPECT_TRUE(test, ctx->base > 0);
	KUNIT_EXPECT_STREQ(test, "kemu", "kemu");
}

static void demo_fail_expect(struct kunit *test)
{
	const char *name = "kunit";

	KUNIT_EXPECT_EQ(test, demo_add(1, 1), 3);
	KUNIT_EXPECT_STREQ(test, name, "kemu");
	kunit_info(test, "still running after two failed expectations\n");
}

static void demo_fail_assert(struct kunit *test)
{
	int x = demo_add(2, 2);

	KUNIT_ASSERT_GT_MSG(test, x, 5, "x is only %d", x);
	kunit_info(test, "never printed\n");
}

static void demo_skip(struct kunit *test)
{
	kunit_skip(test, "needs hardware kemu does not have");
	kunit_info(test, "never printed either\n");
}

static void demo_alloc(struct kunit *test)
{
	char *buf = kunit_kmalloc(test, 16, GFP_KERNEL);
	void *none = NULL;

	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, buf);
	strscpy(buf, "managed", 16);
	KUNIT_EXPECT_STREQ(test, buf, "managed");
	KUNIT_EXPECT_PTR_EQ(test, none, NULL);
	kunit_kfree(test, buf);
}

static const int demo_values[] = { 1, 2, 7 };

static void demo_value_desc(const int *value, char *desc)
{
	snprintf(desc, KUNIT_PARAM_DESC_SIZE, "value %d", *value);
}

KUNIT_ARRAY_PARAM(demo_value, demo_values, demo_value_desc);

static void demo_param(struct kunit *test)
{
	const int *value = test->param_value;

	KUNIT_EXPECT_LT(test, *value, 5);
}

static struct kunit_case demo_cases[] = {
	KUNIT_CASE(demo_pass),
	KUNIT_CASE(demo_fail_expect),
	KUNIT_CASE(demo_fail_assert),
	KUNIT_CASE(demo_skip),
	KUNIT_CASE(demo_alloc),
	KUNIT_CASE_PARAM(demo_param, demo_value_gen_params),
	{}
};

static struct kunit_suite demo_suite = {
	.name = "kemu_demo",
	.init = demo_init,
	.exit = demo_exit,
	.test_cases = demo_cases,
};

static void demo_ok(struct kunit *test)
{
	KUNIT_EXPECT_EQ(test, demo_add(20, 22), 42);
}

static struct kunit_case demo_ok_cases[] = {
	KUNIT_CASE(demo_ok),
	{}
};

static int demo_ok_suite_init(struct kunit_suite *suite)
{
	pr_info("kunit_demo: suite init of %s\n", suite->name);
	return 0;
}

static void demo_ok_suite_exit(struct kunit_suite *suite)
{
	pr_info("kunit_demo: suite exit of %s\n", suite->name);
}

static struct kunit_suite demo_ok_suite = {
	.name = "kemu_demo_ok",
	.suite_init = demo_ok_suite_init,
	.suite_exit = demo_ok_suite_exit,
	.test_cases = demo_ok_cases,
};

static int demo_bad_suite_init(struct kunit_suite *suite)
{
	return -EINVAL;
}

static struct kunit_suite demo_bad_suite = {
	.name = "kemu_demo_bad",
	.suite_init = demo_bad_suite_init,
	.test_cases = demo_ok_cases,
};

kunit_test_suites(&demo_suite, &demo_ok_suite, &demo_bad_suite);

MODULE_LICENSE("GPL");
MODULE_AUTHOR("kemu project");
MODULE_DESCRIPTION("kemu test: KUnit suites with passing, failing, skipped and parameterised cases");
