/* SPDX-License-Identifier: ISC */
/*
 * fleet.c: fleet mode's thread, its state and the Status object
 * (fleet.h).  The mirror (fleet-mirror.c) and the writes
 * (fleet-write.c) run on this thread's event_base.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/thread.h>
#include <json-c/json.h>
#include <sodium.h>

#include "common/log.h"
#include "common/xmalloc.h"
#include "fleet/fleet-int.h"
#include "store/store.h"

const char *
fleet_state_name(enum fleet_state s)
{
	static const char *const names[] = { "standalone", "syncing",
	    "serving", "stale", "degraded" };

	return ((unsigned)s < sizeof(names) / sizeof(names[0]) ? names[s] :
	    "unknown");
}

char *
fleet_key_current(const char *prefix)
{
	char	*k;

	if (asprintf(&k, "%scurrent", prefix) == -1)
		fatal("asprintf");
	return (k);
}

char *
fleet_key_data(const char *prefix, const char *id)
{
	char	*k;

	if (asprintf(&k, "%sdata/%s/", prefix, id) == -1)
		fatal("asprintf");
	return (k);
}

/* "PREFIX DIR/ID" (NULL id: "PREFIX DIR/"): the registry's keys. */
static char *
fleet_key_id(const char *prefix, const char *dir, const char *id)
{
	char	*k;

	if (asprintf(&k, "%s%s/%s", prefix, dir, id != NULL ? id : "") == -1)
		fatal("asprintf");
	return (k);
}

char *
fleet_key_set(const char *prefix, const char *id)
{
	return (fleet_key_id(prefix, "sets", id));
}

char *
fleet_key_staging(const char *prefix, const char *id)
{
	return (fleet_key_id(prefix, "staging", id));
}

char *
fleet_stage_json(const char *who)
{
	struct json_object	*o = json_object_new_object();
	struct tm		 tm;
	time_t			 now = time(NULL);
	char			 since[32] = "", *s;

	if (gmtime_r(&now, &tm) != NULL)
		(void)strftime(since, sizeof(since), "%Y-%m-%dT%H:%M:%SZ",
		    &tm);
	json_object_object_add(o, "By", json_object_new_string(who));
	json_object_object_add(o, "Since", json_object_new_string(since));
	s = xstrdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
	return (s);
}

void
fleet_who(const char *what, char *out, size_t outlen)
{
	char	host[256];

	if (gethostname(host, sizeof(host)) != 0)
		snprintf(host, sizeof(host), "?");
	host[sizeof(host) - 1] = '\0';
	snprintf(out, outlen, "%s on %s (pid %ld)", what, host,
	    (long)getpid());
}

void
fleet_data_id(char out[FLEET_DATA_ID_MAX])
{
	unsigned char	 r[8];

	randombytes_buf(r, sizeof(r));
	sodium_bin2hex(out, FLEET_DATA_ID_MAX, r, sizeof(r));
}

char *
fleet_current_json(const char *id)
{
	struct json_object	*o = json_object_new_object();
	char			*s;

	json_object_object_add(o, "Data", json_object_new_string(id));
	s = xstrdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
	return (s);
}

/* {"Data":"<1-39 of [0-9a-z]>"} and nothing else. */
int
fleet_current_parse(const void *v, size_t len, char *id, size_t idlen)
{
	struct json_tokener	*tok;
	struct json_object	*o, *d;
	const char		*s;
	int			 rc = -1;

	if ((tok = json_tokener_new_ex(4)) == NULL)
		return (-1);
	o = json_tokener_parse_ex(tok, v, (int)len);
	if (o != NULL && json_tokener_get_error(tok) == json_tokener_success &&
	    json_object_is_type(o, json_type_object) &&
	    json_object_object_length(o) == 1 &&
	    json_object_object_get_ex(o, "Data", &d) &&
	    json_object_is_type(d, json_type_string) &&
	    (s = json_object_get_string(d))[0] != '\0' &&
	    strlen(s) < idlen && strspn(s, "0123456789abcdefghijklmnopqrstuvwxyz")
	    == strlen(s)) {
		memcpy(id, s, strlen(s) + 1);
		rc = 0;
	}
	json_object_put(o);
	json_tokener_free(tok);
	return (rc);
}

void
fleet_set_state(struct fleet *f, enum fleet_state s, const char *why)
{
	pthread_mutex_lock(&f->mu);
	if (f->state != s)
		log_info("fleet: %s%s%s", fleet_state_name(s),
		    why != NULL ? ": " : "", why != NULL ? why : "");
	f->state = s;
	if (s == FLEET_DEGRADED && why != NULL)
		snprintf(f->degraded, sizeof(f->degraded), "%s", why);
	else if (s == FLEET_SERVING)
		f->degraded[0] = '\0';
	pthread_cond_broadcast(&f->cv);
	pthread_mutex_unlock(&f->mu);
}

/* etcd answered (ok) or could not be reached (why). */
void
fleet_contact(struct fleet *f, int ok, const char *why)
{
	pthread_mutex_lock(&f->mu);
	if (ok) {
		f->connected = 1;
		f->last_contact = time(NULL);
	} else {
		if (f->connected)
			log_warnx("fleet: etcd unreachable: %s", why);
		f->connected = 0;
		snprintf(f->last_error, sizeof(f->last_error), "%s", why);
	}
	pthread_mutex_unlock(&f->mu);
}

uint64_t
fleet_applied(struct fleet *f)
{
	uint64_t	 a;

	pthread_mutex_lock(&f->mu);
	a = (uint64_t)f->applied;
	pthread_mutex_unlock(&f->mu);
	return (a);
}

/* Serving without contact for max_staleness seconds is stale. */
static enum fleet_state
fleet_state_locked(struct fleet *f)
{
	if (f->state == FLEET_SERVING &&
	    time(NULL) - f->last_contact > (time_t)f->max_staleness)
		return (FLEET_STALE);
	return (f->state);
}

enum fleet_state
fleet_state(struct fleet *f)
{
	enum fleet_state	 s;

	if (f == NULL)
		return (FLEET_STANDALONE);
	pthread_mutex_lock(&f->mu);
	s = fleet_state_locked(f);
	pthread_mutex_unlock(&f->mu);
	return (s);
}

struct json_object *
fleet_status_json(struct fleet *f)
{
	struct json_object	*o = json_object_new_object(), *e;
	char			 buf[64], *list, *p, *tok;
	struct tm		 tm;

	if (f == NULL) {
		json_object_object_add(o, "State",
		    json_object_new_string("standalone"));
		return (o);
	}
	e = json_object_new_array();
	list = xstrdup(f->endpoints);
	for (p = list; (tok = strsep(&p, ",")) != NULL; )
		if (*tok != '\0')
			json_object_array_add(e, json_object_new_string(tok));
	free(list);
	pthread_mutex_lock(&f->mu);
	json_object_object_add(o, "State",
	    json_object_new_string(fleet_state_name(fleet_state_locked(f))));
	json_object_object_add(o, "Endpoints", e);
	json_object_object_add(o, "Prefix", json_object_new_string(f->prefix));
	json_object_object_add(o, "Connected",
	    json_object_new_boolean(f->connected));
	snprintf(buf, sizeof(buf), "%016" PRIx64, f->cluster_id);
	json_object_object_add(o, "ClusterId", f->cluster_id != 0 ?
	    json_object_new_string(buf) : NULL);
	json_object_object_add(o, "AppliedRevision",
	    json_object_new_int64(f->applied));
	json_object_object_add(o, "DataSet", f->data[0] != '\0' ?
	    json_object_new_string(f->data) : NULL);
	if (f->last_contact != 0 && gmtime_r(&f->last_contact, &tm) != NULL &&
	    strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm) != 0)
		json_object_object_add(o, "LastContact",
		    json_object_new_string(buf));
	else
		json_object_object_add(o, "LastContact", NULL);
	if (f->degraded[0] != '\0')
		json_object_object_add(o, "Degraded",
		    json_object_new_string(f->degraded));
	if (!f->connected && f->last_error[0] != '\0')
		json_object_object_add(o, "LastError",
		    json_object_new_string(f->last_error));
	json_object_object_add(o, "ReclaimedSets",
	    json_object_new_int64((int64_t)f->reclaimed));
	json_object_object_add(o, "WatchRestarts",
	    json_object_new_int64((int64_t)f->watch_restarts));
	pthread_mutex_unlock(&f->mu);
	return (o);
}

static void
fleet_tick_cb(evutil_socket_t fd, short ev, void *arg)
{
	fleet_reclaim_tick(arg);
	fleet_mirror_tick(arg);
}

static void
fleet_stage_ka_tick(evutil_socket_t fd, short ev, void *arg)
{
	fleet_stage_keepalive(arg);
}

static void
fleet_wake_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct fleet	*f = arg;
	int		 stop;

	pthread_mutex_lock(&f->mu);
	stop = f->stop;
	pthread_mutex_unlock(&f->mu);
	if (stop) {
		fleet_mirror_stop(f);
		fleet_write_abort(f);
		event_base_loopbreak(f->base);
		return;
	}
	fleet_write_run(f);
}

static void *
fleet_main(void *arg)
{
	struct fleet	*f = arg;

	fleet_mirror_connect(f);
	event_base_dispatch(f->base);
	return (NULL);
}

static int
fleet_config_copy(struct fleet *f, const struct fleet_config *c, char *err,
    size_t errlen)
{
	struct etcd_endpoint	 ep[ETCD_ENDPOINTS_MAX];
	size_t			 n;
	const char		*p = c->prefix != NULL ? c->prefix :
				    FLEET_PREFIX_DEFAULT;

	if (etcd_endpoints_parse(c->endpoints, ep, ETCD_ENDPOINTS_MAX, &n, err,
	    errlen) != 0)
		return (-1);
	if (p[0] != '/' || strlen(p) < 2 || p[strlen(p) - 1] != '/' ||
	    strlen(p) >= sizeof(f->prefix) - 64 || strstr(p, "//") != NULL) {
		snprintf(err, errlen, "etcd_prefix %s: not /NAME/ (a path "
		    "that starts and ends with /, at most %d bytes)", p,
		    FLEET_PREFIX_MAX - 64);
		return (-1);
	}
	if ((c->cert != NULL) != (c->key != NULL)) {
		snprintf(err, errlen, "etcd_cert and etcd_key go together");
		return (-1);
	}
	if ((c->user != NULL) != (c->password_file != NULL)) {
		snprintf(err, errlen, "etcd_user and etcd_password_file go "
		    "together");
		return (-1);
	}
	if (c->password_file != NULL && etcd_password_read(c->password_file,
	    f->password, sizeof(f->password), err, errlen) != 0)
		return (-1);
	snprintf(f->prefix, sizeof(f->prefix), "%s", p);
	f->endpoints = xstrdup(c->endpoints);
	f->cacert = c->cacert != NULL ? xstrdup(c->cacert) : NULL;
	f->cert = c->cert != NULL ? xstrdup(c->cert) : NULL;
	f->key = c->key != NULL ? xstrdup(c->key) : NULL;
	f->user = c->user != NULL ? xstrdup(c->user) : NULL;
	f->timeout = c->timeout;
	f->max_staleness = c->max_staleness ? c->max_staleness :
	    FLEET_STALENESS_DEFAULT;
	f->stage_ttl = c->stage_ttl ? c->stage_ttl : FLEET_STAGE_TTL_DEFAULT;
	f->reclaim_interval = c->reclaim_interval ? c->reclaim_interval :
	    FLEET_RECLAIM_DEFAULT;
	fleet_who("kmsauthzd", f->who, sizeof(f->who));
	f->key_current = fleet_key_current(f->prefix);
	return (0);
}

static void
fleet_free(struct fleet *f)
{
	if (f->cli != NULL)
		etcd_client_free(f->cli);
	if (f->tick != NULL)
		event_free(f->tick);
	if (f->wake != NULL)
		event_free(f->wake);
	if (f->stage_ka != NULL)
		event_free(f->stage_ka);
	fleet_reclaim_free(f);
	if (f->base != NULL)
		event_base_free(f->base);
	store_cset_free(&f->rs);
	free(f->endpoints);
	free(f->cacert);
	free(f->cert);
	free(f->key);
	free(f->user);
	free(f->key_current);
	sodium_memzero(f->password, sizeof(f->password));
	pthread_mutex_destroy(&f->mu);
	pthread_cond_destroy(&f->cv);
	free(f);
}

struct fleet *
fleet_start(const struct fleet_config *c, struct store *st,
    void (*published)(void *), void *arg, char *err, size_t errlen)
{
	struct etcd_config	 ec;
	struct timeval		 sec = { 1, 0 };
	struct fleet		*f = xcalloc(1, sizeof(*f));
	pthread_condattr_t	 ca;

	pthread_mutex_init(&f->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&f->cv, &ca);
	pthread_condattr_destroy(&ca);
	store_cset_init(&f->rs);
	if (fleet_config_copy(f, c, err, errlen) != 0) {
		fleet_free(f);
		return (NULL);
	}
	f->st = st;
	f->published = published;
	f->published_arg = arg;
	/*
	 * A store that mirrored this fleet before serves what it has (stale
	 * until etcd answers); any other waits for its first whole state.
	 */
	f->state = store_fleet_meta(st, "cluster", f->data,
	    sizeof(f->data)) == STORE_OK ? FLEET_SERVING : FLEET_SYNCING;
	f->data[0] = '\0';
	f->applied = (int64_t)store_generation(st);
	f->seen = f->applied;
	memset(&ec, 0, sizeof(ec));
	ec.endpoints = f->endpoints;
	ec.timeout = (int)f->timeout;
	ec.ca_file = f->cacert;
	ec.cert_file = f->cert;
	ec.key_file = f->key;
	ec.user = f->user;
	ec.password = f->user != NULL ? f->password : NULL;
	if ((f->base = event_base_new()) == NULL ||
	    (f->cli = etcd_client_new(f->base, &ec, err, errlen)) == NULL ||
	    (f->tick = event_new(f->base, -1, EV_PERSIST, fleet_tick_cb,
	    f)) == NULL || (f->wake = event_new(f->base, -1, 0, fleet_wake_cb,
	    f)) == NULL || (f->stage_ka = event_new(f->base, -1, EV_PERSIST,
	    fleet_stage_ka_tick, f)) == NULL) {
		if (f->base == NULL || f->tick == NULL || f->wake == NULL ||
		    f->stage_ka == NULL)
			snprintf(err, errlen, "fleet: out of memory");
		fleet_free(f);
		return (NULL);
	}
	event_add(f->tick, &sec);
	store_set_sink(st, fleet_sink, f);
	return (f);
}

int
fleet_run(struct fleet *f, char *err, size_t errlen)
{
	if ((errno = pthread_create(&f->thread, NULL, fleet_main, f)) != 0) {
		snprintf(err, errlen, "fleet: thread: %s", strerror(errno));
		return (-1);
	}
	f->running = 1;
	return (0);
}

void
fleet_stop(struct fleet *f)
{
	if (f == NULL)
		return;
	pthread_mutex_lock(&f->mu);
	f->stop = 1;
	pthread_cond_broadcast(&f->cv);
	pthread_mutex_unlock(&f->mu);
	if (f->running) {
		event_active(f->wake, EV_READ, 0);
		pthread_join(f->thread, NULL);
	}
	store_set_sink(f->st, NULL, NULL);
	fleet_free(f);
}
