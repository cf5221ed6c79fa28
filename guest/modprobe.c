/*
 * /sbin/modprobe of the test initramfs, built against the kernel tree's
 * tools/include/nolibc: loads a module (and what modules.dep says it
 * needs) with one finit_module() each, as kmod's modprobe does.
 * busybox's modprobe falls back to init_module() whenever finit_module()
 * fails, and test_vmalloc's init always fails (-EAGAIN, so that it
 * unloads), so under busybox every test ran twice.
 *
 *   modprobe [-q] [-n] [-v] [--] NAME [PARAM...]   load NAME with PARAMs
 *   modprobe [-q] [-n] -r [--] NAME                remove NAME
 *
 * (the kernel's request_module() runs "modprobe -q -- NAME").  Exit
 * status 0 on success, 1 on failure, with a message on stderr unless -q
 * (errors as nolibc's strerror() gives them: "errno=11").  Only what the
 * test initramfs holds is handled: uncompressed modules listed in
 * modules.dep; a built-in module is "not found"; -v prints nothing more.
 */
static char dep[1 << 18];

/* The file at path in buf, NUL-terminated: 0, or -1 if it does not fit. */
static int read_file(const char *path, char *buf, int size)
{
	int fd = open(path, O_RDONLY), n = 0, got;

	while (fd >= 0 && n < size - 1 &&
	       (got = read(fd, buf + n, size - 1 - n)) > 0)
		n += got;
	buf[n] = 0;
	if (fd >= 0)
		close(fd);
	return n == size - 1 ? -1 : 0;
}

/* Module names match with '-' and '_' alike, as kmod's do. */
static int same_char(char a, char b)
{
	return a == b || (a == '-' && b == '_') || (a == '_' && b == '-');
}

/* Does the module file path[0..len) (a path ending in NAME.ko) hold the
 * module name? */
static int is_module(const char *path, int len, const char *name)
{
	const char *base = path + len;
	int i;

	while (base > path && base[-1] != '/')
		base--;
	for (i = 0; name[i]; i++)
		if (base + i >= path + len || !same_char(base[i], name[i]))
			return 0;
	return path + len - (base + i) == 3 && !strncmp(base + i, ".ko", 3);
}

static int load(const char *dir, const char *path, int len,
		const char *params)
{
	static char file[512];
	int fd, rc;

	if (strlen(dir) + len >= sizeof(file))
		return -ENAMETOOLONG;
	strlcpy(file, dir, sizeof(file));
	strncat(file, path, len);
	fd = open(file, O_RDONLY);
	if (fd < 0)
		return -errno;
	rc = my_syscall3(__NR_finit_module, fd, params, 0);
	close(fd);
	return rc == -EEXIST ? 0 : rc;
}

static int fail(int quiet, const char *what, const char *name, int rc)
{
	if (!quiet)
		fprintf(stderr, "modprobe: ERROR: %s '%s': errno=%d\n", what,
			name, -rc);
	return 1;
}

int main(int argc, char **argv)
{
	static char dir[256], depfile[300], params[1024], name[256];
	int quiet = 0, dry = 0, remove = 0, i = 1, rc = 0;
	char *l, *colon, *nl, *d;

	for (; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
		if (!strcmp(argv[i], "--")) {
			i++;
			break;
		}
		for (d = argv[i] + 1; *d; d++) {
			if (*d == 'q')
				quiet = 1;
			else if (*d == 'n')
				dry = 1;
			else if (*d == 'r')
				remove = 1;
			else if (*d != 'v') {
				fprintf(stderr, "modprobe: unknown option %s\n",
					argv[i]);
				return 1;
			}
		}
	}
	if (i >= argc) {
		fprintf(stderr, "usage: modprobe [-qnv] [-r] [--] NAME "
			"[PARAM...]\n");
		return 1;
	}
	if (strlcpy(name, argv[i++], sizeof(name)) >= sizeof(name))
		return fail(quiet, "name too long", "", -ENAMETOOLONG);
	for (; i < argc; i++)
		if (strlcat(params, argv[i], sizeof(params)) >= sizeof(params) ||
		    (i + 1 < argc &&
		     strlcat(params, " ", sizeof(params)) >= sizeof(params)))
			return fail(quiet, "parameters too long for", name,
				    -E2BIG);
	if (remove) {
		/* the kernel knows the module by its name with '_' */
		for (d = name; *d; d++)
			if (*d == '-')
				*d = '_';
		rc = dry ? 0 : my_syscall2(__NR_delete_module, name,
					   O_NONBLOCK);
		return rc ? fail(quiet, "could not remove", name, rc) : 0;
	}

	/* The release, as uname() has it (6.1's nolibc has no uname()). */
	strlcpy(dir, "/lib/modules/", sizeof(dir));
	read_file("/proc/sys/kernel/osrelease", dir + strlen(dir),
		  sizeof(dir) - strlen(dir));
	nl = strchr(dir, '\n');
	if (!nl)
		return fail(quiet, "no /proc/sys/kernel/osrelease, looking for",
			    name, -ENOENT);
	strcpy(nl, "/");
	strlcpy(depfile, dir, sizeof(depfile));
	strlcat(depfile, "modules.dep", sizeof(depfile));
	if (read_file(depfile, dep, sizeof(dep)))
		return fail(quiet, "modules.dep too big, looking for", name,
			    -EFBIG);
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
		return rc ? fail(quiet, "could not insert", name, rc) : 0;
	}
	return fail(quiet, "module not found in modules.dep:", name, -ENOENT);
}
