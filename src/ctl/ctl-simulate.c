/* SPDX-License-Identifier: ISC */
/*
 * ctl-simulate.c: kmsauthzctl simulate, decisions on a bundle offline.
 *
 *   simulate --bundle FILE --principal ARN --action A --resource ARN
 *       [--source-ip IP] [--context KEY=VALUE]... [--time RFC3339]
 *       [--explain[=full]]
 *   simulate --bundle FILE --requests FILE.jsonl|- [--explain[=full]]
 *
 * One request: one JSON answer line; exit 0 ALLOW, 1 denied, 2 error.
 * An invalid request (bad principal, IP or time, duplicate context
 * names, whatever the cause) is an error: its invalid-request answer
 * line, with Error, and exit 2.
 * Many: one answer line per request line, in input order; exit 0 when
 * every line was answered.  A bundle that cannot be read or is invalid:
 * its errors on stderr, nothing on stdout, exit 2.  A request without
 * CurrentTime is decided at the clock's time when its line is read.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "ctl/ctl.h"
#include "engine/eval.h"
#include "engine/world.h"
#include "policy/bundle.h"
#include "policy/policy.h"
#include "policy/simreq.h"

#define SIM_MAX_LINE	(1024 * 1024)
#define SIM_MAX_REQUESTS_FILE	(1024ul * 1024 * 1024)

static int	sim_one(struct world *, struct json_object *, int, int *,
		    int *);
static int	sim_invalid(struct json_object *, int, const char *);
static int	sim_many(struct world *, const char *, int);

/* The bundle as a world, or NULL with every error on stderr. */
struct world *
ctl_bundle_world(const char *path)
{
	struct policy_diags	 d;
	struct bundle		*b = NULL;
	struct world		*w = NULL;
	char			*text;
	size_t			 len, i;

	if ((text = ctl_read_file(path, BUNDLE_MAX_BYTES, &len)) == NULL)
		return (NULL);
	policy_diags_init(&d);
	if (bundle_parse(text, len, 0, &b, &d) == 0)
		w = bundle_to_world(b, 1, &d);
	for (i = 0; i < d.n; i++)
		fprintf(stderr, "kmsauthzctl: %s: %s%s%s [%s]\n", path,
		    d.v[i].path, d.v[i].path[0] ? ": " : "", d.v[i].reason,
		    d.v[i].code);
	if (w == NULL && d.n == 0)
		fprintf(stderr, "kmsauthzctl: %s: cannot load the bundle\n",
		    path);
	policy_diags_free(&d);
	bundle_free(b);
	free(text);
	return (w);
}

/* The invalid-request answer line for id, with Error. */
static int
sim_invalid(struct json_object *id, int explain, const char *msg)
{
	struct eval_answer	 a;

	memset(&a, 0, sizeof(a));
	a.decision = EVAL_IMPLICIT_DENY;
	a.reason = EVAL_R_INVALID_REQUEST;
	return (ctl_json_print(policy_answer_json(id, &a, explain, msg)));
}

/*
 * Decide one request object and print its answer; *decision receives
 * the decision, *invalid 1 when the request was invalid.  Without a
 * CurrentTime the clock is read now, for this request.
 */
static int
sim_one(struct world *w, struct json_object *o, int explain, int *decision,
    int *invalid)
{
	struct policy_simreq	 sr;
	struct eval_answer	 a;
	struct eval_why		 why;
	struct json_object	*ans;
	struct value_time	 now;
	struct timespec		 ts;
	char			 err[256];

	clock_gettime(CLOCK_REALTIME, &ts);
	now.sec = ts.tv_sec;
	now.nsec = (int32_t)ts.tv_nsec;
	*decision = EVAL_IMPLICIT_DENY;
	*invalid = 1;
	if (policy_simreq_parse(o, &now, &sr, err, sizeof(err)) == -1)
		return (sim_invalid(sr.id, explain, err));
	sr.req.explain = explain != 0;
	if (explain)
		(void)eval_decide_why(w, &sr.req, &a, &why, explain == 2);
	else
		(void)eval_decide(w, &sr.req, &a);
	*decision = a.decision;
	*invalid = a.reason == EVAL_R_INVALID_REQUEST;
	/* The parser checks all the engine does; should the engine still
	 * refuse, the answer says so too. */
	ans = policy_answer_json(sr.id, &a, explain,
	    *invalid ? "the request is invalid" : NULL);
	if (ans != NULL && explain && json_object_object_add(ans,
	    "Explanation", policy_why_json(&why, explain == 2)) != 0) {
		json_object_put(ans);
		ans = NULL;
	}
	return (ctl_json_print(ans));
}

/* --explain (1) or --explain=full (2); -1 when the argument is not. */
int
ctl_explain_arg(const char *arg)
{
	if (arg == NULL)
		return (1);
	if (strcmp(arg, "full") == 0)
		return (2);
	fprintf(stderr, "kmsauthzctl: --explain takes no value or =full\n");
	return (-1);
}

static int
sim_many(struct world *w, const char *path, int explain)
{
	struct policy_diags	 d;
	struct json_object	*o, *id;
	FILE			*f;
	char			*line = NULL, err[256];
	size_t			 cap = 0, lineno = 0, i;
	ssize_t			 n;
	int			 rc = CTL_EXIT_OK, dec, inv;

	if (strcmp(path, "-") == 0)
		f = stdin;
	else if ((f = fopen(path, "r")) == NULL) {
		fprintf(stderr, "kmsauthzctl: %s: %s\n", path,
		    strerror(errno));
		return (CTL_EXIT_ERROR);
	}
	while ((n = getline(&line, &cap, f)) != -1) {
		lineno++;
		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = '\0';
		for (i = 0; i < (size_t)n && (line[i] == ' ' ||
		    line[i] == '\t'); i++)
			;
		if (i == (size_t)n)
			continue;		/* blank */
		if ((size_t)n > SIM_MAX_LINE) {
			o = NULL;
			snprintf(err, sizeof(err), "line longer than %d "
			    "bytes", SIM_MAX_LINE);
		} else {
			policy_diags_init(&d);
			o = policy_json_parse(line, (size_t)n,
			    POLICY_MAX_DEPTH, "", &d);
			if (o == NULL)
				snprintf(err, sizeof(err), "not valid JSON: "
				    "%s", d.n > 0 ? d.v[0].reason : "?");
			policy_diags_free(&d);
		}
		if (o != NULL && !json_object_is_type(o, json_type_object)) {
			json_object_put(o);
			o = NULL;
			snprintf(err, sizeof(err), "a request is a JSON "
			    "object");
		}
		if (o != NULL && !json_object_object_get_ex(o, "Id", NULL)) {
			/* The line number stands for an absent Id. */
			if (json_object_object_add(o, "Id",
			    json_object_new_int64((int64_t)lineno)) != 0) {
				rc = CTL_EXIT_ERROR;
				json_object_put(o);
				break;
			}
		}
		if (o != NULL) {
			if (sim_one(w, o, explain, &dec, &inv) == -1)
				rc = CTL_EXIT_ERROR;
			json_object_put(o);
			continue;
		}
		id = json_object_new_int64((int64_t)lineno);
		if (sim_invalid(id, explain, err) == -1)
			rc = CTL_EXIT_ERROR;
		json_object_put(id);
	}
	if (ferror(f)) {
		fprintf(stderr, "kmsauthzctl: %s: read error\n", path);
		rc = CTL_EXIT_ERROR;
	}
	if (fflush(stdout) != 0)
		rc = CTL_EXIT_ERROR;
	free(line);
	if (f != stdin)
		fclose(f);
	return (rc);
}

int
ctl_simulate(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "bundle", required_argument, NULL, 'b' },
		{ "principal", required_argument, NULL, 'p' },
		{ "action", required_argument, NULL, 'a' },
		{ "resource", required_argument, NULL, 'r' },
		{ "source-ip", required_argument, NULL, 'i' },
		{ "context", required_argument, NULL, 'c' },
		{ "time", required_argument, NULL, 't' },
		{ "explain", optional_argument, NULL, 'e' },
		{ "requests", required_argument, NULL, 'q' },
		{ NULL, 0, NULL, 0 }
	};
	struct json_object	*o = NULL, *ctx = NULL;
	struct world		*w;
	const char		*bundle = NULL, *principal = NULL;
	const char		*action = NULL, *resource = NULL, *ip = NULL;
	const char		*tm = NULL, *requests = NULL;
	char			*eq, *k, dup[256] = "";
	int			 ch, explain = 0, rc, dec, inv, usage = 0;

	optind = 1;
	if ((ctx = json_object_new_object()) == NULL)
		return (CTL_EXIT_ERROR);
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'b':
			bundle = optarg;
			break;
		case 'p':
			principal = optarg;
			break;
		case 'a':
			action = optarg;
			break;
		case 'r':
			resource = optarg;
			break;
		case 'i':
			ip = optarg;
			break;
		case 't':
			tm = optarg;
			break;
		case 'e':
			if ((explain = ctl_explain_arg(optarg)) == -1)
				usage = 1;
			break;
		case 'q':
			requests = optarg;
			break;
		case 'c':
			if ((eq = strchr(optarg, '=')) == NULL ||
			    eq == optarg) {
				fprintf(stderr, "kmsauthzctl: --context "
				    "takes KEY=VALUE\n");
				usage = 1;
				break;
			}
			if ((k = strndup(optarg, (size_t)(eq - optarg))) ==
			    NULL) {
				usage = 1;
				break;
			}
			/* A duplicate is an invalid request, as in JSONL
			 * (answered once the bundle is loaded). */
			if (json_object_object_get_ex(ctx, k, NULL)) {
				if (dup[0] == '\0')
					snprintf(dup, sizeof(dup), "duplicate "
					    "context names %.64s and %.64s", k,
					    k);
			} else
				json_object_object_add(ctx, k,
				    json_object_new_string(eq + 1));
			free(k);
			break;
		default:
			usage = 1;
			break;
		}
	}
	if (!usage && (optind != argc || bundle == NULL ||
	    (requests != NULL && (principal || action || resource || ip ||
	    tm || json_object_object_length(ctx) > 0 || dup[0] != '\0')) ||
	    (requests == NULL && (!principal || !action || !resource)))) {
		fprintf(stderr, "usage: kmsauthzctl simulate --bundle FILE "
		    "--principal ARN --action A --resource ARN [--source-ip "
		    "IP] [--context KEY=VALUE]... [--time RFC3339] "
		    "[--explain[=full]]\n       kmsauthzctl simulate --bundle FILE "
		    "--requests FILE.jsonl|- [--explain[=full]]\n");
		usage = 1;
	}
	if (usage) {
		json_object_put(ctx);
		return (CTL_EXIT_ERROR);
	}
	if ((w = ctl_bundle_world(bundle)) == NULL) {
		json_object_put(ctx);
		return (CTL_EXIT_ERROR);
	}
	if (requests != NULL) {
		json_object_put(ctx);
		rc = sim_many(w, requests, explain);
		world_unref(w);
		return (rc);
	}
	if (dup[0] != '\0') {
		json_object_put(ctx);
		world_unref(w);
		(void)sim_invalid(NULL, explain, dup);
		return (CTL_EXIT_ERROR);
	}
	/* One request: the same object a JSONL line would hold. */
	if ((o = json_object_new_object()) == NULL ||
	    json_object_object_add(o, "Principal",
	    json_object_new_string(principal)) != 0 ||
	    json_object_object_add(o, "Action",
	    json_object_new_string(action)) != 0 ||
	    json_object_object_add(o, "Resource",
	    json_object_new_string(resource)) != 0 ||
	    (ip != NULL && json_object_object_add(o, "SourceIp",
	    json_object_new_string(ip)) != 0) ||
	    (tm != NULL && json_object_object_add(o, "CurrentTime",
	    json_object_new_string(tm)) != 0) ||
	    json_object_object_add(o, "Context", ctx) != 0) {
		json_object_put(o);
		world_unref(w);
		return (CTL_EXIT_ERROR);
	}
	rc = sim_one(w, o, explain, &dec, &inv);
	json_object_put(o);
	world_unref(w);
	if (rc == -1 || inv)
		return (CTL_EXIT_ERROR);
	return (dec == EVAL_ALLOW ? CTL_EXIT_OK : CTL_EXIT_NO);
}
