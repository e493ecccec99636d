/*
 * oracle-finit.c - finit_module(2) with explicit flags, for the oracle jobs.
 *
 * BusyBox insmod has no -f and retries with init_module() after any
 * failure; this calls finit_module() exactly once, with the flags kmod's
 * `insmod -f` passes (MODULE_INIT_IGNORE_MODVERSIONS 1 |
 * MODULE_INIT_IGNORE_VERMAGIC 2 = 3) or any other value.
 *
 *   usage: finit FILE FLAGS [PARAMS]      (exit status = errno, 0 on success)
 *   build: gcc -static -O2 -o finit oracle-finit.c
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	const char *params = argc > 3 ? argv[3] : "";
	unsigned long flags;
	long rc;
	int fd;

	if (argc < 3 || argc > 4) {
		fprintf(stderr, "usage: finit FILE FLAGS [PARAMS]\n");
		return 2;
	}
	flags = strtoul(argv[2], NULL, 0);
	fd = open(argv[1], O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "finit: %s: %s\n", argv[1], strerror(errno));
		return 2;
	}
	rc = syscall(SYS_finit_module, fd, params, flags);
	if (rc != 0) {
		int err = errno;

		fprintf(stderr, "finit: finit_module(%s, flags=%lu): errno %d (%s)\n",
			argv[1], flags, err, strerror(err));
		return err;
	}
	return 0;
}
