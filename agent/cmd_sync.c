/*
 * posagent sync [--push] [--pull]: one P-job cycle now. Uploads everything
 * that can go, then downloads every change (no long poll). A request is
 * tried at most 3 times, honouring Retry-After up to 10 s. Exit 0 when
 * every request got a final answer, 69 when HQ could not be reached or
 * refused; nothing is lost either way.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "agent/cli.h"
#include "common/log.h"
#include "common/pjob.h"
#include "common/upload.h"

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

int cmd_sync(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{"push", no_argument, NULL, 'u'}, {"pull", no_argument, NULL, 'd'}, {"verbose", no_argument, NULL, 'v'},
		{"json", no_argument, NULL, 'j'}, {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
	const char *syn = "posagent sync [--push] [--pull] [--verbose]";
	struct store *st = NULL;
	struct hq_client *hq = NULL;
	struct pjob j;
	struct pa_err e;
	struct sigaction sa;
	bool push = false, pull = false;
	int64_t waiting = 0;
	int ch, rc = 0;

	memset(&e, 0, sizeof(e));
	memset(&j, 0, sizeof(j));
	log_set_verbose(0);
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "hv", opts, NULL)) != -1) {
		switch (ch) {
		case 'u': push = true; break;
		case 'd': pull = true; break;
		case 'v': log_set_verbose(2); log_set_requests(1); break;
		case 'j': c->json = true; break;
		case 'h':
			printf("usage: %s\nOne upload and download cycle now; both when neither flag is given.\n", syn);
			return 0;
		default: return cli_usage(c, syn, "unknown option: %s", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return cli_usage(c, syn, "unexpected argument: %s", argv[optind]);
	if (!push && !pull)
		push = pull = true;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	if ((rc = cli_open(c, &st, &e)) || (rc = cli_hq(c, &stop_flag, &hq, &e)))
		goto fail;
	pjob_init(&j, st, hq, &c->cfg, &stop_flag);
	j.max_tries = 3;
	j.max_wait = 10;
	if (push && (rc = pjob_push(&j, true, &e)))
		goto fail;
	if (pull && !j.unreachable && (rc = pjob_pull(&j, 0, &e)))
		goto fail;
	if ((rc = up_waiting(st, &waiting, &e)))
		goto fail;
	if (c->json) {
		cJSON *doc = cJSON_CreateObject();
		cJSON_AddNumberToObject(doc, "uploaded", j.uploaded);
		cJSON_AddNumberToObject(doc, "rejected", j.rejected);
		cJSON_AddNumberToObject(doc, "pending", (double)waiting);
		cJSON_AddNumberToObject(doc, "changes_applied", j.applied);
		if (j.unreachable || stop_flag) {
			cJSON *err = cJSON_AddObjectToObject(doc, "error");
			cJSON_AddStringToObject(err, "code", stop_flag ? "interrupted" : "hq_unreachable");
			cJSON_AddStringToObject(err, "message", stop_flag ? "interrupted" : j.last_error);
			cJSON_AddNullToObject(err, "field");
		}
		cli_print_json(doc);
		cJSON_Delete(doc);
	} else {
		printf("uploaded %d, rejected %d, still pending %lld, changes applied %d\n", j.uploaded, j.rejected,
		       (long long)waiting, j.applied);
	}
	if (stop_flag) {
		fprintf(stderr, "posagent: interrupted; nothing was lost\n");
		rc = EX_INTERRUPTED;
	} else if (j.unreachable) {
		fprintf(stderr, "posagent: HQ unreachable or refusing: %s (nothing was lost)\n", j.last_error);
		rc = EX_UNAVAILABLE;
	}
	goto cleanup;
fail:
	rc = cli_fail(c, &e);
cleanup:
	hq_client_free(hq);
	store_close(st);
	return rc;
}
