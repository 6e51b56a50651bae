/* SPDX-License-Identifier: ISC */
/*
 * ctl-test.c: kmsauthzctl test, policy tests for policy authors' CI.
 *
 *   test (--bundle FILE | --socket PATH) [--timeout MS] [--junit FILE]
 *       CASES...
 *
 * Each case file holds JSON lines: a request of simulate --requests
 * (src/policy/simreq.c) plus "Expect" (ALLOW, IMPLICIT_DENY or
 * EXPLICIT_DENY), optionally "ExpectReason" (a reason of
 * docs/semantics.md section 4.8) and "Name".  Every line is read and
 * checked before any is decided: a bad line is an error naming its
 * file:line (exit 2).  Then each case is decided, offline on the bundle
 * or by the daemon; each failure is printed with its request, the
 * expected and actual decision and the full explanation; the last line
 * is "N passed, N failed".  Exit 0 all passed, 1 a failure, 2 an error.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "kmsauthz.h"
#include "ctl/ctl.h"
#include "engine/eval.h"
#include "engine/world.h"
#include "policy/policy.h"
#include "policy/simreq.h"

#define TC_MAX_LINE	(1024 * 1024)
#define TC_MAX_CASES	1000000		/* bounded memory */

struct tc_case {
	const char		*file;
	size_t			 line;
	struct json_object	*req;		/* the request alone */
	char			*name;		/* "Name", or NULL */
	enum eval_decision	 expect;
	int			 has_reason;
	enum eval_reason	 reason;
	/* results */
	int			 failed;
	char			*message;	/* the failure, for JUnit */
};

struct tc_run {
	struct tc_case		*v;
	size_t			 n, cap;
	struct world		*w;		/* --bundle */
	struct kmsauthz		*h;		/* --socket */
	size_t			 passed, failed;
};

static int	tc_load(struct tc_run *, const char *);
static int	tc_line(struct tc_run *, const char *, size_t, char *,
		    size_t);
static int	tc_decide(struct tc_run *, struct tc_case *,
		    enum eval_decision *, enum eval_reason *,
		    struct json_object **);
static int	tc_one(struct tc_run *, struct tc_case *);
static int	tc_junit(const struct tc_run *, const char *);
static void	tc_free(struct tc_run *);

/* Reads, checks and keeps one case line; -1 after a file:line error. */
static int
tc_line(struct tc_run *r, const char *file, size_t lineno, char *line,
    size_t len)
{
	struct policy_diags	 d;
	struct policy_simreq	 sr;
	struct value_time	 now = { 0, 0 };
	struct json_object	*o, *e;
	struct tc_case		*c;
	char			 err[256], *name = NULL;

	policy_diags_init(&d);
	o = policy_json_parse(line, len, POLICY_MAX_DEPTH, "", &d);
	if (o == NULL)
		snprintf(err, sizeof(err), "not valid JSON: %s",
		    d.n > 0 ? d.v[0].reason : "?");
	policy_diags_free(&d);
	if (o == NULL)
		goto bad;
	if (!json_object_is_type(o, json_type_object)) {
		snprintf(err, sizeof(err), "a case is a JSON object");
		goto bad;
	}
	if (r->n == r->cap) {
		if (r->n == TC_MAX_CASES) {
			snprintf(err, sizeof(err), "more than %d cases",
			    TC_MAX_CASES);
			goto bad;
		}
		r->cap = r->cap ? r->cap * 2 : 64;
		if ((c = reallocarray(r->v, r->cap, sizeof(*c))) == NULL) {
			snprintf(err, sizeof(err), "out of memory");
			goto bad;
		}
		r->v = c;
	}
	c = &r->v[r->n];
	memset(c, 0, sizeof(*c));
	c->file = file;
	c->line = lineno;
	if (!json_object_object_get_ex(o, "Expect", &e) ||
	    !json_object_is_type(e, json_type_string) ||
	    eval_decision_parse(json_object_get_string(e),
	    (size_t)json_object_get_string_len(e), &c->expect) == -1) {
		snprintf(err, sizeof(err), "Expect must be \"ALLOW\", "
		    "\"IMPLICIT_DENY\" or \"EXPLICIT_DENY\"");
		goto bad;
	}
	json_object_object_del(o, "Expect");
	if (json_object_object_get_ex(o, "ExpectReason", &e)) {
		if (!json_object_is_type(e, json_type_string) ||
		    eval_reason_parse(json_object_get_string(e),
		    (size_t)json_object_get_string_len(e), &c->reason) == -1) {
			snprintf(err, sizeof(err), "ExpectReason must be a "
			    "reason of docs/semantics.md section 4.8 (e.g. "
			    "\"allowed-by-key-policy\")");
			goto bad;
		}
		c->has_reason = 1;
		json_object_object_del(o, "ExpectReason");
	}
	if (json_object_object_get_ex(o, "Name", &e)) {
		if (!json_object_is_type(e, json_type_string) ||
		    (name = strdup(json_object_get_string(e))) == NULL) {
			snprintf(err, sizeof(err), "Name must be a string");
			goto bad;
		}
		json_object_object_del(o, "Name");
	}
	/* The request itself, checked as simulate reads it. */
	if (policy_simreq_parse(o, &now, &sr, err, sizeof(err)) == -1)
		goto bad;
	c->req = o;
	c->name = name;
	r->n++;
	return (0);
bad:
	fprintf(stderr, "kmsauthzctl: %s:%zu: %s\n", file, lineno, err);
	json_object_put(o);
	free(name);
	return (-1);
}

/* Every line of one case file; -1 after an error. */
static int
tc_load(struct tc_run *r, const char *path)
{
	FILE	*f;
	char	*line = NULL;
	size_t	 cap = 0, lineno = 0, i;
	ssize_t	 n;
	int	 rc = 0;

	if ((f = fopen(path, "r")) == NULL) {
		fprintf(stderr, "kmsauthzctl: %s: %s\n", path,
		    strerror(errno));
		return (-1);
	}
	while (rc == 0 && (n = getline(&line, &cap, f)) != -1) {
		lineno++;
		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = '\0';
		for (i = 0; i < (size_t)n && (line[i] == ' ' ||
		    line[i] == '\t'); i++)
			;
		if (i == (size_t)n)
			continue;			/* blank */
		if ((size_t)n > TC_MAX_LINE) {
			fprintf(stderr, "kmsauthzctl: %s:%zu: line longer "
			    "than %d bytes\n", path, lineno, TC_MAX_LINE);
			rc = -1;
		} else
			rc = tc_line(r, path, lineno, line, (size_t)n);
	}
	if (rc == 0 && ferror(f)) {
		fprintf(stderr, "kmsauthzctl: %s: read error\n", path);
		rc = -1;
	}
	free(line);
	fclose(f);
	return (rc);
}

/*
 * Decide one case, offline or online, with the full explanation: 0, or
 * -1 when it could not be decided (an error on stderr).
 */
static int
tc_decide(struct tc_run *r, struct tc_case *c, enum eval_decision *dp,
    enum eval_reason *rp, struct json_object **whyp)
{
	struct policy_simreq	 sr;
	struct kmsauthz_request	 kr;
	struct kmsauthz_context	 kc[EVAL_MAX_CONTEXT];
	struct eval_answer	 a;
	struct eval_why		 why;
	struct value_time	 now;
	struct timespec		 ts;
	struct json_object	*o, *e;
	char			 err[256];
	size_t			 i;
	int			 d, rs;

	clock_gettime(CLOCK_REALTIME, &ts);
	now.sec = ts.tv_sec;
	now.nsec = (int32_t)ts.tv_nsec;
	if (policy_simreq_parse(c->req, &now, &sr, err, sizeof(err)) == -1)
		return (-1);			/* checked when loaded */
	if (r->w != NULL) {
		sr.req.explain = 1;
		(void)eval_decide_why(r->w, &sr.req, &a, &why, 1);
		*dp = a.decision;
		*rp = a.reason;
		*whyp = policy_why_json(&why, 1);
		return (0);
	}
	/* simreq's strings are json-c's, NUL-terminated. */
	memset(&kr, 0, sizeof(kr));
	kr.principal = sr.req.principal;
	kr.action = sr.req.action;
	kr.resource = sr.req.resource;
	if (sr.req.has_source_ip) {
		kr.source_ip = sr.req.source_ip.addr;
		kr.source_ip_len = sr.req.source_ip.family == 4 ? 4 : 16;
	}
	for (i = 0; i < sr.req.nctx; i++) {
		kc[i].key = sr.req.ctx[i].key;
		kc[i].value = sr.req.ctx[i].value;
	}
	kr.context = kc;
	kr.ncontext = sr.req.nctx;
	/* Pinned: the case's time, or this run's clock. */
	kr.flags = KMSAUTHZ_CHECK_TIME;
	kr.time_sec = sr.req.now.sec;
	kr.time_nsec = (uint32_t)sr.req.now.nsec;
	if ((o = ctl_check_one(r->h, &kr, 2, &d, &rs, NULL)) == NULL)
		return (-1);
	*dp = d == KMSAUTHZ_ALLOW ? EVAL_ALLOW : d == KMSAUTHZ_EXPLICIT_DENY ?
	    EVAL_EXPLICIT_DENY : EVAL_IMPLICIT_DENY;
	/* Wire reasons are the engine's, numbered from 1. */
	*rp = rs >= 1 && rs <= EVAL_R_COUNT ? (enum eval_reason)(rs - 1) :
	    EVAL_R_INVALID_REQUEST;
	*whyp = NULL;
	if (json_object_object_get_ex(o, "Explanation", &e))
		*whyp = json_object_get(e);
	json_object_put(o);
	return (0);
}

static const char *
tc_json(struct json_object *o)
{
	const char	*s;

	s = o != NULL ? json_object_to_json_string_ext(o,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE) : NULL;
	return (s != NULL ? s : "null");
}

/* One case: 0 decided (passed or failed), -1 an error. */
static int
tc_one(struct tc_run *r, struct tc_case *c)
{
	enum eval_decision	 d;
	enum eval_reason	 rs;
	struct json_object	*why = NULL;
	char			 exp[128], got[128];

	if (tc_decide(r, c, &d, &rs, &why) == -1) {
		fprintf(stderr, "kmsauthzctl: %s:%zu: cannot decide\n",
		    c->file, c->line);
		return (-1);
	}
	if (d == c->expect && (!c->has_reason || rs == c->reason)) {
		r->passed++;
		json_object_put(why);
		return (0);
	}
	r->failed++;
	c->failed = 1;
	snprintf(exp, sizeof(exp), "%s%s%s", eval_decision_name(c->expect),
	    c->has_reason ? " " : "", c->has_reason ?
	    eval_reason_name(c->reason) : "");
	snprintf(got, sizeof(got), "%s %s", eval_decision_name(d),
	    eval_reason_name(rs));
	printf("FAIL %s:%zu%s%s\n  request:     %s\n  expected:    %s\n"
	    "  actual:      %s\n  explanation: %s\n", c->file, c->line,
	    c->name != NULL ? " " : "", c->name != NULL ? c->name : "",
	    tc_json(c->req), exp, got, tc_json(why));
	if (asprintf(&c->message, "expected %s, got %s\nrequest: %s\n"
	    "explanation: %s", exp, got, tc_json(c->req), tc_json(why)) == -1)
		c->message = NULL;
	json_object_put(why);
	return (0);
}

/* s with XML's five characters escaped (and control bytes dropped). */
static void
tc_xml(FILE *f, const char *s)
{
	for (; s != NULL && *s != '\0'; s++) {
		switch (*s) {
		case '<':
			fputs("&lt;", f);
			break;
		case '>':
			fputs("&gt;", f);
			break;
		case '&':
			fputs("&amp;", f);
			break;
		case '"':
			fputs("&quot;", f);
			break;
		case '\'':
			fputs("&apos;", f);
			break;
		default:
			if ((unsigned char)*s >= 0x20 || *s == '\n' ||
			    *s == '\t')
				fputc(*s, f);
			break;
		}
	}
}

/* JUnit XML: one testsuite per case file, one testcase per case. */
static int
tc_junit(const struct tc_run *r, const char *path)
{
	const struct tc_case	*c;
	FILE			*f;
	size_t			 i, j, tests, fails;
	char			 name[64];

	if ((f = fopen(path, "w")) == NULL) {
		fprintf(stderr, "kmsauthzctl: %s: %s\n", path,
		    strerror(errno));
		return (-1);
	}
	fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	    "<testsuites name=\"kmsauthzctl test\" tests=\"%zu\" "
	    "failures=\"%zu\">\n", r->passed + r->failed, r->failed);
	for (i = 0; i < r->n; i = j) {
		tests = fails = 0;
		for (j = i; j < r->n && r->v[j].file == r->v[i].file; j++) {
			tests++;
			fails += r->v[j].failed;
		}
		fprintf(f, "  <testsuite name=\"");
		tc_xml(f, r->v[i].file);
		fprintf(f, "\" tests=\"%zu\" failures=\"%zu\">\n", tests,
		    fails);
		for (c = &r->v[i]; c < &r->v[j]; c++) {
			snprintf(name, sizeof(name), "line %zu", c->line);
			fprintf(f, "    <testcase classname=\"");
			tc_xml(f, c->file);
			fprintf(f, "\" name=\"");
			tc_xml(f, c->name != NULL ? c->name : name);
			if (!c->failed) {
				fprintf(f, "\"/>\n");
				continue;
			}
			fprintf(f, "\">\n      <failure message=\"");
			tc_xml(f, c->message);
			fprintf(f, "\">");
			tc_xml(f, c->message);
			fprintf(f, "</failure>\n    </testcase>\n");
		}
		fprintf(f, "  </testsuite>\n");
	}
	fprintf(f, "</testsuites>\n");
	if (fclose(f) != 0) {
		fprintf(stderr, "kmsauthzctl: %s: %s\n", path,
		    strerror(errno));
		return (-1);
	}
	return (0);
}

static void
tc_free(struct tc_run *r)
{
	size_t	i;

	for (i = 0; i < r->n; i++) {
		json_object_put(r->v[i].req);
		free(r->v[i].name);
		free(r->v[i].message);
	}
	free(r->v);
	if (r->w != NULL)
		world_unref(r->w);
	kmsauthz_close(r->h);
}

int
ctl_test(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "bundle", required_argument, NULL, 'b' },
		{ "socket", required_argument, NULL, 's' },
		{ "timeout", required_argument, NULL, 'T' },
		{ "junit", required_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 }
	};
	struct tc_run	 r;
	const char	*bundle = NULL, *sock = NULL, *junit = NULL;
	char		*end;
	long		 v;
	int		 ch, i, usage = 0, rc = CTL_EXIT_OK;
	int		 timeout_ms = CTL_CHECK_TIMEOUT_MS;

	memset(&r, 0, sizeof(r));
	optind = 1;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'b':
			bundle = optarg;
			break;
		case 's':
			sock = optarg;
			break;
		case 'j':
			junit = optarg;
			break;
		case 'T':
			errno = 0;
			v = strtol(optarg, &end, 10);
			if (errno != 0 || *end != '\0' || end == optarg ||
			    v < 0 || v > 3600000)
				usage = 1;
			timeout_ms = (int)v;
			break;
		default:
			usage = 1;
			break;
		}
	}
	if (usage || optind == argc || (bundle == NULL) == (sock == NULL)) {
		fprintf(stderr, "usage: kmsauthzctl test (--bundle FILE | "
		    "--socket PATH) [--timeout MS] [--junit FILE] CASES...\n");
		return (CTL_EXIT_ERROR);
	}
	/* Every case is read and checked before anything is decided. */
	for (i = optind; i < argc; i++)
		if (tc_load(&r, argv[i]) == -1) {
			tc_free(&r);
			return (CTL_EXIT_ERROR);
		}
	if ((bundle != NULL && (r.w = ctl_bundle_world(bundle)) == NULL) ||
	    (sock != NULL && ctl_check_connect(sock, timeout_ms, &r.h) ==
	    -1)) {
		tc_free(&r);
		return (CTL_EXIT_ERROR);
	}
	for (i = 0; (size_t)i < r.n && rc == CTL_EXIT_OK; i++)
		if (tc_one(&r, &r.v[i]) == -1)
			rc = CTL_EXIT_ERROR;
	if (rc == CTL_EXIT_OK) {
		printf("%zu passed, %zu failed\n", r.passed, r.failed);
		if (junit != NULL && tc_junit(&r, junit) == -1)
			rc = CTL_EXIT_ERROR;
		else if (r.failed > 0)
			rc = CTL_EXIT_NO;
	}
	if (fflush(stdout) != 0)
		rc = CTL_EXIT_ERROR;
	tc_free(&r);
	return (rc);
}
