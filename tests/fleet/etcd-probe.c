/* SPDX-License-Identifier: ISC */
/*
 * etcd-probe: drives src/fleet's etcd client against a real etcd for
 * the tests of tests/fleet/ (lib-etcd.sh starts the members).  One
 * command a run; the client's configuration from the environment:
 * ETCD_ENDPOINTS, ETCD_TIMEOUT, ETCD_CA, ETCD_CERT, ETCD_KEY, ETCD_USER,
 * ETCD_PASSWORD_FILE, ETCD_RESPONSE_MAX.  Results go to stdout, one
 * line each; an error is "error KIND: MESSAGE" and exit status 2.
 *
 *   parse ENDPOINTS             check an endpoint list
 *   put KEY VALUE               a txn with one put
 *   get KEY [END]               a range (END "+" : the prefix's end), at
 *                               revision ETCD_REV when set
 *   putn PREFIX N               N keys PREFIX%05d = "v0"
 *   walk PREFIX PAGE N          walk the prefix in pages while another
 *                               client writes between pages; checks
 *                               exactly N keys, in order, all "v0"
 *   cas KEY MODREV VALUE        put if the key's mod_revision is MODREV
 *   rcas PREFIX MODREV KEY VAL  put KEY if every key under PREFIX has a
 *                               mod_revision below MODREV (a range
 *                               compare; an empty range holds)
 *   rjson PREFIX                the txn JSON of rcas PREFIX 7 PREFIX v
 *                               (no etcd needed)
 *   changed PREFIX AFTER UPTO   the first key under PREFIX last changed
 *                               in (AFTER, UPTO], if any
 *   cjson PREFIX                the JSON of changed PREFIX 6 9 (no etcd
 *                               needed)
 *   watch PREFIX REV COUNT      print revisions from REV until COUNT
 *                               events or the watch's end
 *   status | auth | compact REV
 *   get2 KEY FILE               a range, then another on the same client
 *                               once FILE exists (its token may have
 *                               expired in between)
 *   lease KEY VALUE TTL         a lease granted, KEY put on it, kept
 *                               alive, revoked, kept alive again (gone),
 *                               then KEY put on it again (refused)
 */
#include <sys/stat.h>

#include <unistd.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "fleet/etcd-int.h"

static struct etcd_config	 conf;
static char			 password[ETCD_PASSWORD_MAX];

static int
fail(const struct etcd_error *err)
{
	printf("error %s: %s\n", etcd_errkind_name(err->kind), err->msg);
	fflush(stdout);
	return (2);
}

static void
config(void)
{
	const char	*p;
	char		 err[ETCD_ERR_MAX];

	conf.endpoints = getenv("ETCD_ENDPOINTS");
	conf.timeout = (p = getenv("ETCD_TIMEOUT")) ? atoi(p) : 0;
	conf.ca_file = getenv("ETCD_CA");
	conf.cert_file = getenv("ETCD_CERT");
	conf.key_file = getenv("ETCD_KEY");
	conf.user = getenv("ETCD_USER");
	conf.response_max = (p = getenv("ETCD_RESPONSE_MAX")) ?
	    strtoul(p, NULL, 10) : 0;
	if ((p = getenv("ETCD_PASSWORD_FILE")) != NULL) {
		if (etcd_password_read(p, password, sizeof(password), err,
		    sizeof(err)) == -1) {
			printf("error config: %s\n", err);
			exit(2);
		}
		conf.password = password;
	}
}

static struct etcd_sync *
sync_new(void)
{
	struct etcd_sync	*s;
	char			 err[ETCD_ERR_MAX];

	if ((s = etcd_sync_new(&conf, err, sizeof(err))) == NULL) {
		printf("error config: %s\n", err);
		exit(2);
	}
	return (s);
}

/* An asynchronous client on base (walk, changed, watch). */
static struct etcd_client *
client_new(struct event_base *base)
{
	struct etcd_client	*c;
	char			 err[ETCD_ERR_MAX];

	if ((c = etcd_client_new(base, &conf, err, sizeof(err))) == NULL) {
		printf("error config: %s\n", err);
		exit(2);
	}
	return (c);
}

/* One txn, its revision and outcome printed. */
static int
txn(struct etcd_sync *s, const struct etcd_txn_req *q)
{
	struct etcd_txn_res	r;
	struct etcd_error	err;

	if (etcd_sync_txn(s, q, &r, &err) == -1)
		return (fail(&err));
	printf("rev=%lld succeeded=%d\n", (long long)r.header.revision,
	    r.succeeded);
	return (0);
}

static int
put(struct etcd_sync *s, const char *key, const char *value)
{
	struct etcd_op		op = { ETCD_OP_PUT, key, strlen(key), value,
				    strlen(value), NULL, 0, 0 };
	struct etcd_txn_req	q = { NULL, 0, &op, 1, NULL, 0 };

	return (txn(s, &q));
}

static int
cmd_get(struct etcd_sync *s, int argc, char **argv)
{
	struct etcd_range_req	 q;
	struct etcd_range_res	*r;
	struct etcd_error	 err;
	uint8_t			 end[1024];
	size_t			 i;

	memset(&q, 0, sizeof(q));
	q.key = argv[0];
	q.keylen = strlen(argv[0]);
	if (getenv("ETCD_REV") != NULL)
		q.revision = atoll(getenv("ETCD_REV"));
	if (argc > 1) {
		q.range_end = end;
		if (strcmp(argv[1], "+") == 0)
			q.range_end_len = etcd_prefix_end(q.key, q.keylen,
			    end, sizeof(end));
		else {
			q.range_end_len = strlen(argv[1]);
			memcpy(end, argv[1], q.range_end_len);
		}
	}
	if (etcd_sync_range(s, &q, &r, &err) == -1)
		return (fail(&err));
	printf("rev=%lld count=%lld kvs=%zu more=%d cluster=%llu\n",
	    (long long)r->header.revision, (long long)r->count, r->nkvs,
	    r->more, (unsigned long long)r->header.cluster_id);
	for (i = 0; i < r->nkvs; i++)
		printf("%s=%s create=%lld mod=%lld version=%lld\n",
		    r->kvs[i].key, r->kvs[i].value,
		    (long long)r->kvs[i].create_revision,
		    (long long)r->kvs[i].mod_revision,
		    (long long)r->kvs[i].version);
	etcd_range_res_free(r);
	return (0);
}

static int
cmd_putn(struct etcd_sync *s, const char *prefix, int n)
{
	struct etcd_op		 ops[100];
	struct etcd_txn_req	 q;
	struct etcd_txn_res	 r;
	struct etcd_error	 err;
	char			 keys[100][128];
	int			 i, k;

	for (i = 0; i < n; ) {
		for (k = 0; k < 100 && i < n; k++, i++) {
			snprintf(keys[k], sizeof(keys[k]), "%s%05d", prefix,
			    i);
			ops[k] = (struct etcd_op){ ETCD_OP_PUT, keys[k],
			    strlen(keys[k]), "v0", 2, NULL, 0, 0 };
		}
		q = (struct etcd_txn_req){ NULL, 0, ops, (size_t)k, NULL, 0 };
		if (etcd_sync_txn(s, &q, &r, &err) == -1)
			return (fail(&err));
	}
	printf("rev=%lld\n", (long long)r.header.revision);
	return (0);
}

struct walk {
	struct etcd_sync	*writer;
	const char		*prefix;
	char			 last[1024];
	size_t			 keys, pages, bad, expect;
	int			 done, rc;
	struct event_base	*base;
};

/* Between two pages another client changes a key and adds one. */
static int
walk_page(const struct etcd_range_res *r, void *arg)
{
	struct walk	*w = arg;
	char		 k[1024];
	size_t		 i;

	w->pages++;
	for (i = 0; i < r->nkvs; i++) {
		if (strcmp((char *)r->kvs[i].key, w->last) <= 0 ||
		    strcmp((char *)r->kvs[i].value, "v0") != 0) {
			printf("bad key %s=%s after %s\n", r->kvs[i].key,
			    r->kvs[i].value, w->last);
			w->bad++;
		}
		snprintf(w->last, sizeof(w->last), "%s", r->kvs[i].key);
		w->keys++;
	}
	/* A key of a page still to come (or of the first). */
	snprintf(k, sizeof(k), "%s%05zu", w->prefix,
	    (w->keys + 3) % (w->expect ? w->expect : 1));
	if (put(w->writer, k, "changed") != 0)
		w->bad++;
	snprintf(k, sizeof(k), "%s%05zux", w->prefix, w->keys);
	if (put(w->writer, k, "added") != 0)
		w->bad++;
	return (0);
}

static void
walk_done(const struct etcd_error *err, int64_t rev, size_t n, void *arg)
{
	struct walk	*w = arg;

	if (err != NULL)
		w->rc = fail(err);
	else
		printf("walk rev=%lld keys=%zu pages=%zu\n", (long long)rev, n,
		    w->pages);
	w->done = 1;
	event_base_loopbreak(w->base);
}

static int
cmd_walk(const char *prefix, int page, size_t expect)
{
	struct etcd_client	*c;
	struct etcd_range_req	 q;
	struct etcd_error	 err;
	struct walk		 w;
	uint8_t			 end[1024];

	memset(&w, 0, sizeof(w));
	w.base = event_base_new();
	w.writer = sync_new();
	w.prefix = prefix;
	w.expect = expect;
	c = client_new(w.base);
	memset(&q, 0, sizeof(q));
	q.key = prefix;
	q.keylen = strlen(prefix);
	q.range_end = end;
	q.range_end_len = etcd_prefix_end(prefix, q.keylen, end, sizeof(end));
	q.limit = page;
	if (etcd_range_walk(c, &q, walk_page, walk_done, &w, &err) == -1)
		return (fail(&err));
	while (!w.done)
		event_base_dispatch(w.base);
	etcd_client_free(c);
	etcd_sync_free(w.writer);
	event_base_free(w.base);
	if (w.rc == 0 && (w.bad != 0 || w.keys != expect)) {
		printf("walk: %zu keys (expected %zu), %zu bad\n", w.keys,
		    expect, w.bad);
		return (1);
	}
	return (w.rc);
}

static int
cmd_cas(struct etcd_sync *s, const char *key, const char *rev,
    const char *value)
{
	struct etcd_compare	cmp = { key, strlen(key), ETCD_CMP_MOD,
				    ETCD_CMP_EQUAL, atoll(rev), NULL, 0, NULL,
				    0 };
	struct etcd_op		op = { ETCD_OP_PUT, key, strlen(key), value,
				    strlen(value), NULL, 0, 0 };
	struct etcd_txn_req	q = { &cmp, 1, &op, 1, NULL, 0 };

	return (txn(s, &q));
}

/* A txn: put key=value if every key under prefix has MOD < rev. */
static void
rcas_req(const char *prefix, const char *rev, const char *key,
    const char *value, struct etcd_txn_req *q, struct etcd_compare *cmp,
    struct etcd_op *op, uint8_t *end, size_t endlen)
{
	memset(cmp, 0, sizeof(*cmp));
	cmp->key = prefix;
	cmp->keylen = strlen(prefix);
	cmp->target = ETCD_CMP_MOD;
	cmp->result = ETCD_CMP_LESS;
	cmp->number = atoll(rev);
	cmp->range_end = end;
	cmp->range_end_len = etcd_prefix_end(prefix, strlen(prefix), end,
	    endlen);
	memset(op, 0, sizeof(*op));
	op->type = ETCD_OP_PUT;
	op->key = key;
	op->keylen = strlen(key);
	op->value = value;
	op->valuelen = strlen(value);
	memset(q, 0, sizeof(*q));
	q->cmp = cmp;
	q->ncmp = 1;
	q->success = op;
	q->nsuccess = 1;
}

static int
cmd_rcas(struct etcd_sync *s, const char *prefix, const char *rev,
    const char *key, const char *value)
{
	struct etcd_compare	cmp;
	struct etcd_op		op;
	struct etcd_txn_req	q;
	uint8_t			end[512];

	rcas_req(prefix, rev, key, value, &q, &cmp, &op, end, sizeof(end));
	return (txn(s, &q));
}

static int
cmd_rjson(const char *prefix)
{
	struct etcd_compare	cmp;
	struct etcd_op		op;
	struct etcd_txn_req	q;
	struct etcd_error	err;
	json_object		*o;
	uint8_t			end[512];

	rcas_req(prefix, "7", prefix, "v", &q, &cmp, &op, end, sizeof(end));
	if ((o = etcd_txn_json(&q, &err)) == NULL)
		return (fail(&err));
	printf("%s\n", json_object_to_json_string_ext(o,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
	return (0);
}

static void
changed_req(const char *prefix, const char *after, const char *upto,
    struct etcd_changed_req *q, uint8_t *end, size_t endlen)
{
	memset(q, 0, sizeof(*q));
	q->key = prefix;
	q->keylen = strlen(prefix);
	q->range_end = end;
	q->range_end_len = etcd_prefix_end(prefix, q->keylen, end, endlen);
	q->after = atoll(after);
	q->upto = atoll(upto);
}

static int
cmd_cjson(const char *prefix)
{
	struct etcd_changed_req	 q;
	json_object		*o;
	uint8_t			 end[512];

	changed_req(prefix, "6", "9", &q, end, sizeof(end));
	o = etcd_changed_json(&q);
	printf("%s\n", json_object_to_json_string_ext(o,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
	return (0);
}

struct changed {
	struct event_base	*base;
	int			 done, rc;
};

static void
changed_cb(const struct etcd_error *err, const struct etcd_range_res *r,
    void *arg)
{
	struct changed	*w = arg;

	if (err != NULL)
		w->rc = fail(err);
	else
		printf("rev=%lld kvs=%zu first=%s@%lld value=%zu\n",
		    (long long)r->header.revision, r->nkvs,
		    r->nkvs ? (char *)r->kvs[0].key : "-",
		    r->nkvs ? (long long)r->kvs[0].mod_revision : 0LL,
		    r->nkvs ? r->kvs[0].valuelen : 0);
	w->done = 1;
	event_base_loopbreak(w->base);
}

static int
cmd_changed(const char *prefix, const char *after, const char *upto)
{
	struct etcd_client	*c;
	struct etcd_changed_req	 q;
	struct etcd_error	 err;
	struct changed		 w = { event_base_new(), 0, 0 };
	uint8_t			 end[512];

	c = client_new(w.base);
	changed_req(prefix, after, upto, &q, end, sizeof(end));
	if (etcd_range_changed(c, &q, changed_cb, &w, &err) == -1)
		w.rc = fail(&err);
	else
		while (!w.done)
			event_base_dispatch(w.base);
	etcd_client_free(c);
	event_base_free(w.base);
	return (w.rc);
}

struct watch {
	struct event_base	*base;
	long			 want, seen;
	int			 rc;
};

static void
watch_events(int64_t rev, const struct etcd_event *ev, size_t n, void *arg)
{
	struct watch	*w = arg;
	size_t		 i;

	for (i = 0; i < n; i++)
		printf("rev=%lld %s %s=%s\n", (long long)rev,
		    ev[i].type == ETCD_EV_PUT ? "put" : "delete", ev[i].kv.key,
		    ev[i].kv.value);
	fflush(stdout);
	w->seen += (long)n;
	if (w->seen >= w->want)
		event_base_loopbreak(w->base);
}

static void
watch_trouble(const struct etcd_error *err, void *arg)
{
	printf("trouble %s: %s\n", etcd_errkind_name(err->kind), err->msg);
	fflush(stdout);
}

static void
watch_end(const struct etcd_error *err, int64_t compact, void *arg)
{
	struct watch	*w = arg;

	printf("end %s compact=%lld: %s\n", etcd_errkind_name(err->kind),
	    (long long)compact, err->msg);
	fflush(stdout);
	w->rc = 3;
	event_base_loopbreak(w->base);
}

static int
cmd_watch(const char *prefix, const char *rev, long count)
{
	struct etcd_watch_cbs	 cbs = { watch_events, NULL, watch_trouble,
				    watch_end };
	struct etcd_watch_req	 q;
	struct etcd_client	*c;
	struct etcd_watch	*wt;
	struct etcd_error	 err;
	struct watch		 w = { NULL, count, 0, 0 };
	uint8_t			 end[1024];

	w.base = event_base_new();
	c = client_new(w.base);
	memset(&q, 0, sizeof(q));
	q.key = prefix;
	q.keylen = strlen(prefix);
	q.range_end = end;
	q.range_end_len = etcd_prefix_end(prefix, q.keylen, end, sizeof(end));
	q.start_revision = atoll(rev);
	q.prev_kv = 1;
	if ((wt = etcd_watch_start(c, &q, &cbs, &w, &err)) == NULL)
		return (fail(&err));
	printf("watching\n");
	fflush(stdout);
	event_base_dispatch(w.base);
	if (w.rc == 0) {
		printf("watched %ld events, at %lld\n", w.seen,
		    (long long)etcd_watch_revision(wt));
		etcd_watch_cancel(wt);
	}
	etcd_client_free(c);
	event_base_free(w.base);
	return (w.rc);
}

/* A put of key on a lease: its revision, or -1 and err. */
static int64_t
lease_put(struct etcd_sync *s, const char *key, const char *value,
    int64_t lease, struct etcd_error *err)
{
	struct etcd_op		op = { ETCD_OP_PUT, key, strlen(key), value,
				    strlen(value), NULL, 0, lease };
	struct etcd_txn_req	q = { NULL, 0, &op, 1, NULL, 0 };
	struct etcd_txn_res	r;

	if (etcd_sync_txn(s, &q, &r, err) == -1)
		return (-1);
	return (r.header.revision);
}

static int
cmd_lease(struct etcd_sync *s, const char *key, const char *value,
    int64_t ttl)
{
	struct etcd_lease	l;
	struct etcd_error	err;
	int64_t			id, rev;

	if (etcd_sync_lease(s, 0, ttl, &l, &err) == -1)
		return (fail(&err));
	id = l.id;
	printf("granted ttl=%lld\n", (long long)l.ttl);
	if ((rev = lease_put(s, key, value, id, &err)) == -1)
		return (fail(&err));
	printf("put rev=%lld\n", (long long)rev);
	if (etcd_sync_lease(s, id, 0, &l, &err) == -1)
		return (fail(&err));
	printf("kept ttl=%lld same=%d\n", (long long)l.ttl, l.id == id);
	if (etcd_sync_lease(s, id, -1, &l, &err) == -1)
		return (fail(&err));
	printf("revoked rev=%lld\n", (long long)l.header.revision);
	if (etcd_sync_lease(s, id, 0, &l, &err) == -1)
		return (fail(&err));
	printf("kept ttl=%lld\n", (long long)l.ttl);
	if (lease_put(s, key, value, id, &err) != -1) {
		printf("put on a revoked lease: accepted\n");
		return (1);
	}
	return (fail(&err));
}

static int
cmd_sync(struct etcd_sync *s, int argc, char **argv)
{
	struct etcd_status	 st;
	struct etcd_header	 h;
	struct etcd_error	 err;
	int			 n;

	if (strcmp(argv[0], "status") == 0) {
		if (etcd_sync_status(s, &st, &err) == -1)
			return (fail(&err));
		printf("cluster=%llu member=%llu leader=%llu rev=%lld "
		    "version=%s endpoint=%s\n",
		    (unsigned long long)st.header.cluster_id,
		    (unsigned long long)st.header.member_id,
		    (unsigned long long)st.leader,
		    (long long)st.header.revision, st.version,
		    etcd_client_endpoint(etcd_sync_client(s)));
		return (0);
	}
	if (strcmp(argv[0], "auth") == 0) {
		if (etcd_sync_authenticate(s, &err) == -1)
			return (fail(&err));
		printf("authenticated\n");
		return (0);
	}
	if (strcmp(argv[0], "compact") == 0 && argc == 2) {
		if (etcd_sync_compact(s, atoll(argv[1]), &h, &err) == -1)
			return (fail(&err));
		printf("compacted rev=%lld\n", (long long)h.revision);
		return (0);
	}
	if (strcmp(argv[0], "get2") == 0 && argc == 3) {
		if (cmd_get(s, 1, argv + 1) != 0)
			return (2);
		/* The test restarts etcd, then makes FILE (60 s at most). */
		for (n = 0; n < 600 && access(argv[2], F_OK) == -1; n++)
			usleep(100000);
		return (cmd_get(s, 1, argv + 1));
	}
	if (strcmp(argv[0], "put") == 0 && argc == 3)
		return (put(s, argv[1], argv[2]));
	if (strcmp(argv[0], "get") == 0 && argc >= 2)
		return (cmd_get(s, argc - 1, argv + 1));
	if (strcmp(argv[0], "putn") == 0 && argc == 3)
		return (cmd_putn(s, argv[1], atoi(argv[2])));
	if (strcmp(argv[0], "cas") == 0 && argc == 4)
		return (cmd_cas(s, argv[1], argv[2], argv[3]));
	if (strcmp(argv[0], "rcas") == 0 && argc == 5)
		return (cmd_rcas(s, argv[1], argv[2], argv[3], argv[4]));
	if (strcmp(argv[0], "lease") == 0 && argc == 4)
		return (cmd_lease(s, argv[1], argv[2], atoll(argv[3])));
	fprintf(stderr, "etcd-probe: unknown command %s\n", argv[0]);
	return (64);
}

int
main(int argc, char **argv)
{
	struct etcd_endpoint	 ep[ETCD_ENDPOINTS_MAX];
	struct etcd_sync	*s;
	char			 err[ETCD_ERR_MAX];
	size_t			 n;
	int			 rc;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc < 2) {
		fprintf(stderr, "usage: etcd-probe command [args]\n");
		return (64);
	}
	if (strcmp(argv[1], "parse") == 0 && argc == 3) {
		if (etcd_endpoints_parse(argv[2], ep, ETCD_ENDPOINTS_MAX, &n,
		    err, sizeof(err)) == -1) {
			printf("error: %s\n", err);
			return (2);
		}
		printf("ok %zu\n", n);
		return (0);
	}
	if (strcmp(argv[1], "rjson") == 0 && argc == 3)
		return (cmd_rjson(argv[2]));
	if (strcmp(argv[1], "cjson") == 0 && argc == 3)
		return (cmd_cjson(argv[2]));
	config();
	if (strcmp(argv[1], "walk") == 0 && argc == 5)
		return (cmd_walk(argv[2], atoi(argv[3]),
		    strtoul(argv[4], NULL, 10)));
	if (strcmp(argv[1], "watch") == 0 && argc == 5)
		return (cmd_watch(argv[2], argv[3], atol(argv[4])));
	if (strcmp(argv[1], "changed") == 0 && argc == 5)
		return (cmd_changed(argv[2], argv[3], argv[4]));
	s = sync_new();
	rc = cmd_sync(s, argc - 1, argv + 1);
	etcd_sync_free(s);
	return (rc);
}
