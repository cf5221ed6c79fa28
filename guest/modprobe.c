/*
 * /sbin/modprobe of the test initramfs, built against the kernel tree's
 * tools/include/nolibc: loads a module (and what modules.dep says it
 * needs) with one finit_module() each, as kmod's modprobe does.
 * busybox's modprobe falls back to init_module() whenever finit_module()
 * fails, and test_vmalloc's init always fails (-EAGAIN, so that it
 * unloads), so under busybox every test ran twice.
 *
 *   modprobe [-q] [-n] [-v] NAME [PARAM...]    load NAME with the params
 *   modprobe [-q] -r NAME                      remove NAME
 *
 * Exit status 0 on success, 1 on failure, with kmod's message unless -q.
 */
static char dep[1 << 18];

static void read_file(const char *path, char *buf, int size)
{
	int fd = open(path, O_RDONLY), n = 0, got;

	while (fd >= 0 && n < size - 1 &&
	       (got = read(fd, buf + n, size - 1 - n)) > 0)
		n += got;
	buf[n] = 0;
	if (fd >= 0)
		close(fd);
}

/* Do a module's file name (a path ending in NAME.ko) and name match? */
static int is_module(const char *path, int len, const char *name)
{
	const char *base = path + len;
	int i;

	while (base > path && base[-1] != '/')
		base--;
	for (i = 0; name[i]; i++) {
		char a = base + i < path + len ? base[i] : 0;

		if (a != name[i] && !(a == '-' && name[i] == '_') &&
		    !(a == '_' && name[i] == '-'))
			return 0;
	}
	return path + len - (base + i) == 3 && !strncmp(base + i, ".ko", 3);
}

static int load(const char *dir, const char *path, int len,
		const char *params)
{
	static char file[512];
	int fd, rc;

	strlcpy(file, dir, sizeof(file));
	if (strlen(file) + len + 1 >= sizeof(file))
		return -ENAMETOOLONG;
	strncat(file, path, len);
	fd = open(file, O_RDONLY);
	if (fd < 0)
		return -errno;
	rc = my_syscall3(__NR_finit_module, fd, params, 0);
	close(fd);
	return rc == -EEXIST ? 0 : rc;
}

int main(int argc, char **argv)
{
	static char dir[256], params[1024];
	int quiet = 0, dry = 0, remove = 0, i = 1, rc = 0;
	const char *name;
	struct utsname u;
	char *l, *colon, *nl, *d;

	for (; i < argc && argv[i][0] == '-'; i++)
		for (d = argv[i] + 1; *d; d++) {
			if (*d == 'q')
				quiet = 1;
			else if (*d == 'n')
				dry = 1;
			else if (*d == 'r')
				remove = 1;
			else if (*d != 'v') {
				printf("modprobe: unknown option -%c\n", *d);
				return 1;
			}
		}
	if (i >= argc) {
		printf("usage: modprobe [-qnv] [-r] NAME [PARAM...]\n");
		return 1;
	}
	name = argv[i++];
	for (; i < argc; i++) {
		strlcat(params, argv[i], sizeof(params));
		if (i + 1 < argc)
			strlcat(params, " ", sizeof(params));
	}
	if (remove) {
		rc = dry ? 0 : my_syscall2(__NR_delete_module, name, O_NONBLOCK);
		if (rc && !quiet)
			printf("modprobe: FATAL: Module %s: %s\n", name,
			       strerror(-rc));
		return !!rc;
	}

	uname(&u);
	strlcpy(dir, "/lib/modules/", sizeof(dir));
	strlcat(dir, u.release, sizeof(dir));
	strlcat(dir, "/", sizeof(dir));
	{
		static char depfile[300];

		strlcpy(depfile, dir, sizeof(depfile));
		strlcat(depfile, "modules.dep", sizeof(depfile));
		read_file(depfile, dep, sizeof(dep));
	}
	for (l = dep; *l; l = nl ? nl + 1 : l + strlen(l)) {
		nl = strchr(l, '\n');
		if (nl)
			*nl = 0;
		colon = strchr(l, ':');
		if (!colon || !is_module(l, colon - l, name))
			continue;
		if (dry)
			return 0;
		/* what it needs, the last one first, with no params */
		for (d = colon + strlen(colon); !rc && d > colon + 1; ) {
			char *end = d;

			while (d > colon + 1 && d[-1] != ' ')
				d--;
			if (end > d)
				rc = load(dir, d, end - d, "");
			while (d > colon + 1 && d[-1] == ' ')
				d--;
		}
		if (!rc)
			rc = load(dir, l, colon - l, params);
		if (rc && !quiet)
			printf("modprobe: ERROR: could not insert '%s': %s\n",
			       name, strerror(-rc));
		return !!rc;
	}
	if (!quiet)
		printf("modprobe: FATAL: Module %s not found in directory %s\n",
		       name, dir);
	return 1;
}
