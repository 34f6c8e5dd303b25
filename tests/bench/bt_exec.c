/*
 * bt_exec: runs one command and says what it cost.
 *
 *   bt_exec [-m [-S FILE]] [-i IN] [-o OUT] [-e ERR] -- COMMAND [ARGS...]
 *
 * Starts COMMAND (stdin from IN, default /dev/null; stdout to OUT, default
 * /dev/null; stderr to ERR, default inherited), waits for it and prints one line:
 *
 *   WALL_US USER_US SYS_US MAXRSS_KB EXIT
 *
 * WALL_US runs from just before fork() to the return of wait4() on
 * CLOCK_MONOTONIC: process start to exit, everything the command does
 * included (a durable commit too). USER/SYS/MAXRSS are the child's own
 * rusage (its threads included). EXIT is the exit status, or 128+signal.
 * The timer's own start-up is outside the measurement.
 *
 * -m also samples /proc/PID/status every 20 ms and appends the largest
 * RssAnon and RssFile seen (kB): how much of the peak is the program's own
 * memory (heap, stacks) and how much is mapped files (shared library code
 * and data, shared with every other process using them).
 * -S FILE (with -m) writes to FILE, for the sample with the largest RSS,
 * the resident kB of each mapping name of /proc/PID/smaps ([heap], each
 * library), largest first: what the peak is made of.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAXMAP 128

static char map_name[MAXMAP][160], peak_name[MAXMAP][160];
static long map_rss[MAXMAP], peak_rss[MAXMAP];
static int nmap, npeak;

/* Resident kB per mapping name of pid, into map_*; returns the total. */
static long smaps(pid_t pid)
{
	char path[64], line[512], name[160] = "[anon]";
	long v, total = 0;
	FILE *f;

	nmap = 0;
	snprintf(path, sizeof(path), "/proc/%d/smaps", (int)pid);
	if (!(f = fopen(path, "re")))
		return 0;
	while (fgets(line, sizeof(line), f)) {
		unsigned long a, b;
		int off = 0;
		if (sscanf(line, "%lx-%lx %*s %*s %*s %*s %n", &a, &b, &off) == 2 && off > 0) {
			char *n = line + off;
			n[strcspn(n, "\n")] = '\0';
			snprintf(name, sizeof(name), "%s", *n ? n : "[anon]");
		} else if (sscanf(line, "Rss: %ld", &v) == 1 && v > 0) {
			int i;
			for (i = 0; i < nmap && strcmp(map_name[i], name) != 0; i++)
				;
			if (i == nmap && nmap < MAXMAP) {
				snprintf(map_name[nmap], sizeof(map_name[0]), "%s", name);
				map_rss[nmap++] = 0;
			}
			if (i < nmap)
				map_rss[i] += v;
			total += v;
		}
	}
	fclose(f);
	return total;
}

/* Largest RssAnon and RssFile of pid so far, in kB. */
static void sample(pid_t pid, long *anon, long *file)
{
	char path[64], line[256];
	FILE *f;
	long v;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if (!(f = fopen(path, "re")))
		return;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "RssAnon: %ld", &v) == 1 && v > *anon)
			*anon = v;
		else if (sscanf(line, "RssFile: %ld", &v) == 1 && v > *file)
			*file = v;
	}
	fclose(f);
}

static long long now_us(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long long)t.tv_sec * 1000000LL + t.tv_nsec / 1000;
}

int main(int argc, char **argv)
{
	const char *in = "/dev/null", *out = "/dev/null", *err = NULL, *smaps_out = NULL;
	long peak = 0;
	struct rusage ru;
	long long t0, t1;
	int i = 1, status = 0, fdi, fdo, fde = -1, mem = 0;
	long anon = 0, file = 0;
	pid_t pid, got;
	sigset_t chld, old;

	for (; i < argc && strcmp(argv[i], "--") != 0; i++) {
		if (strcmp(argv[i], "-m") == 0)
			mem = 1;
		else if (strcmp(argv[i], "-i") == 0 && i + 1 < argc)
			in = argv[++i];
		else if (strcmp(argv[i], "-o") == 0 && i + 1 < argc)
			out = argv[++i];
		else if (strcmp(argv[i], "-e") == 0 && i + 1 < argc)
			err = argv[++i];
		else if (strcmp(argv[i], "-S") == 0 && i + 1 < argc)
			smaps_out = argv[++i];
		else {
			fprintf(stderr, "usage: bt_exec [-m [-S FILE]] [-i IN] [-o OUT] [-e ERR] -- COMMAND [ARGS...]\n");
			return 64;
		}
	}
	if (i + 1 >= argc) {
		fprintf(stderr, "usage: bt_exec [-m [-S FILE]] [-i IN] [-o OUT] [-e ERR] -- COMMAND [ARGS...]\n");
		return 64;
	}
	fdi = open(in, O_RDONLY | O_CLOEXEC);
	fdo = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (err)
		fde = open(err, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (fdi < 0 || fdo < 0 || (err && fde < 0)) {
		perror("bt_exec: open");
		return 66;
	}
	/* SIGCHLD blocked, so that -m's wait between samples ends the moment
	 * the child exits (sigtimedwait), not up to 20 ms later. */
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sigprocmask(SIG_BLOCK, &chld, &old);
	fflush(NULL);
	t0 = now_us();
	pid = fork();
	if (pid < 0) {
		perror("bt_exec: fork");
		return 71;
	}
	if (pid == 0) {
		sigprocmask(SIG_SETMASK, &old, NULL);
		dup2(fdi, 0);
		dup2(fdo, 1);
		if (fde >= 0)
			dup2(fde, 2);
		execvp(argv[i + 1], argv + i + 1);
		perror("bt_exec: exec");
		_exit(127);
	}
	for (;;) {
		got = wait4(pid, &status, mem ? WNOHANG : 0, &ru);
		if (got == pid)
			break;
		if (got < 0 && errno != EINTR) {
			perror("bt_exec: wait4");
			return 71;
		}
		if (got == 0) {
			struct timespec d = {0, 20 * 1000 * 1000};
			sample(pid, &anon, &file);
			if (smaps_out) {
				long t = smaps(pid);
				if (t > peak) {
					peak = t;
					npeak = nmap;
					memcpy(peak_name, map_name, sizeof(map_name));
					memcpy(peak_rss, map_rss, sizeof(map_rss));
				}
			}
			sigtimedwait(&chld, NULL, &d);
		}
	}
	t1 = now_us();
	printf("%lld %lld %lld %ld %d", t1 - t0, (long long)ru.ru_utime.tv_sec * 1000000LL + ru.ru_utime.tv_usec,
	       (long long)ru.ru_stime.tv_sec * 1000000LL + ru.ru_stime.tv_usec, ru.ru_maxrss,
	       WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
	if (mem)
		printf(" %ld %ld", anon, file);
	putchar('\n');
	if (smaps_out) {
		FILE *f = fopen(smaps_out, "we");
		if (f) {
			for (int k = 0; k < npeak; k++)
				for (int j = k + 1; j < npeak; j++)
					if (peak_rss[j] > peak_rss[k]) {
						char tn[160];
						long tv = peak_rss[k];
						memcpy(tn, peak_name[k], sizeof(tn));
						memcpy(peak_name[k], peak_name[j], sizeof(tn));
						memcpy(peak_name[j], tn, sizeof(tn));
						peak_rss[k] = peak_rss[j];
						peak_rss[j] = tv;
					}
			for (int k = 0; k < npeak; k++)
				fprintf(f, "%ld %s\n", peak_rss[k], peak_name[k]);
			fclose(f);
		}
	}
	return 0;
}
