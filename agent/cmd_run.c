/*
 * posagent run: the service. Two threads, each with its own database
 * connection and HQ connection, so that a long poll waiting for changes
 * never holds an upload up, and two helpers with a connection each:
 *   uploader   - sleeps on the wake-up socket (common/wake.h): a command
 *                that commits a record wakes it at once; a full pass at
 *                least every idle_interval; backoff on failure, which the
 *                downloader ends when HQ answers again. Without the socket
 *                (a database path too long for it) it watches PRAGMA
 *                data_version every 250 ms instead.
 *   downloader - long-polls HQ's changes and applies them.
 *   metrics    - writes [metrics] textfile for node_exporter every
 *                [metrics] interval (and keeps HQ request counts).
 *   lookup     - answers `customer search` from a warm connection over
 *                the socket DATABASE-lookup (common/lookup.h).
 * The main thread only waits for signals: SIGTERM/SIGINT stop all within
 * 2 s, SIGHUP re-reads the configuration and restarts the threads with
 * it; a worker that starts running or ends tells it with SIGUSR1. An idle
 * service sleeps: every wait, transfers included, polls the stop flag's
 * descriptor (util_stop_attach) with its own deadline, and the main thread
 * wakes for a signal or the systemd watchdog (svc_tick), not on a timer. Under systemd it tells
 * the manager how things stand (common/svc.h: READY, RELOADING, STATUS,
 * WATCHDOG). `run --check` checks what a start would and exits: the unit's
 * ExecReload= runs it first, so a broken configuration fails the reload.
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agent/cli.h"
#include "common/log.h"
#include "common/lookup.h"
#include "common/metrics.h"
#include "common/pjob.h"
#include "common/retain.h"
#include "common/svc.h"
#include "common/util.h"
#include "common/wake.h"

static int got_term, got_hup; /* set by the main thread from sigtimedwait */
static pthread_t main_thread;  /* the one that waits for signals */

/* Wakes the main thread (SIGUSR1, blocked everywhere and taken by its
 * sigtimedwait): a worker started running or ended. */
static void tell_main(void)
{
	pthread_kill(main_thread, SIGUSR1);
}

/* What each worker thread gets. */
struct worker {
	const struct cfg *cfg;
	struct wake *wake;           /* the service's wake-up socket, or NULL */
	volatile sig_atomic_t *stop; /* set by main: end now */
	int rc;                      /* local failure status, 0 when none */
	volatile int running;        /* its store and HQ client are open */
	volatile int done;           /* the thread has returned (or never started) */
	bool started;                /* thread is a thread to join */
	pthread_t thread;
};

/* Opens this thread's store and HQ client. */
static int open_both(struct worker *w, struct store **st, struct hq_client **hq)
{
	struct pa_err e;
	char msg[512];

	if (store_open(w->cfg->database, false, st, &e)) {
		log_warn("%s", e.message);
		return e.status;
	}
	store_identity(*st, w->cfg->store, w->cfg->reg, w->cfg->currency);
	if (hq_client_new(w->cfg, w->stop, hq, msg, sizeof(msg))) {
		log_warn("%s", msg);
		return EX_CONFIG;
	}
	return 0;
}

/* PRAGMA data_version: changes when another connection commits. */
static int64_t data_version(struct store *st)
{
	struct pa_err e;
	int64_t v = 0;

	/* a failed read counts as a change: the caller looks again */
	if (store_query_i(st, "PRAGMA data_version", 0, 0, 0, &v, &e) != 0)
		return -1;
	return v;
}

/* Waits for the next pass: a wake (any kind) or idle_interval. Without a
 * wake-up socket, polls PRAGMA data_version every 250 ms (*seen: the last
 * value seen). */
static void await_work(struct worker *w, struct store *st, int64_t *seen)
{
	double until = util_mono() + (double)w->cfg->idle_interval;

	if (w->wake) {
		wake_wait(w->wake, (double)w->cfg->idle_interval, true, w->stop);
		return;
	}
	*seen = data_version(st); /* our own commits are not news */
	while (!*w->stop && util_mono() < until && data_version(st) == *seen)
		util_sleep(0.25, w->stop);
}

/* [retention]: once at start, then hourly, between upload passes. */
static void retention_tick(struct worker *w, struct store *st, double *last)
{
	struct ret_plan done;
	struct pa_err e;
	double now = util_mono();

	if (w->cfg->keep_days <= 0 || (*last > 0 && now - *last < 3600))
		return;
	*last = now;
	if (ret_apply(st, w->cfg->keep_days, time(NULL), w->stop, &done, &e))
		log_warn("retention: %s", e.message);
	else if (done.txns || done.days)
		log_info("retention: dropped %lld transactions of %lld posted days before %s", (long long)done.txns,
		         (long long)done.days, done.cutoff);
}

static void *uploader(void *arg)
{
	struct worker *w = arg;
	struct store *st = NULL;
	struct hq_client *hq = NULL;
	struct pjob j;
	struct pa_err e;
	int64_t seen = -1;
	double last_retention = 0;

	if ((w->rc = open_both(w, &st, &hq)))
		goto cleanup;
	w->running = 1;
	tell_main();
	while (!*w->stop) {
		pjob_init(&j, st, hq, w->cfg, w->stop);
		j.wake = w->wake;
		if (pjob_push(&j, false, &e)) {
			log_warn("upload: %s", e.message);
			util_sleep(1, w->stop);
		}
		retention_tick(w, st, &last_retention);
		svc_publish(st);
		await_work(w, st, &seen);
	}
cleanup:
	hq_client_free(hq);
	store_close(st);
	w->done = 1;
	tell_main();
	return NULL;
}

/* What a start needs, checked once: the configuration, the database, and
 * the [hq] settings with the token and CA files (an HQ client is made and
 * freed; nothing is sent). Returns 0 or the status with *e. */
static int start_checks(struct cli *c, volatile sig_atomic_t *stop, struct pa_err *e)
{
	struct store *st = NULL;
	struct hq_client *probe = NULL;
	int rc;

	if (!(rc = cli_open(c, &st, e)))
		rc = cli_hq(c, stop, &probe, e);
	store_close(st);
	hq_client_free(probe);
	return rc;
}

/* SIGHUP: re-reads the configuration into c->cfg, or keeps the old one
 * and puts why in refused (a one-line message; "" when reloaded). */
static void reload(struct cli *c, char *refused, size_t len)
{
	struct cli fresh = *c;
	struct pa_err e;
	char msg[512];

	memset(&e, 0, sizeof(e));
	fresh.cfg_loaded = false; /* read the file again */
	refused[0] = '\0';
	svc_reloading();
	if (cli_config(&fresh, &e) || cfg_check_hq(&fresh.cfg, msg, sizeof(msg))) {
		snprintf(refused, len, "%s", e.message[0] ? e.message : msg);
		log_error("SIGHUP: configuration not reloaded, keeping the old one: %s", refused);
	} else {
		c->cfg = fresh.cfg;
		log_info("configuration reloaded");
	}
}

/* Tells systemd once both workers run: READY=1 the first time, after a
 * reload READY=1 with the reload's outcome. */
static void tell_ready(const struct worker *up, const struct worker *down, int *told, const char *refused)
{
	if (*told || !up->running || !down->running)
		return;
	if (refused == NULL)
		svc_ready();
	else
		svc_reloaded(refused[0] ? refused : NULL);
	*told = 1;
}

static void *downloader(void *arg)
{
	struct worker *w = arg;
	struct store *st = NULL;
	struct hq_client *hq = NULL;
	struct pjob j;
	struct pa_err e;

	if ((w->rc = open_both(w, &st, &hq)))
		goto cleanup;
	/* What it writes comes from HQ's feed and is read again from the
	 * stored cursor if a power cut loses it: no fsync on the account
	 * number's way to the cashier. */
	if ((w->rc = store_set_durable(st, false, &e))) {
		log_warn("%s", e.message);
		goto cleanup;
	}
	w->running = 1;
	tell_main();
	while (!*w->stop) {
		pjob_init(&j, st, hq, w->cfg, w->stop);
		j.wake = w->wake; /* to post WAKE_HQ; it never waits on it */
		if (pjob_pull(&j, w->cfg->long_poll, &e)) {
			log_warn("download: %s", e.message);
			util_sleep(1, w->stop);
		}
		if (w->cfg->long_poll == 0)
			util_sleep(1, w->stop); /* no long poll: do not spin */
	}
cleanup:
	hq_client_free(hq);
	store_close(st);
	w->done = 1;
	tell_main();
	return NULL;
}

/* The third thread: the metrics for fleet monitoring (common/metrics). */
static void *metrics(void *arg)
{
	struct worker *w = arg;

	met_loop(w->cfg, w->stop);
	w->done = 1;
	tell_main();
	return NULL;
}

/* The fourth thread: customer searches asked by commands (common/lookup). */
static void *lookup(void *arg)
{
	struct worker *w = arg;

	lookup_loop(w->cfg, w->stop);
	w->done = 1;
	tell_main();
	return NULL;
}

/* Starts fn(w) in a thread. A thread that cannot start (no memory, a
 * thread limit) is logged and counts as a worker that ended with EX_OSERR:
 * without the uploader or the downloader the service stops (systemd
 * restarts it); without the metrics writer or the lookup it goes on. */
static void start_one(struct worker *w, void *(*fn)(void *), const char *name)
{
	int err = pthread_create(&w->thread, NULL, fn, w);

	w->started = err == 0;
	if (err) {
		log_error("cannot start the %s thread: %s", name, strerror(err));
		w->rc = EX_OSERR;
		w->done = 1;
	}
}

/* Starts the uploader, the downloader, the metrics writer and the lookup
 * with cfg and the wake-up socket (NULL: none); all end when *stop. */
static void start_workers(struct worker *up, struct worker *down, struct worker *met, struct worker *look,
                          const struct cfg *cfg, struct wake *wake, volatile sig_atomic_t *stop)
{
	memset(up, 0, sizeof(*up));
	memset(down, 0, sizeof(*down));
	memset(met, 0, sizeof(*met));
	memset(look, 0, sizeof(*look));
	up->cfg = down->cfg = met->cfg = look->cfg = cfg;
	up->wake = down->wake = wake;
	up->stop = down->stop = met->stop = look->stop = stop;
	start_one(up, uploader, "upload");
	start_one(down, downloader, "download");
	start_one(met, metrics, "metrics");
	start_one(look, lookup, "lookup");
}

/* Joins w's thread, if it started. */
static void join_one(struct worker *w)
{
	if (w->started)
		pthread_join(w->thread, NULL);
	w->started = false;
}

/* Waits in the main thread until SIGTERM/SIGINT (got_term), SIGHUP
 * (got_hup) or the end of the uploader or the downloader, telling systemd
 * once both run (reloaded: see tell_ready) and feeding its watchdog. */
static void watch(const sigset_t *sigs, const struct worker *up, const struct worker *down, const char *reloaded)
{
	int told = 0;

	while (!got_term && !got_hup && !up->done && !down->done) {
		double secs = svc_tick();
		struct timespec tick = {(time_t)secs, (long)((secs - (double)(time_t)secs) * 1e9)};
		int sig;
		tell_ready(up, down, &told, reloaded);
		if (told)
			svc_watchdog();
		sig = sigtimedwait(sigs, NULL, &tick);
		if (sig == SIGHUP)
			got_hup = 1;
		else if (sig == SIGINT || sig == SIGTERM)
			got_term = 1;
	}
}

/* The service, once the start checks passed: the workers, restarted with
 * a new configuration on SIGHUP, until SIGTERM/SIGINT (then the workers'
 * status) or a worker's local failure (then its status, for systemd to
 * restart us). */
static int serve(struct cli *c, const sigset_t *sigs, volatile sig_atomic_t *stop)
{
	struct worker up, down, met, look;
	struct wake *wake = NULL;
	char msg[512], refused[512];
	const char *reloaded = NULL; /* NULL: first start; else the reload's outcome */
	int rc;

	if (wake_open(c->cfg.database, &wake, msg, sizeof(msg)) != 0)
		log_warn("no wake-up socket (polling the database instead): %s", msg);
	else if (msg[0])
		log_warn("%s", msg);
	if (util_stop_attach(stop) != 0)
		log_warn("no stop descriptor (%s): the threads look at their stop flag twice a second", strerror(errno));
	log_info("service started for store %s register %s", c->cfg.store, c->cfg.reg);
	for (;;) {
		util_stop_reset(stop);
		start_workers(&up, &down, &met, &look, &c->cfg, wake, stop);
		watch(sigs, &up, &down, reloaded);
		util_stop_raise(stop);
		if (got_term)
			svc_stopping();
		join_one(&up);
		join_one(&down);
		join_one(&met);
		join_one(&look);
		if (got_term || !got_hup)
			break;
		got_hup = 0;
		reload(c, refused, sizeof(refused));
		reloaded = refused;
	}
	if (got_term) {
		log_info("service stopped");
		rc = up.rc ? up.rc : down.rc;
	} else { /* a worker ended on its own: let systemd restart us */
		log_error("service stopping after a local failure");
		rc = up.rc ? up.rc : down.rc ? down.rc : 1;
		svc_failed(rc, "stopped after a local failure (see the log)");
	}
	wake_close(wake);
	util_stop_detach();
	return rc;
}

int cmd_run(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{"check", no_argument, NULL, 'C'}, {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
	const char *syn = "posagent run [--check]";
	static volatile sig_atomic_t stop_threads;
	struct pa_err e;
	sigset_t sigs;
	int ch, rc = 0, check = 0;

	memset(&e, 0, sizeof(e));
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (ch == 'h') {
			printf("usage: %s\nThe service: uploads and downloads until SIGTERM.\n"
			       "  --check  check what a start needs (configuration, database, [hq]) and exit\n", syn);
			return 0;
		}
		if (ch == 'C') {
			check = 1;
			continue;
		}
		return cli_usage(c, syn, "unknown option: %s", argv[optind - 1]);
	}
	if (optind < argc)
		return cli_usage(c, syn, "unexpected argument: %s", argv[optind]);
	/* The signals are taken by the main thread alone, with sigtimedwait:
	 * blocked here, before the workers exist, so they inherit the mask. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGHUP);
	sigaddset(&sigs, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	main_thread = pthread_self();
	signal(SIGPIPE, SIG_IGN);
	/* Check everything once before starting: a broken setup exits at once
	 * with its code (systemd shows why: the start fails, STATUS= says it). */
	if ((rc = start_checks(c, &stop_threads, &e))) {
		if (!check)
			svc_failed(rc, e.message);
		return cli_fail(c, &e);
	}
	if (check) {
		printf("configuration %s: ready to run\n", c->cfg.path);
		return 0;
	}
	return serve(c, &sigs, &stop_threads);
}
