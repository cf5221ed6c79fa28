/*
 * /init of make bench's initramfs, built against the kernel tree's
 * tools/include/nolibc.  /kt/bench.params holds four lines: the number of
 * rounds, test_vmalloc's parameters, the size of the page-fault region in
 * MiB, and how often to fault it in per round.  Each round loads
 * test_vmalloc once (one finit_module(): its init runs every case, prints
 * a Summary line per case, and fails with -EAGAIN so that the module
 * unloads), then maps fresh anonymous memory, writes one byte per page,
 * so that each page faults and the PTE tables (and PMD tables, where a
 * range is new) get allocated, and unmaps it.  It prints
 *   KT-BENCH: round R test_vmalloc RC usec U
 *   KT-BENCH: round R pagefault faults F usec U
 * with the time from gettimeofday(): under QEMU's -icount, virtual time,
 * which follows the instructions executed.  Then restarts (QEMU's
 * -no-reboot exits).
 */
#include <linux/reboot.h>

static char params[1024];

static long read_num(char **p)
{
	long n = 0;

	while (**p >= '0' && **p <= '9')
		n = n * 10 + *(*p)++ - '0';
	while (**p && **p != '\n')
		(*p)++;
	if (**p)
		(*p)++;
	return n;
}

static char *read_line(char **p)
{
	char *l = *p, *nl = strchr(l, '\n');

	if (nl) {
		*nl = 0;
		*p = nl + 1;
	} else {
		*p = l + strlen(l);
	}
	return l;
}

static long usec_since(const struct timeval *t0)
{
	struct timeval t;

	gettimeofday(&t, NULL);
	return (t.tv_sec - t0->tv_sec) * 1000000L + t.tv_usec - t0->tv_usec;
}

static long fault_in(long bytes, long page)
{
	char *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	long off;

	if (p == MAP_FAILED)
		return -1;
	for (off = 0; off < bytes; off += page)
		p[off] = 1;
	munmap(p, bytes);
	return bytes / page;
}

int main(void)
{
	static char path[256], raw[2048];
	long rounds, mib, reps, r, i, n, faults, page = getpagesize();
	struct utsname u;
	struct timeval t0;
	char *p = raw, *vm;
	int fd, rc;

	mkdir("/proc", 0755);
	mkdir("/dev", 0755);
	mount("proc", "/proc", "proc", 0, NULL);
	mount("devtmpfs", "/dev", "devtmpfs", 0, NULL);
	uname(&u);
	printf("KT: init %s %s\n", u.release, u.machine);
	printf("KT: pagesize %ld\n", page);

	fd = open("/kt/bench.params", O_RDONLY);
	n = fd < 0 ? 0 : read(fd, raw, sizeof(raw) - 1);
	raw[n > 0 ? n : 0] = 0;
	rounds = read_num(&p);
	vm = read_line(&p);
	strlcpy(params, vm, sizeof(params));
	mib = read_num(&p);
	reps = read_num(&p);
	printf("KT-BENCH: rounds %ld test_vmalloc %s pagefault %ld MiB x %ld\n",
	       rounds, params, mib, reps);

	strlcpy(path, "/lib/modules/", sizeof(path));
	strlcat(path, u.release, sizeof(path));
	strlcat(path, "/kernel/lib/test_vmalloc.ko", sizeof(path));
	for (r = 1; r <= rounds; r++) {
		printf("KT-BENCH: round %ld\n", r);
		gettimeofday(&t0, NULL);
		fd = open(path, O_RDONLY);
		rc = fd < 0 ? -errno : my_syscall3(__NR_finit_module, fd,
						   params, 0);
		if (fd >= 0)
			close(fd);
		/*
		 * -EAGAIN: every case ran (the module never stays loaded).
		 * The whole load's time holds what the cases leave to the
		 * kernel's background work (a purge, RCU callbacks) too.
		 */
		printf("KT-BENCH: round %ld test_vmalloc %d usec %ld\n", r, rc,
		       usec_since(&t0));
		faults = 0;
		gettimeofday(&t0, NULL);
		for (i = 0; i < reps; i++) {
			n = fault_in(mib << 20, page);
			if (n < 0)
				break;
			faults += n;
		}
		printf("KT-BENCH: round %ld pagefault faults %ld usec %ld\n",
		       r, faults, usec_since(&t0));
	}
	printf("KT: done\n");
	reboot(LINUX_REBOOT_CMD_RESTART);
	return 0;
}
