// SPDX-License-Identifier: GPL-2.0
/*
 * cpuloop_native.c - userspace twin of cpuloop.ko.
 *
 *   usage: cpuloop_native [ITERS]
 *
 * Prints exactly the line cpuloop.ko logs for iters=ITERS (default: the
 * module's default), so the emulator's result can be compared bit for bit.
 * ITERS is parsed like the kernel's ulong parameter (kstrtoul base 0:
 * decimal, 0x hex or 0 octal).
 */
#include <stdio.h>
#include <stdlib.h>
#include <errno.h>

#include "cpuloop_core.h"

int main(int argc, char **argv)
{
	unsigned long iters = CPULOOP_DEFAULT_ITERS;

	if (argc > 2) {
		fprintf(stderr, "usage: %s [ITERS]\n", argv[0]);
		return 2;
	}
	if (argc == 2) {
		char *end;

		errno = 0;
		iters = strtoul(argv[1], &end, 0);
		if (errno || end == argv[1] || *end || argv[1][0] == '-') {
			fprintf(stderr, "%s: bad ITERS '%s'\n", argv[0], argv[1]);
			return 2;
		}
	}
	printf("cpuloop: result=%llx iters=%lu\n", cpuloop_compute(iters), iters);
	return 0;
}
