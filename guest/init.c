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
 *
 * Steps named on the command line:
 *   kmap_local.pingpong=N   N context-switch round trips between two
 *                           processes on one CPU, printed as a '# bench:'
 *                           line (the kernel ignores the unknown
 *                           parameter; it stays in /proc/cmdline)
 *   kmap_local.pingpong_at=S  start the round trips only once the
 *                           monotonic clock reads S seconds, so that two
 *                           kernels that reach /init at different times
 *                           run them at the same guest time (see
 *                           pingpong_wait())
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

/*
 * The value of "NAME=" on the kernel command line, or -1 when absent.
 * NAME must start a word (the line is space separated).
 */
static long cmdline_value(const char *name)
{
	static char line[1024];
	size_t len = 0, i, j;
	ssize_t n;
	int fd;

	fd = open("/proc/cmdline", O_RDONLY, 0);
	if (fd < 0)
		return -1;
	while (len < sizeof(line) - 1 &&
	       (n = read(fd, line + len, sizeof(line) - 1 - len)) > 0)
		len += n;
	close(fd);
	line[len] = 0;
	for (i = 0; i < len; i++) {
		if (i > 0 && line[i - 1] != ' ')
			continue;
		for (j = 0; name[j] && line[i + j] == name[j]; j++)
			;
		if (!name[j])
			return atol(line + i + j);
	}
	return -1;
}

/*
 * n / d without the compiler's helpers for 64-bit (and, on ARM, any)
 * division, which a -nostdlib program does not have: long division, one
 * bit at a time, constant shifts only.
 */
static unsigned long long div_u64(unsigned long long n, unsigned long d)
{
	unsigned long long q = 0, r = 0;
	int i;

	for (i = 0; i < 64; i++) {
		r = (r << 1) | (n >> 63);
		n <<= 1;
		q <<= 1;
		if (r >= d) {
			r -= d;
			q |= 1;
		}
	}
	return q;
}

/* Decimal text of v (nolibc's ltoa() needs a division helper on ARM). */
static const char *num(long long v)
{
	static char buf[24];
	unsigned long long u = v < 0 ? -v : v, q;
	char *p = buf + sizeof(buf) - 1;

	*p = 0;
	do {
		q = div_u64(u, 10);
		*--p = '0' + (u - q * 10);
		u = q;
	} while (u);
	if (v < 0)
		*--p = '-';
	return p;
}

/*
 * The 64-bit time syscall: the 32-bit guests' kernels are built without
 * COMPAT_32BIT_TIME, so their old clock_gettime (32-bit time_t) is gone;
 * clock_gettime64 takes the same 64-bit layout as x86_64's clock_gettime.
 */
#ifdef __NR_clock_gettime64
#define NR_CLOCK_GETTIME __NR_clock_gettime64
#else
#define NR_CLOCK_GETTIME __NR_clock_gettime
#endif
#define GUEST_CLOCK_MONOTONIC 1	/* <linux/time.h> clashes with nolibc */

struct ts64 {
	long long sec;
	long long nsec;
};

static long long now_ns(void)
{
	struct ts64 ts = { 0, 0 };

	if (my_syscall2(NR_CLOCK_GETTIME, GUEST_CLOCK_MONOTONIC, &ts) != 0)
		return -1;
	return ts.sec * 1000000000LL + ts.nsec;
}

/*
 * Wait until the monotonic clock reads @sec seconds.  Where the clock
 * stands changes what the round trips cost: on x86-32, sched_clock()'s
 * 64-bit multiply takes a longer path once the TSC has passed 2^32
 * cycles (4.3 s at the 1 GHz of an instruction-counted QEMU), and a
 * kernel that runs more KUnit suites reaches /init later.  Started at the
 * same time, two kernels are compared under the same conditions.
 */
static void pingpong_wait(long sec)
{
	long long t;

	while ((t = now_ns()) >= 0 && t < sec * 1000000000LL)
		sleep(1);
}

static void pingpong_fail(const char *what, long err)
{
	say("kmap-local-init: pingpong: ");
	say(what);
	say(" failed, error ");
	say(num(err));
	say("\n");
}

/* Append the string s to buf (of 96 bytes) at len; return the new length. */
static size_t append(char *buf, size_t len, const char *s)
{
	while (*s && len < 95)
		buf[len++] = *s++;
	return len;
}

#define PINGPONG_WARMUP 100

/*
 * PID 1 and a child, both pinned to CPU 0, pass one byte back and forth
 * over two pipes: every round trip is two switches between the two tasks
 * (and four pipe system calls), so the time per round trip follows the
 * scheduler's switch path, where the series hooks in.  A few untimed
 * round trips come first.
 */
static void pingpong(unsigned long rounds)
{
	unsigned long mask[1] = { 1 };	/* CPU 0 only */
	int to_child[2], to_parent[2];
	long long t0, t1;
	unsigned long i;
	char c = 'k';
	char line[96];
	size_t len;
	long ret;
	pid_t pid;
	int status;

	/* Set before fork(): the child inherits it, so both are pinned. */
	ret = my_syscall3(__NR_sched_setaffinity, 0, sizeof(mask), mask);
	if (ret) {
		pingpong_fail("sched_setaffinity", ret);
		return;
	}
	ret = my_syscall2(__NR_pipe2, to_child, 0);
	if (!ret)
		ret = my_syscall2(__NR_pipe2, to_parent, 0);
	if (ret) {
		pingpong_fail("pipe2", ret);
		return;
	}
	pid = fork();
	if (pid < 0) {
		pingpong_fail("fork", pid);
		return;
	}
	if (pid == 0) {
		/* The child echoes every byte until the parent closes. */
		close(to_child[1]);
		close(to_parent[0]);
		while (read(to_child[0], &c, 1) == 1)
			if (write(to_parent[1], &c, 1) != 1)
				break;
		exit(0);
	}
	close(to_child[0]);
	close(to_parent[1]);
	t0 = 0;
	for (i = 0; i < PINGPONG_WARMUP + rounds; i++) {
		if (i == PINGPONG_WARMUP)
			t0 = now_ns();
		if (write(to_child[1], &c, 1) != 1 ||
		    read(to_parent[0], &c, 1) != 1)
			break;
	}
	t1 = now_ns();
	close(to_child[1]);
	close(to_parent[0]);
	waitpid(pid, &status, 0);
	if (i != PINGPONG_WARMUP + rounds) {
		pingpong_fail("round trip", i);
		return;
	}
	if (t0 < 0 || t1 < t0) {
		pingpong_fail("clock_gettime", t0 < 0 ? t0 : t1);
		return;
	}
	/* One write, so that no kernel message splits the line. */
	len = append(line, 0, "# bench: ctxswitch_user roundtrips=");
	len = append(line, len, num(rounds));
	len = append(line, len, " ns_per_roundtrip=");
	len = append(line, len, num(div_u64(t1 - t0, rounds)));
	len = append(line, len, "\n");
	write(1, line, len);
}

int main(int argc, char **argv, char **envp)
{
	long rounds, at;
	int fd;

	/*
	 * Run again as a user-mode helper: the kmap_local suite's leak case
	 * returns to user space through this program.  Nothing to do.
	 */
	if (getpid() != 1)
		return 0;
	fd = open("/dev/console", O_RDWR, 0);
	if (fd >= 0) {
		dup2(fd, 0);
		dup2(fd, 1);
		dup2(fd, 2);
	}
	say("kmap-local-init: start\n");
	if (mount("proc", "/proc", "proc", 0, 0) == 0) {
		cat("/proc/meminfo");
		rounds = cmdline_value("kmap_local.pingpong=");
		at = cmdline_value("kmap_local.pingpong_at=");
		if (rounds > 0 && at > 0)
			pingpong_wait(at);
		if (rounds > 0)
			pingpong(rounds);
	}
	say("kmap-local-init: done\n");
	reboot(LINUX_REBOOT_CMD_RESTART);
	say("kmap-local-init: reboot failed\n");
	for (;;)
		sleep(1);
	return 0;
}
