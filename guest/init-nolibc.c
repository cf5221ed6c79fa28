/*
 * /init for targets without a Debian busybox (ppc32): built against the
 * kernel tree's tools/include/nolibc.  It does what guest/init does, minus
 * the shell: prints the same KT: lines, loads test_vmalloc with the
 * parameters in /kt/vmalloc.params (the kernel prints the Summary lines the
 * harness reads), and restarts, which QEMU's -no-reboot turns into an exit.
 */
#include <linux/reboot.h>

static void read_file(const char *path, char *buf, int size)
{
	int fd = open(path, O_RDONLY);
	int n = fd < 0 ? 0 : read(fd, buf, size - 1);

	buf[n > 0 ? n : 0] = 0;
	if (fd >= 0)
		close(fd);
}

/* The line of buf that starts with key, cut at its end, or "". */
static char *line_of(char *buf, const char *key)
{
	char *l = buf, *nl;

	while (l && *l) {
		nl = strchr(l, '\n');
		if (!strncmp(l, key, strlen(key))) {
			if (nl)
				*nl = 0;
			return l;
		}
		l = nl ? nl + 1 : NULL;
	}
	return "";
}

int main(void)
{
	static char params[256], path[256], cpuinfo[4096];
	struct utsname u;
	char *nl;
	int fd, rc;

	mkdir("/proc", 0755);
	mkdir("/sys", 0755);
	mkdir("/dev", 0755);
	mount("proc", "/proc", "proc", 0, NULL);
	mount("sysfs", "/sys", "sysfs", 0, NULL);
	mount("devtmpfs", "/dev", "devtmpfs", 0, NULL);
	uname(&u);
	printf("KT: init %s %s\n", u.release, u.machine);

	read_file("/proc/cpuinfo", cpuinfo, sizeof(cpuinfo));
	printf("KT: la57 0\nKT: mmu %s\n", line_of(cpuinfo, "MMU"));

	read_file("/kt/vmalloc.params", params, sizeof(params));
	nl = strchr(params, '\n');
	if (nl)
		*nl = 0;
	printf("KT: test_vmalloc.sh %s\n", params);
	strlcpy(path, "/lib/modules/", sizeof(path));
	strlcat(path, u.release, sizeof(path));
	strlcat(path, "/kernel/lib/test_vmalloc.ko", sizeof(path));
	fd = open(path, O_RDONLY);
	/* test_vmalloc's init always fails with -EAGAIN once it has run */
	rc = fd < 0 ? -errno : my_syscall3(__NR_finit_module, fd, params, 0);
	printf("KT: finit_module(test_vmalloc) = %d\n", rc);

	printf("KT: done\n");
	reboot(LINUX_REBOOT_CMD_RESTART);
	return 0;
}
