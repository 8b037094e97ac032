// SPDX-License-Identifier: GPL-2.0
/*
 * Minimal PID 1 for the kmap-local test guests.
 *
 * Built against the base tree's tools/include/nolibc, so one source serves
 * every guest architecture without a C library.  The KUnit suites have
 * already run (built in) by the time this starts; this program only marks
 * the point on the console, runs the in-guest steps named on the kernel
 * command line, and restarts the machine, which QEMU (-no-reboot) turns
 * into an exit.
 */

static void say(const char *s)
{
	size_t n = 0;

	while (s[n])
		n++;
	write(1, s, n);
}

/* Copy a whole file to the console; used for benchmark result files. */
static void cat(const char *path)
{
	char buf[512];
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY, 0);
	if (fd < 0) {
		say("kmap-local-init: cannot open ");
		say(path);
		say("\n");
		return;
	}
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		write(1, buf, n);
	close(fd);
}

int main(int argc, char **argv, char **envp)
{
	int fd;

	fd = open("/dev/console", O_RDWR, 0);
	if (fd >= 0) {
		dup2(fd, 0);
		dup2(fd, 1);
		dup2(fd, 2);
	}
	say("kmap-local-init: start\n");
	if (mount("proc", "/proc", "proc", 0, 0) == 0)
		cat("/proc/meminfo");
	say("kmap-local-init: done\n");
	reboot(LINUX_REBOOT_CMD_RESTART);
	say("kmap-local-init: reboot failed\n");
	for (;;)
		sleep(1);
	return 0;
}
