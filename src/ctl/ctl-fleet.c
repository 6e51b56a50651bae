/* SPDX-License-Identifier: ISC */
/*
 * ctl-fleet.c: kmsauthzctl fleet status (where a host stands in its
 * fleet) and kmsauthzctl fleet push (a standalone store into an empty
 * fleet: docs/fleet.md, "Moving a standalone host into a fleet").
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "ctl/ctl-admin.h"
#include "ctl/ctl.h"
#include "fleet/etcd.h"
#include "fleet/fleet.h"
#include "store/store.h"
#include "store/store-cset.h"

static int
ctl_fleet_status(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 }
	};
	struct json_object	*a = NULL, *f, *o, *g;
	const char		*sock = NULL, *state;
	char			*ans;
	size_t			 len;
	int			 ch, rc;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (ch != 's') {
			fprintf(stderr, "usage: kmsauthzctl fleet status "
			    "[--socket ADMIN_SOCKET]\n");
			return (CTL_EXIT_ERROR);
		}
		sock = optarg;
	}
	if ((ans = ctl_admin_send(ctl_admin_socket_path(sock), NULL,
	    "{\"Action\":\"Status\"}", 19, &len)) == NULL)
		return (CTL_EXIT_ERROR);
	if ((a = json_tokener_parse(ans)) == NULL ||
	    !json_object_object_get_ex(a, "Fleet", &f)) {
		fprintf(stderr, "kmsauthzctl: fleet status: no Fleet in the "
		    "answer: %s\n", ans);
		free(ans);
		json_object_put(a);
		return (CTL_EXIT_ERROR);
	}
	free(ans);
	o = json_object_get(f);
	if (json_object_object_get_ex(a, "Generation", &g))
		json_object_object_add(o, "Generation", json_object_get(g));
	state = json_object_get_string(json_object_object_get(o, "State"));
	/* 0: in step; 1: standalone, syncing, stale or degraded. */
	rc = state != NULL && strcmp(state, "serving") == 0 ? CTL_EXIT_OK :
	    CTL_EXIT_NO;
	json_object_put(a);
	if (ctl_json_print(o) != 0)
		return (CTL_EXIT_ERROR);
	return (rc);
}

struct ctl_push {
	struct etcd_config	 ec;
	const char		*db;
	const char		*prefix;
	const char		*password_file;
	char			 password[ETCD_PASSWORD_MAX];
	int			 force;
	int64_t			 ttl;	/* the staged set's lease */
};

static int
ctl_push_args(int argc, char **argv, struct ctl_push *p)
{
	static const struct option opts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "endpoints", required_argument, NULL, 'e' },
		{ "prefix", required_argument, NULL, 'p' },
		{ "cacert", required_argument, NULL, 'a' },
		{ "cert", required_argument, NULL, 'c' },
		{ "key", required_argument, NULL, 'k' },
		{ "user", required_argument, NULL, 'u' },
		{ "password-file", required_argument, NULL, 'w' },
		{ "timeout", required_argument, NULL, 't' },
		{ "force", no_argument, NULL, 'f' },
		{ "stage-ttl", required_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 }
	};
	char	 err[512];
	int	 ch;

	memset(p, 0, sizeof(*p));
	p->prefix = FLEET_PREFIX_DEFAULT;
	p->ttl = FLEET_STAGE_TTL_DEFAULT;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'd': p->db = optarg; break;
		case 'e': p->ec.endpoints = optarg; break;
		case 'p': p->prefix = optarg; break;
		case 'a': p->ec.ca_file = optarg; break;
		case 'c': p->ec.cert_file = optarg; break;
		case 'k': p->ec.key_file = optarg; break;
		case 'u': p->ec.user = optarg; break;
		case 'w': p->password_file = optarg; break;
		case 't': p->ec.timeout = atoi(optarg); break;
		case 'f': p->force = 1; break;
		case 's': p->ttl = atoi(optarg); break;
		default: goto usage;
		}
	}
	if (optind != argc || p->db == NULL || p->ec.endpoints == NULL ||
	    p->ttl < 2 || p->ttl > 3600)
		goto usage;
	if (p->password_file != NULL) {
		if (etcd_password_read(p->password_file, p->password,
		    sizeof(p->password), err, sizeof(err)) != 0) {
			fprintf(stderr, "kmsauthzctl: %s\n", err);
			return (-1);
		}
		p->ec.password = p->password;
	}
	return (0);
usage:
	fprintf(stderr, "usage: kmsauthzctl fleet push --db DIR --endpoints "
	    "URLS [--prefix /P/] [--cacert F] [--cert F --key F] [--user U "
	    "--password-file F] [--timeout S] [--stage-ttl 2..3600] "
	    "[--force]\n");
	return (-1);
}

static int
ctl_push_collect(int type, const void *k, size_t klen, const void *v,
    size_t vlen, void *arg)
{
	store_cset_add(arg, type, k, klen, v, vlen);
	return (STORE_OK);
}

/* The fleet's "current" now: its mod revision (0: absent) and set. */
static int
ctl_push_current(struct etcd_sync *s, const char *key, int64_t *modp,
    char *data, size_t datalen)
{
	struct etcd_range_req	 q;
	struct etcd_range_res	*res;
	struct etcd_error	 err;

	memset(&q, 0, sizeof(q));
	q.key = key;
	q.keylen = strlen(key);
	if (etcd_sync_range(s, &q, &res, &err) != 0) {
		fprintf(stderr, "kmsauthzctl: fleet push: %s\n", err.msg);
		return (-1);
	}
	*modp = 0;
	data[0] = '\0';
	if (res->nkvs > 0) {
		*modp = res->kvs[0].mod_revision;
		if (fleet_current_parse(res->kvs[0].value,
		    res->kvs[0].valuelen, data, datalen) != 0)
			snprintf(data, datalen, "?");
	}
	etcd_range_res_free(res);
	return (0);
}

/*
 * The batches of the staged set, then the switch, its lease kept alive
 * between them: 0 with the switch's result, or -1 (said).
 */
static int
ctl_push_batches(struct etcd_sync *s, struct fleet_stage *sg,
    const struct store_cset *cs, int64_t mod, const char *old, int64_t ttl,
    struct etcd_txn_res *res)
{
	struct fleet_txn	*t = fleet_txn_new();
	struct etcd_txn_req	 q;
	struct etcd_lease	 l;
	struct etcd_error	 err;
	time_t			 kept = time(NULL);
	size_t			 next = 0;
	int			 rc = -1, switching;

	for (;;) {
		if (time(NULL) - kept >= ttl / 3) {
			if (etcd_sync_lease(s, sg->lease, 0, &l, &err) != 0 ||
			    l.ttl <= 0) {
				fprintf(stderr, "kmsauthzctl: fleet push: the "
				    "staged set's lease: %s\n", l.ttl <= 0 ?
				    "ended" : err.msg);
				goto out;
			}
			kept = time(NULL);
		}
		fleet_txn_reset(t);
		if ((next = fleet_txn_stage(t, sg, cs, next)) == SIZE_MAX) {
			fprintf(stderr, "kmsauthzctl: fleet push: a record "
			    "of the store does not encode\n");
			goto out;
		}
		fleet_txn_req(t, &q);
		/* Everything staged: switch "current" to it. */
		if ((switching = q.nsuccess == 0)) {
			fleet_txn_switch(t, sg, mod, old);
			fleet_txn_req(t, &q);
		}
		if (etcd_sync_txn(s, &q, res, &err) != 0) {
			fprintf(stderr, "kmsauthzctl: fleet push: %s\n",
			    err.msg);
			goto out;
		}
		if (switching)
			break;
		if (!res->succeeded) {
			fprintf(stderr, "kmsauthzctl: fleet push: the staged "
			    "set's lease ended and the set was reclaimed\n");
			goto out;
		}
	}
	rc = 0;
out:
	fleet_txn_free(t);
	return (rc);
}

/*
 * Every record of the store as a new data set, then the switch.  The
 * set is staged on a lease of its own, revoked at the end: a push that
 * fails or dies leaves a set that the fleet's hosts reclaim.
 */
static int
ctl_fleet_push(int argc, char **argv)
{
	struct ctl_push		 p;
	struct store_opts	 so;
	struct store		*st = NULL;
	struct store_cset	 cs;
	struct etcd_sync	*s = NULL;
	struct etcd_txn_res	 res;
	struct etcd_lease	 l;
	struct etcd_error	 err;
	struct fleet_stage	 sg;
	char			 cur[64], msg[512], who[320];
	char			*cause = NULL, *key = NULL;
	int64_t			 mod;
	int			 rc = CTL_EXIT_ERROR, r;

	store_cset_init(&cs);
	if (ctl_push_args(argc, argv, &p) != 0)
		goto out;
	memset(&so, 0, sizeof(so));
	so.readonly = 1;
	if (store_open(p.db, &so, &st, &cause) != STORE_OK) {
		fprintf(stderr, "kmsauthzctl: %s\n", cause);
		goto out;
	}
	if (store_records(st, ctl_push_collect, &cs) != STORE_OK) {
		fprintf(stderr, "kmsauthzctl: %s\n", store_errmsg(st));
		goto out;
	}
	if ((s = etcd_sync_new(&p.ec, msg, sizeof(msg))) == NULL) {
		fprintf(stderr, "kmsauthzctl: fleet push: %s\n", msg);
		goto out;
	}
	key = fleet_key_current(p.prefix);
	if (ctl_push_current(s, key, &mod, cur, sizeof(cur)) != 0)
		goto out;
	if (mod != 0 && !p.force) {
		fprintf(stderr, "kmsauthzctl: fleet push: %s holds a state "
		    "already (data set %s): refused (--force replaces it)\n",
		    p.prefix, cur);
		rc = CTL_EXIT_NO;
		goto out;
	}
	if (etcd_sync_lease(s, 0, p.ttl, &l, &err) != 0) {
		fprintf(stderr, "kmsauthzctl: fleet push: %s\n", err.msg);
		goto out;
	}
	memset(&sg, 0, sizeof(sg));
	fleet_data_id(sg.id);
	fleet_who("kmsauthzctl fleet push", who, sizeof(who));
	sg.prefix = p.prefix;
	sg.who = who;
	sg.lease = l.id;
	r = ctl_push_batches(s, &sg, &cs, mod, cur[0] != '?' ? cur : NULL,
	    p.ttl, &res);
	(void)etcd_sync_lease(s, sg.lease, -1, &l, &err);
	if (r != 0)
		goto out;
	if (!res.succeeded) {
		fprintf(stderr, "kmsauthzctl: fleet push: %s changed while "
		    "pushing: nothing switched (run it again)\n", key);
		rc = CTL_EXIT_NO;
		goto out;
	}
	printf("{\"Records\":%zu,\"DataSet\":\"%s\",\"Revision\":%" PRId64
	    "}\n", cs.nw, sg.id, res.header.revision);
	rc = CTL_EXIT_OK;
out:
	free(key);
	free(cause);
	store_cset_free(&cs);
	if (s != NULL)
		etcd_sync_free(s);
	if (st != NULL)
		store_close(st);
	return (rc);
}

int
ctl_fleet(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "status") == 0)
		return (ctl_fleet_status(argc - 1, argv + 1));
	if (argc >= 2 && strcmp(argv[1], "push") == 0)
		return (ctl_fleet_push(argc - 1, argv + 1));
	fprintf(stderr, "usage: kmsauthzctl fleet status [--socket "
	    "ADMIN_SOCKET]\n       kmsauthzctl fleet push --db DIR "
	    "--endpoints URLS [--prefix /P/] [--force] ...\n");
	return (CTL_EXIT_ERROR);
}
