/* SPDX-License-Identifier: ISC */
/*
 * ctl-check.c: the online query commands of kmsauthzctl, through
 * libkmsauthz: check (the same JSON answer line as simulate), ping and
 * status.  Exit 0 allowed/ok, 1 denied, 2 usage, connection or protocol
 * error (which is never printed as an answer), or an invalid-request
 * answer (printed; simulate exits 2 for it too).
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "kmsauthz.h"
#include "ctl/ctl.h"
#include "ctl/ctl-admin.h"
#include "engine/eval.h"
#include "engine/value.h"
#include "policy/simreq.h"


static int	ctl_check_timeout(const char *, int *);
static int	ctl_check_generation(const char *, uint64_t *);
static int	ctl_online_opts(int, char **, const char *, const char **,
		    int *);
static struct json_object *ctl_check_answer_json(
		    const struct kmsauthz_answer *, int);

static int
ctl_check_timeout(const char *s, int *msp)
{
	char	*end;
	long	 v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < 0 || v > INT_MAX) {
		fprintf(stderr, "kmsauthzctl: --timeout %s: not a number of "
		    "milliseconds\n", s);
		return (-1);
	}
	*msp = (int)v;
	return (0);
}

/* A generation, 1 to 2^64-1, plain decimal. */
static int
ctl_check_generation(const char *s, uint64_t *genp)
{
	char			*end;
	unsigned long long	 v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || *s < '0' ||
	    *s > '9' || v == 0) {
		fprintf(stderr, "kmsauthzctl: --min-generation %s: not a "
		    "generation (1 or more)\n", s);
		return (-1);
	}
	*genp = v;
	return (0);
}

/* Connects to the query socket (NULL: the default); -1 after a message. */
int
ctl_check_connect(const char *sock, int timeout_ms, struct kmsauthz **hp)
{
	int	err;

	if (sock == NULL)
		sock = kmsauthz_default_socket();
	if ((err = kmsauthz_connect(hp, sock, timeout_ms)) != 0) {
		if (err == KMSAUTHZ_ECONNECT)
			ctl_connect_error(sock, errno);
		else
			fprintf(stderr, "kmsauthzctl: %s: %s\n", sock,
			    kmsauthz_strerror(err));
		return (-1);
	}
	return (0);
}

static struct json_object *
ctl_check_answer_json(const struct kmsauthz_answer *a, int explain)
{
	struct json_object		*o, *arr, *m;
	const struct kmsauthz_statement	*st;
	const char			*d, *r;
	size_t				 i;

	d = kmsauthz_decision_name(a->decision);
	r = kmsauthz_reason_name(a->reason);
	if (d == NULL || r == NULL || (o = json_object_new_object()) == NULL)
		return (NULL);
	json_object_object_add(o, "Decision", json_object_new_string(d));
	json_object_object_add(o, "Reason", json_object_new_string(r));
	if (!explain)
		return (o);
	if ((arr = json_object_new_array()) == NULL) {
		json_object_put(o);
		return (NULL);
	}
	json_object_object_add(o, "MatchedStatements", arr);
	for (i = 0; i < a->nstatements; i++) {
		st = &a->statements[i];
		if ((m = json_object_new_object()) == NULL) {
			json_object_put(o);
			return (NULL);
		}
		json_object_array_add(arr, m);
		json_object_object_add(m, "Source",
		    json_object_new_string(st->source));
		json_object_object_add(m, "Index",
		    json_object_new_int64(st->index));
		if (st->has_sid)
			json_object_object_add(m, "Sid",
			    json_object_new_string(st->sid));
	}
	if (a->truncated)
		json_object_object_add(o, "MatchedTruncated",
		    json_object_new_boolean(1));
	return (o);
}

/* What a check is about, from its options (into the caller's storage);
 * 0, or -1 after a usage message. */
struct ctl_check_args {
	struct kmsauthz_request	 req;
	struct kmsauthz_context	 ctx[KMSAUTHZ_MAX_CONTEXT];
	uint8_t			 ipb[16];
	const char		*sock;
	int			 timeout_ms;
	int			 explain;	/* 0, 1, 2 =full */
	uint64_t		 min_gen;	/* 0: none */
};

static int
ctl_check_parse(int argc, char **argv, struct ctl_check_args *ca)
{
	static const struct option opts[] = {
		{ "principal", required_argument, NULL, 'p' },
		{ "action", required_argument, NULL, 'a' },
		{ "resource", required_argument, NULL, 'r' },
		{ "source-ip", required_argument, NULL, 'i' },
		{ "context", required_argument, NULL, 'c' },
		{ "time", required_argument, NULL, 't' },
		{ "explain", optional_argument, NULL, 'e' },
		{ "socket", required_argument, NULL, 's' },
		{ "timeout", required_argument, NULL, 'T' },
		{ "min-generation", required_argument, NULL, 'g' },
		{ NULL, 0, NULL, 0 }
	};
	struct kmsauthz_request	*rq = &ca->req;
	struct value_ip		 ip;
	struct value_time	 tm;
	char			*eq;
	size_t			 nctx = 0, i;
	int			 ch, usage = 0;

	memset(ca, 0, sizeof(*ca));
	ca->timeout_ms = CTL_CHECK_TIMEOUT_MS;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'p':
			rq->principal = optarg;
			break;
		case 'a':
			rq->action = optarg;
			break;
		case 'r':
			rq->resource = optarg;
			break;
		case 'i':
			/* The wire carries 4 or 16 raw bytes only. */
			if (value_ip_parse(optarg, strlen(optarg), 0,
			    &ip) == -1) {
				fprintf(stderr, "kmsauthzctl: --source-ip %s: "
				    "not an IPv4 or IPv6 address\n", optarg);
				usage = 1;
				break;
			}
			rq->source_ip_len = ip.family == 4 ? 4 : 16;
			memcpy(ca->ipb, ip.addr, rq->source_ip_len);
			rq->source_ip = ca->ipb;
			break;
		case 'c':
			if ((eq = strchr(optarg, '=')) == NULL ||
			    eq == optarg) {
				fprintf(stderr, "kmsauthzctl: --context "
				    "takes KEY=VALUE\n");
				usage = 1;
				break;
			}
			if (nctx == KMSAUTHZ_MAX_CONTEXT) {
				fprintf(stderr, "kmsauthzctl: more than %d "
				    "--context pairs\n", KMSAUTHZ_MAX_CONTEXT);
				usage = 1;
				break;
			}
			*eq = '\0';
			for (i = 0; i < nctx; i++) {
				if (strcmp(ca->ctx[i].key, optarg) == 0)
					break;
			}
			if (i < nctx) {
				fprintf(stderr, "kmsauthzctl: --context %s "
				    "given twice\n", optarg);
				usage = 1;
				break;
			}
			ca->ctx[nctx].key = optarg;
			ca->ctx[nctx].value = eq + 1;
			nctx++;
			break;
		case 't':
			if (value_time_parse(optarg, strlen(optarg),
			    &tm) == -1) {
				fprintf(stderr, "kmsauthzctl: --time %s: not "
				    "an RFC 3339 time\n", optarg);
				usage = 1;
				break;
			}
			rq->flags |= KMSAUTHZ_CHECK_TIME;
			rq->time_sec = tm.sec;
			rq->time_nsec = (uint32_t)tm.nsec;
			break;
		case 'e':
			rq->flags |= KMSAUTHZ_CHECK_EXPLAIN;
			if ((ca->explain = ctl_explain_arg(optarg)) == -1)
				usage = 1;
			break;
		case 's':
			ca->sock = optarg;
			break;
		case 'T':
			if (ctl_check_timeout(optarg, &ca->timeout_ms) == -1)
				usage = 1;
			break;
		case 'g':
			if (ctl_check_generation(optarg, &ca->min_gen) == -1)
				usage = 1;
			break;
		default:
			usage = 1;
			break;
		}
	}
	if (!usage && (optind != argc || rq->principal == NULL ||
	    rq->action == NULL || rq->resource == NULL)) {
		fprintf(stderr, "usage: kmsauthzctl check --principal ARN "
		    "--action A --resource ARN [--source-ip IP] "
		    "[--context KEY=VALUE]... [--time RFC3339] [--explain[=full]] "
		    "[--min-generation N] [--socket PATH] [--timeout MS]\n");
		usage = 1;
	}
	if (!usage && eval_resource_valid(rq->resource,
	    strlen(rq->resource)) == -1) {
		fprintf(stderr, "kmsauthzctl: --resource %s: not an ARN "
		    "(acs:SERVICE:REGION:ACCOUNT:RESOURCE, e.g. "
		    "acs:kms:REGION:ACCOUNT:key/KEY-ID) nor *; the answer "
		    "is invalid-request\n", rq->resource);
	}
	if (usage)
		return (-1);
	rq->context = ca->ctx;
	rq->ncontext = nctx;
	return (0);
}

/* A statement of the library's as JSON. */
static struct json_object *
ctl_stmt_json(const struct kmsauthz_statement *st)
{
	struct json_object	*o;

	if ((o = json_object_new_object()) == NULL)
		return (NULL);
	if (policy_stmt_json(o, st->source, st->index, st->has_sid ?
	    st->sid : NULL) == -1) {
		json_object_put(o);
		return (NULL);
	}
	return (o);
}

static struct json_object *
ctl_half_json(const struct kmsauthz_half *h)
{
	struct json_object	*o, *arr;
	size_t			 i;

	if ((o = json_object_new_object()) == NULL)
		return (NULL);
	json_object_object_add(o, "Result", json_object_new_string(
	    eval_result_name((enum eval_result)h->result)));
	arr = json_object_new_array();
	json_object_object_add(o, "Statements", arr);
	for (i = 0; arr != NULL && i < h->nstatements; i++)
		json_object_array_add(arr, ctl_stmt_json(&h->statements[i]));
	if (h->truncated)
		json_object_object_add(o, "Truncated",
		    json_object_new_boolean(1));
	return (o);
}

/*
 * The daemon's explanation as JSON, the shape simulate prints
 * (src/policy/why-json.c).  NULL when it sent none (rule 0).
 */
struct json_object *
ctl_why_json(const struct kmsauthz_why *why, int full)
{
	struct json_object	*o, *arr, *m;
	size_t			 i;

	if (why->rule < 1 || why->rule > KMSAUTHZ_WHY_RULE_MAX ||
	    (o = json_object_new_object()) == NULL)
		return (NULL);
	json_object_object_add(o, "Rule", json_object_new_string(
	    eval_rule_name((enum eval_rule)(why->rule - 1))));
	json_object_object_add(o, "Identity", ctl_half_json(&why->identity));
	json_object_object_add(o, "KeyPolicy",
	    ctl_half_json(&why->key_policy));
	if (!full)
		return (o);
	arr = json_object_new_array();
	json_object_object_add(o, "NearMisses", arr);
	for (i = 0; arr != NULL && i < why->nmisses; i++) {
		if ((m = ctl_stmt_json(&why->misses[i].statement)) == NULL)
			continue;
		json_object_object_add(m, "Half", json_object_new_string(
		    why->misses[i].half ? "KeyPolicy" : "Identity"));
		json_object_object_add(m, "Effect", json_object_new_string(
		    why->misses[i].deny ? "Deny" : "Allow"));
		json_object_object_add(m, "Failed",
		    json_object_new_string(why->misses[i].why));
		json_object_array_add(arr, m);
	}
	if (why->misses_truncated)
		json_object_object_add(o, "NearMissesTruncated",
		    json_object_new_boolean(1));
	return (o);
}

/*
 * One check, explained when explain (1, or 2 for full): the answer as
 * JSON (NULL on failure, with the error on stderr) and its decision and
 * reason.
 */
struct json_object *
ctl_check_one(struct kmsauthz *h, const struct kmsauthz_request *req,
    int explain, int *decision, int *reason, uint64_t *genp)
{
	struct kmsauthz_answer	 ans;
	struct kmsauthz_why	 why;
	struct json_object	*o, *e;
	const char		*msg;
	int			 err;

	memset(&why, 0, sizeof(why));
	if (explain)
		err = kmsauthz_check_why(h, req, explain == 2, &ans, &why);
	else
		err = kmsauthz_check(h, req, &ans);
	if (err != 0) {
		fprintf(stderr, "kmsauthzctl: check: %s\n",
		    kmsauthz_strerror(err));
		if (err == KMSAUTHZ_ESERVER || err == KMSAUTHZ_ESTALE) {
			kmsauthz_server_error(h, &msg);
			fprintf(stderr, "kmsauthzctl: kmsauthzd: %s\n", msg);
		}
		return (NULL);
	}
	*decision = ans.decision;
	*reason = ans.reason;
	o = ctl_check_answer_json(&ans, explain != 0);
	if (o != NULL && genp != NULL) {
		/* Asked for a minimum: say which generation decided. */
		*genp = ans.generation;
		json_object_object_add(o, "Generation",
		    json_object_new_uint64(ans.generation));
	}
	if (o != NULL && (e = ctl_why_json(&why, explain == 2)) != NULL)
		json_object_object_add(o, "Explanation", e);
	kmsauthz_answer_free(&ans);
	kmsauthz_why_free(&why);
	return (o);
}

int
ctl_check(int argc, char **argv)
{
	struct ctl_check_args	 ca;
	struct kmsauthz		*h = NULL;
	struct json_object	*o;
	uint64_t		 gen = 0;
	int			 rc, decision = 0, reason = 0;

	if (ctl_check_parse(argc, argv, &ca) == -1)
		return (CTL_EXIT_ERROR);
	if (ctl_check_connect(ca.sock, ca.timeout_ms, &h) == -1)
		return (CTL_EXIT_ERROR);
	ca.req.flags &= ~(unsigned int)KMSAUTHZ_CHECK_EXPLAIN;
	(void)kmsauthz_set_min_generation(h, ca.min_gen);
	o = ctl_check_one(h, &ca.req, ca.explain, &decision, &reason,
	    ca.min_gen != 0 ? &gen : NULL);
	kmsauthz_close(h);
	if (o == NULL)
		return (CTL_EXIT_ERROR);
	rc = ctl_json_print(o);
	if (rc == -1 || fflush(stdout) != 0)
		rc = CTL_EXIT_ERROR;
	else if (reason == KMSAUTHZ_REASON_INVALID_REQUEST)
		rc = CTL_EXIT_ERROR;	/* an error, as in simulate */
	else
		rc = decision == KMSAUTHZ_ALLOW ? CTL_EXIT_OK : CTL_EXIT_NO;
	return (rc);
}

/* ping and status share their options. */
static int
ctl_online_opts(int argc, char **argv, const char *cmd, const char **sockp,
    int *timeoutp)
{
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "timeout", required_argument, NULL, 'T' },
		{ NULL, 0, NULL, 0 }
	};
	int	ch, usage = 0;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 's':
			*sockp = optarg;
			break;
		case 'T':
			if (ctl_check_timeout(optarg, timeoutp) == -1)
				usage = 1;
			break;
		default:
			usage = 1;
			break;
		}
	}
	if (usage || optind != argc) {
		fprintf(stderr, "usage: kmsauthzctl %s [--socket PATH] "
		    "[--timeout MS]\n", cmd);
		return (-1);
	}
	return (0);
}

int
ctl_ping(int argc, char **argv)
{
	struct kmsauthz	*h;
	const char	*sock = NULL;
	int		 timeout_ms = CTL_CHECK_TIMEOUT_MS, err;

	if (ctl_online_opts(argc, argv, "ping", &sock, &timeout_ms) == -1)
		return (CTL_EXIT_ERROR);
	if (ctl_check_connect(sock, timeout_ms, &h) == -1)
		return (CTL_EXIT_ERROR);
	err = kmsauthz_ping(h);
	kmsauthz_close(h);
	if (err != 0) {
		fprintf(stderr, "kmsauthzctl: ping: %s\n",
		    kmsauthz_strerror(err));
		return (CTL_EXIT_ERROR);
	}
	printf("pong\n");
	return (CTL_EXIT_OK);
}

/* The query socket's STATUS as a JSON object; NULL after a message. */
static struct json_object *
ctl_query_status_json(const char *sock, int timeout_ms)
{
	struct kmsauthz_status	 st;
	struct json_object	*o;
	struct kmsauthz		*h;
	int			 err;

	if (ctl_check_connect(sock, timeout_ms, &h) == -1)
		return (NULL);
	err = kmsauthz_status(h, &st);
	if (err != 0) {
		fprintf(stderr, "kmsauthzctl: status: %s\n",
		    kmsauthz_strerror(err));
		if (err == KMSAUTHZ_ESERVER) {
			const char *msg;

			kmsauthz_server_error(h, &msg);
			fprintf(stderr, "kmsauthzctl: kmsauthzd: %s\n", msg);
		}
		kmsauthz_close(h);
		return (NULL);
	}
	kmsauthz_close(h);
	if ((o = json_object_new_object()) == NULL)
		return (NULL);
	json_object_object_add(o, "Version",
	    json_object_new_string(st.version));
	json_object_object_add(o, "ProtocolVersion",
	    json_object_new_int(st.proto_version));
	json_object_object_add(o, "Generation",
	    json_object_new_uint64(st.generation));
	json_object_object_add(o, "UptimeSeconds",
	    json_object_new_uint64(st.uptime_sec));
	json_object_object_add(o, "Checks", json_object_new_uint64(st.checks));
	json_object_object_add(o, "Errors", json_object_new_uint64(st.errors));
	json_object_object_add(o, "Keys", json_object_new_int64(st.keys));
	json_object_object_add(o, "Aliases",
	    json_object_new_int64(st.aliases));
	json_object_object_add(o, "Policies",
	    json_object_new_int64(st.policies));
	json_object_object_add(o, "Users", json_object_new_int64(st.users));
	json_object_object_add(o, "Groups", json_object_new_int64(st.groups));
	json_object_object_add(o, "Roles", json_object_new_int64(st.roles));
	json_object_object_add(o, "Connections",
	    json_object_new_int64(st.connections));
	return (o);
}

int
ctl_query_status(int argc, char **argv)
{
	struct json_object	*o;
	const char		*sock = NULL;
	int			 timeout_ms = CTL_CHECK_TIMEOUT_MS;

	if (ctl_online_opts(argc, argv, "query-status", &sock,
	    &timeout_ms) == -1)
		return (CTL_EXIT_ERROR);
	if ((o = ctl_query_status_json(sock, timeout_ms)) == NULL)
		return (CTL_EXIT_ERROR);
	return (ctl_json_print(o) == 0 && fflush(stdout) == 0 ? CTL_EXIT_OK :
	    CTL_EXIT_ERROR);
}

/*
 * Both sockets: {"Query": {...}, "Admin": {...}} or, when the admin
 * socket does not let the caller in, "AdminError" with the reason (the
 * query half is what any client may see).
 */
int
ctl_status(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "admin-socket", required_argument, NULL, 'A' },
		{ "timeout", required_argument, NULL, 'T' },
		{ NULL, 0, NULL, 0 }
	};
	struct json_object	*o, *q, *a;
	const char		*sock = NULL, *asock = NULL;
	char			*ans, why[256];
	size_t			 len;
	int			 ch, usage = 0, timeout_ms = CTL_CHECK_TIMEOUT_MS;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 's':
			sock = optarg;
			break;
		case 'A':
			asock = optarg;
			break;
		case 'T':
			if (ctl_check_timeout(optarg, &timeout_ms) == -1)
				usage = 1;
			break;
		default:
			usage = 1;
			break;
		}
	}
	if (usage || optind != argc) {
		fprintf(stderr, "usage: kmsauthzctl status [--socket PATH] "
		    "[--admin-socket PATH] [--timeout MS]\n");
		return (CTL_EXIT_ERROR);
	}
	if ((q = ctl_query_status_json(sock, timeout_ms)) == NULL)
		return (CTL_EXIT_ERROR);
	o = json_object_new_object();
	json_object_object_add(o, "Query", q);
	ans = ctl_admin_send(ctl_admin_socket_path(asock), NULL,
	    "{\"Action\":\"Status\"}", 19, &len);
	a = ans != NULL ? json_tokener_parse(ans) : NULL;
	if (a != NULL && json_object_is_type(a, json_type_object))
		json_object_object_add(o, "Admin", a);
	else {
		json_object_put(a);
		snprintf(why, sizeof(why), "the admin socket %s did not "
		    "answer (see the message above)",
		    ctl_admin_socket_path(asock));
		json_object_object_add(o, "AdminError",
		    json_object_new_string(why));
	}
	free(ans);
	return (ctl_json_print(o) == 0 && fflush(stdout) == 0 ? CTL_EXIT_OK :
	    CTL_EXIT_ERROR);
}
