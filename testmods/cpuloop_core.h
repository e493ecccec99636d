/* SPDX-License-Identifier: GPL-2.0 */
/*
 * cpuloop_core.h - the pure, deterministic integer workload shared by
 * cpuloop.ko and the userspace reference binary native/cpuloop_native.
 *
 * No kernel (or libc) dependencies: only unsigned integer arithmetic on
 * 64-bit unsigned long long / unsigned long and 32-bit unsigned int, so
 * the kernel build and the userspace build compute bit-identical results
 * on x86_64.
 *
 * Per iteration: a xorshift64 step, a multiply/rotate/add hash mix and one
 * update of a 64-entry static array; every 4096 iterations the array is
 * insertion-sorted and folded into the hash.  Roughly 15-20 simple
 * operations per iteration.
 */
#ifndef KEMU_CPULOOP_CORE_H
#define KEMU_CPULOOP_CORE_H

#define CPULOOP_ARRAY_LEN 64
/*
 * Default iteration count: ~120 million source-level operations, ~260
 * million x86 instructions (about 26 per iteration in the gcc-12 -O2 kernel
 * build); roughly 0.02-0.05 s natively.
 */
#define CPULOOP_DEFAULT_ITERS 10000000UL

static unsigned int cpuloop_array[CPULOOP_ARRAY_LEN];

static inline unsigned long long cpuloop_rotl64(unsigned long long v, unsigned int r)
{
	return (v << r) | (v >> (64 - r));
}

static void cpuloop_sort(unsigned int *a, unsigned int n)
{
	unsigned int i, j, v;

	for (i = 1; i < n; i++) {
		v = a[i];
		j = i;
		while (j > 0 && a[j - 1] > v) {
			a[j] = a[j - 1];
			j--;
		}
		a[j] = v;
	}
}

static unsigned long long cpuloop_compute(unsigned long iters)
{
	unsigned long long x = 0x0123456789abcdefULL;	/* xorshift state */
	unsigned long long h = 0xcbf29ce484222325ULL;	/* hash */
	unsigned long i;
	unsigned int k;

	for (k = 0; k < CPULOOP_ARRAY_LEN; k++)
		cpuloop_array[k] = k * 2654435761U;

	for (i = 0; i < iters; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		h ^= x;
		h *= 0x9e3779b97f4a7c15ULL;
		h = cpuloop_rotl64(h, 23) + i;
		cpuloop_array[i & (CPULOOP_ARRAY_LEN - 1)] ^= (unsigned int)(x >> 32);
		if ((i & 4095) == 4095) {
			cpuloop_sort(cpuloop_array, CPULOOP_ARRAY_LEN);
			h ^= ((unsigned long long)cpuloop_array[0] << 32) |
			     cpuloop_array[CPULOOP_ARRAY_LEN - 1];
			h = cpuloop_rotl64(h, 7) * 0xff51afd7ed558ccdULL;
		}
	}
	for (k = 0; k < CPULOOP_ARRAY_LEN; k++)
		h = cpuloop_rotl64(h ^ cpuloop_array[k], 5) * 0xc4ceb9fe1a85ec53ULL;
	return h;
}

#endif /* KEMU_CPULOOP_CORE_H */
