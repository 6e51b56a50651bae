/* SPDX-License-Identifier: ISC */
/*
 * server-admin.c: the server's admin plane.  Admin connections are
 * served by a worker thread of their own (srv->admin_worker), so that a
 * long call (a 16 MiB ImportBundle) never stalls the main thread's
 * accepts nor any query connection.  Every ADMIN_REQUEST frame comes
 * here, on that thread, with the peer credentials taken at accept, and
 * is answered by the admin pipeline (src/admin: identity, parameters,
 * authorization, audit, one store change per call).
 *
 * The plane owns the store (state_directory) and keeps the world the
 * workers read (srv->holder) equal to the store's: after every change,
 * before the answer is sent, so the next query on any connection sees
 * it; and from a 200 ms timer on the same thread, which also runs the
 * scheduled key deletions.  SIGHUP's part (the store re-read, the audit
 * file reopened) runs on that thread too (server_admin_reload), so the
 * plane's state has one thread only; it lives in srv->admin.
 *
 * Who may administer is the admin configuration's business
 * (admin.conf, docs/admin-api.md): mapped uids and gids, signed
 * requests, uid 0.
 */
#include <sys/types.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include <event2/event.h>

#include "admin/admin-exec.h"
#include "admin/admin.h"
#include "common/log.h"
#include "daemon/daemon.h"
#include "daemon/declog.h"
#include "daemon/metrics.h"
#include "engine/world.h"
#include "fleet/fleet.h"
#include "policy/bundle.h"
#include "policy/policy.h"
#include "proto/proto.h"
#include "store/store.h"

static int	server_admin_respond(struct conn *, uint32_t,
		    struct json_object *);
static int	server_admin_too_large(struct conn *, uint32_t,
		    struct json_object *, size_t);
static void	server_admin_status(struct json_object *, void *);
static void	server_admin_sync(struct server *);
static void	server_admin_timer_cb(evutil_socket_t, short, void *);
static void	server_admin_reload_cb(evutil_socket_t, short, void *);
static void	server_admin_count(const struct proto_admin *,
		    struct json_object *, uint64_t);

/*
 * An answer larger than one admin response carries (only ExportBundle
 * of a very large state can be): the call's own error, naming the size
 * and the way round, instead of a bare protocol error.
 */
static int
server_admin_too_large(struct conn *c, uint32_t id, struct json_object *o,
    size_t len)
{
	struct json_object	*rid = NULL, *e;
	char			 detail[256];

	snprintf(detail, sizeof(detail), "the answer is %zu bytes, more "
	    "than the %d bytes one admin response carries; a state this "
	    "large is exported with kmsauthzctl export --db DIR", len,
	    KMSAUTHZ_MAX_ADMIN_REPLY_BODY);
	log_warnx("admin: %s", detail);
	json_object_object_get_ex(o, "RequestId", &rid);
	e = admin_err_json(ADMIN_E_INTERNAL, json_object_get_string(rid),
	    detail);
	json_object_put(o);
	return (server_admin_respond(c, id, e));
}

static int
server_admin_respond(struct conn *c, uint32_t id, struct json_object *o)
{
	const char	*text;
	size_t		 len;
	int		 r;

	if (o == NULL)
		return (conn_error(c, id, KMSAUTHZ_WERR_INTERNAL, 0,
		    "out of memory"));
	text = json_object_to_json_string_length(o, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE,
	    &len);
	if (len > KMSAUTHZ_MAX_ADMIN_REPLY_BODY - 64)
		return (server_admin_too_large(c, id, o, len));
	r = conn_reply(c, KMSAUTHZ_MSG_ADMIN_RESPONSE, id, text, len);
	json_object_put(o);
	if (r == -1)
		return (conn_error(c, id, KMSAUTHZ_WERR_INTERNAL, 1,
		    "cannot encode the admin response"));
	return (0);
}

/*
 * The Status call's answer gets the daemon's own figures (the admin
 * pipeline calls this hook, admin_ctx_set_status_hook): what it has
 * already (RequestId, Generation, Caller) it keeps.
 */
static void
server_admin_status(struct json_object *ans, void *arg)
{
	struct server		*srv = arg;
	struct json_object	*o;
	struct world		*w;
	struct world_counts	 wc;
	struct server_decisions	 d;
	struct declog_counts	 dc;
	char			 cause[1200];
	uint64_t		 gen = 0;
	int			 ro;

	memset(&wc, 0, sizeof(wc));
	if ((w = world_holder_acquire(srv->holder)) != NULL) {
		gen = world_generation(w);
		world_counts(w, &wc);
		world_unref(w);
	}
	if ((o = json_object_new_object()) == NULL)
		return;
	json_object_object_add(o, "Software",
	    json_object_new_string("kmsauthzd " PACKAGE_VERSION));
	json_object_object_add(o, "Generation",
	    json_object_new_uint64(gen));
	json_object_object_add(o, "UptimeSeconds",
	    json_object_new_int64((int64_t)(time(NULL) - srv->started)));
	json_object_object_add(o, "Connections",
	    json_object_new_int64(server_nconns(srv)));
	json_object_object_add(o, "Threads",
	    json_object_new_int64(srv->nworkers));
	/*
	 * Changes refused, reads and queries served (docs/daemon.md): a
	 * read-only store, or an audit file that cannot be opened.
	 */
	ro = admin_ctx_unavailable(srv->admin.ctx, cause, sizeof(cause));
	json_object_object_add(o, "ReadOnly", json_object_new_boolean(ro));
	if (ro)
		json_object_object_add(o, "ReadOnlyCause",
		    json_object_new_string(cause));
#define ADD_COUNT(n, f) json_object_object_add(o, n,			\
	json_object_new_uint64((uint64_t)wc.f))
	ADD_COUNT("Instances", instances);
	ADD_COUNT("Keys", keys);
	ADD_COUNT("Aliases", aliases);
	ADD_COUNT("Policies", policies);
	ADD_COUNT("Users", users);
	ADD_COUNT("Roles", roles);
	ADD_COUNT("Groups", groups);
#undef ADD_COUNT
#define ADD_STAT(n, f) json_object_object_add(o, n,			\
	json_object_new_uint64(atomic_load(&srv->stats.f)))
	ADD_STAT("Accepted", accepted);
	ADD_STAT("Closed", closed);
	ADD_STAT("RejectedTotal", rejected_total);
	ADD_STAT("RejectedPerUid", rejected_per_uid);
	ADD_STAT("RejectedAdmin", rejected_admin);
	ADD_STAT("RejectedAdminPerUid", rejected_admin_per_uid);
	ADD_STAT("AcceptBackoffs", accept_backoffs);
	ADD_STAT("ProtocolErrors", proto_errors);
	ADD_STAT("IdleTimeouts", idle_timeouts);
	ADD_STAT("SlowClientCloses", slow_client_closes);
	ADD_STAT("RequestTimeouts", request_timeouts);
	ADD_STAT("QueueFullPauses", queue_full_pauses);
	ADD_STAT("Reloads", reloads);
	ADD_STAT("ParkedTotal", parked);
	ADD_STAT("ParkedAnswered", parked_answered);
	ADD_STAT("ParkedTimedOut", parked_timed_out);
	ADD_STAT("ParkedRefused", parked_refused);
#undef ADD_STAT
	json_object_object_add(o, "ParkedChecks",
	    json_object_new_uint64(atomic_load(&srv->nparked)));
	json_object_object_add(o, "Fleet", fleet_status_json(srv->admin.fleet));
	declog_counts(&dc);
	json_object_object_add(o, "DecisionLogWritten",
	    json_object_new_uint64(dc.written));
	json_object_object_add(o, "DecisionLogDropped",
	    json_object_new_uint64(dc.dropped));
	json_object_object_add(o, "ReloadFailures",
	    json_object_new_uint64(metrics_reload_failures()));
	server_decisions(srv, &d);
	json_object_object_add(o, "Checks", json_object_new_uint64(d.checks));
	json_object_object_add(o, "Allows", json_object_new_uint64(d.allows));
	json_object_object_add(o, "Denies", json_object_new_uint64(d.denies));
	json_object_object_add(o, "CheckErrors",
	    json_object_new_uint64(d.check_errors));
	json_object_object_foreach(o, k, val)
		if (!json_object_object_get_ex(ans, k, NULL))
			json_object_object_add(ans, k, json_object_get(val));
	json_object_put(o);
}

/*
 * Publish the store's world to the workers when theirs differs.  The
 * admin thread and a fleet's mirror both call it: one at a time, so
 * that an older world is never published after a newer one.
 */
static void
server_admin_sync(struct server *srv)
{
	struct world	*w;

	if (srv->admin.store == NULL)
		return;
	pthread_mutex_lock(&srv->admin.sync_mu);
	if (world_holder_generation(srv->holder) !=
	    world_holder_generation(store_holder(srv->admin.store)) &&
	    (w = world_holder_acquire(store_holder(srv->admin.store))) != NULL)
		server_publish(srv, w);
	pthread_mutex_unlock(&srv->admin.sync_mu);
}

/* A fleet's mirror published a world in the store's holder. */
static void
server_admin_fleet_published(void *arg)
{
	server_admin_sync(arg);
}

/*
 * Fleet mode: the store becomes the mirror of etcd (docs/fleet.md).
 * Its changes go to etcd from the start; the mirror's thread runs once
 * the workers exist (server_admin_seed): it publishes worlds.
 */
static int
server_admin_fleet(struct server *srv, const struct config *cfg)
{
	const struct config_fleet	*c = &cfg->fleet;
	struct fleet_config		 fc;
	char				 err[1024];

#define FLEET_OPT(s) ((s)[0] != '\0' ? (s) : NULL)
	memset(&fc, 0, sizeof(fc));
	fc.endpoints = c->etcd_endpoints;
	fc.prefix = c->etcd_prefix;
	fc.cacert = FLEET_OPT(c->etcd_cacert);
	fc.cert = FLEET_OPT(c->etcd_cert);
	fc.key = FLEET_OPT(c->etcd_key);
	fc.user = FLEET_OPT(c->etcd_user);
	fc.password_file = FLEET_OPT(c->etcd_password_file);
	fc.timeout = c->etcd_timeout;
	fc.max_staleness = c->fleet_max_staleness;
	fc.stage_ttl = c->etcd_stage_ttl;
	fc.reclaim_interval = c->etcd_reclaim_interval;
#undef FLEET_OPT
	if ((srv->admin.fleet = fleet_start(&fc, srv->admin.store,
	    server_admin_fleet_published, srv, err, sizeof(err))) == NULL) {
		log_warnx("fleet: %s", err);
		return (-1);
	}
	log_info("fleet: mirroring %s%s (applied revision %" PRIu64 ")",
	    c->etcd_endpoints, c->etcd_prefix,
	    store_generation(srv->admin.store));
	return (0);
}

static void
server_admin_timer_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct server	*srv = arg;

	admin_tick(srv->admin.ctx, (int64_t)time(NULL));
	server_admin_sync(srv);
}

/*
 * An empty store is seeded from seed_bundle (all or nothing, one
 * transaction).  The bundle is read and checked here, at start-up, and
 * kept; server_admin_seed() commits it once every other step of the start
 * that can fail has passed, so a refused start commits nothing.  A store
 * with state is never touched by the seed, which is then not even read
 * (a broken or missing seed file cannot stop a daemon whose state is in
 * the store).
 */
static int
server_admin_seed_read(struct server *srv, struct store *st,
    const struct config *cfg)
{
	struct policy_diags	 diags;
	struct bundle		*b = NULL;
	char			*text;
	size_t			 len, i;
	int			 r;

	if (cfg->seed_bundle[0] == '\0')
		return (0);
	if (!store_is_empty(st)) {
		log_info("the store holds state (generation %" PRIu64 "): "
		    "seed_bundle %s not read", store_generation(st),
		    cfg->seed_bundle);
		return (0);
	}
	if ((text = daemon_read_file(cfg->seed_bundle, BUNDLE_MAX_BYTES,
	    &len)) == NULL)
		return (-1);
	policy_diags_init(&diags);
	r = bundle_parse(text, len, 0, &b, &diags);
	free(text);
	if (r == -1) {
		for (i = 0; i < diags.n; i++)
			log_warnx("%s: %s: %s", cfg->seed_bundle,
			    diags.v[i].path, diags.v[i].reason);
		log_warnx("%s: invalid bundle; store not seeded",
		    cfg->seed_bundle);
		policy_diags_free(&diags);
		return (-1);
	}
	policy_diags_free(&diags);
	srv->admin.seed_pending = b;
	snprintf(srv->admin.seed_path, sizeof(srv->admin.seed_path), "%s",
	    cfg->seed_bundle);
	return (0);
}

/*
 * Commit the seed read by server_admin_start(), if any: the last step of
 * the start (kmsauthzd.c calls it after the sockets and the workers, just
 * before "ready").  0, or -1 (logged; the start must stop).
 */
int
server_admin_seed(struct server *srv)
{
	struct bundle	*b;
	uint64_t	 gen;
	char		 err[512];

	if (srv->admin.fleet != NULL && fleet_run(srv->admin.fleet, err,
	    sizeof(err)) != 0) {
		log_warnx("%s", err);
		bundle_free(srv->admin.seed_pending);
		srv->admin.seed_pending = NULL;
		return (-1);
	}
	if ((b = srv->admin.seed_pending) == NULL)
		return (0);
	srv->admin.seed_pending = NULL;
	if (srv->admin.store == NULL || !store_is_empty(srv->admin.store)) {
		bundle_free(b);
		return (0);
	}
	/* A fleet's state is etcd's: a host never seeds it on its own. */
	if (srv->admin.fleet != NULL) {
		log_info("%s: not seeded: in fleet mode the state is the "
		    "fleet's (import it with ImportBundle)",
		    srv->admin.seed_path);
		bundle_free(b);
		return (0);
	}
	if (store_replace_all(srv->admin.store, b, &gen) != STORE_OK) {
		log_warnx("%s: cannot seed the store: %s", srv->admin.seed_path,
		    store_errmsg(srv->admin.store));
		bundle_free(b);
		return (-1);
	}
	bundle_free(b);
	log_info("seeded the empty store from %s (generation %" PRIu64 ")",
	    srv->admin.seed_path, gen);
	admin_ctx_resync(srv->admin.ctx);
	server_admin_sync(srv);
	return (0);
}

int
server_admin_active(struct server *srv)
{
	return (srv->admin.ctx != NULL);
}

int
server_admin_readonly(struct server *srv)
{
	return (srv->admin.store != NULL && store_readonly(srv->admin.store));
}

/* The audit file could not be opened: every change is refused. */
int
server_admin_audit_unavailable(struct server *srv)
{
	char	cause[8];

	return (srv->admin.ctx != NULL &&
	    admin_ctx_unavailable(srv->admin.ctx, cause, sizeof(cause)) &&
	    !server_admin_readonly(srv));
}

/*
 * SIGHUP: a store that fell back to read-only is opened again, writable
 * when its directory and files have become so (else it stays read-only,
 * serving what it served); then the audit file is reopened (rotation,
 * or its first open after a read-only start).
 */
static void
server_admin_reload_now(struct server *srv)
{
	struct world	*w;
	char	cause[1200];
	int	was;

	if (srv->admin.ctx == NULL)
		return;
	if (server_admin_readonly(srv)) {
		if (store_reopen(srv->admin.store) == STORE_OK)
			log_warnx("admin: store %s is writable again "
			    "(generation %" PRIu64 "): changes are accepted",
			    store_dir(srv->admin.store),
			    store_generation(srv->admin.store));
		else
			log_warnx("admin: store: %s; admin changes stay "
			    "refused", store_errmsg(srv->admin.store));
		server_admin_sync(srv);
	}
	/* Re-read the store whole; on failure the old world keeps serving. */
	if (store_load(srv->admin.store) != STORE_OK) {
		log_warnx("reload: store not re-read (%s): still serving "
		    "generation %" PRIu64, store_errmsg(srv->admin.store),
		    world_holder_generation(srv->holder));
		metrics_reload_failed();
	} else if ((w = world_holder_acquire(store_holder(srv->admin.store))) != NULL) {
		server_republish(srv, w);
		log_info("reload: store re-read, serving generation %" PRIu64,
		    store_generation(srv->admin.store));
	}
	was = admin_ctx_unavailable(srv->admin.ctx, cause, sizeof(cause));
	if (admin_ctx_reopen(srv->admin.ctx) == 0 && was && !server_admin_readonly(srv))
		log_warnx("admin: the audit file is open again: changes are "
		    "accepted");
}

/* The admin thread: SIGHUP's part, then what the main thread asked
 * for when it is done (its "reload done"). */
static void
server_admin_reload_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct server	*srv = arg;

	server_admin_reload_now(srv);
	if (srv->admin.reload_done != NULL)
		srv->admin.reload_done();
}

/*
 * SIGHUP, on the main thread: the plane's part runs on its own thread
 * (its state has one thread), then the reload_done hook there.  Without
 * a plane, the hook at once.
 */
void
server_admin_reload(struct server *srv)
{
	if (srv->admin.reload_ev == NULL) {
		if (srv->admin.reload_done != NULL)
			srv->admin.reload_done();
		return;
	}
	event_active(srv->admin.reload_ev, EV_READ, 0);
}

/* What a reload ends with (set once, before the admin thread runs). */
void
server_admin_on_reload(struct server *srv, void (*done)(void))
{
	srv->admin.reload_done = done;
}

/*
 * Which admin configuration to read: $KMSAUTHZ_ADMIN_CONF when set and
 * not empty (an override for tests and debugging, documented in
 * kmsauthzd(8)), else admin_config (must exist), else
 * SYSCONFDIR/kmsauthz/admin.conf (optional: absent means the defaults).
 */
const char *
server_admin_config_path(const struct config *cfg, int *optional)
{
	const char	*path;

	*optional = 0;
	if ((path = getenv("KMSAUTHZ_ADMIN_CONF")) != NULL && *path != '\0')
		return (path);
	if (cfg->admin_config[0] != '\0')
		return (cfg->admin_config);
	*optional = 1;
	return (KMSAUTHZ_SYSCONFDIR "/kmsauthz/admin.conf");
}

/*
 * Start the admin plane: its configuration (server_admin_config_path()), the
 * store in state_directory (an empty one's seed read and checked, committed
 * by server_admin_seed()), the audit file (default
 * state_directory/audit.jsonl), the timer.  Called at start-up, which
 * stops when it fails.  0, or -1 (logged).
 */
int
server_admin_start(struct server *srv, const struct config *cfg)
{
	struct admin_conf	 ac;
	struct store_opts	 so;
	struct timeval		 tv = { 0, 200000 };
	const char		*path;
	char			 err[1024], *cause = NULL;
	int			 optional;

	if (srv->admin.ctx != NULL)
		return (0);
	if (srv->admin.start_failed)
		return (-1);
	srv->admin.start_failed = 1;
	admin_conf_defaults(&ac);
	if ((size_t)snprintf(ac.audit_file, sizeof(ac.audit_file),
	    "%.1000s/audit.jsonl", cfg->state_directory) >=
	    sizeof(ac.audit_file)) {
		log_warnx("admin: state_directory too long");
		return (-1);
	}
	path = server_admin_config_path(cfg, &optional);
	if (admin_conf_load(&ac, path, optional, err, sizeof(err)) != 0) {
		log_warnx("admin: %s", err);
		return (-1);
	}
	/* Which account new keys and ARNs get must never be a surprise. */
	if (optional && access(path, F_OK) == -1)
		log_warnx("admin: no admin configuration (%s): account %s is "
		    "a placeholder and region %s the default; set both there "
		    "(an example: %s.example, kmsauthz-admin.conf(5)); only "
		    "uid 0 may administer", path, ac.account, ac.region, path);
	else
		log_info("admin: configuration %s: account %s, region %s, "
		    "audit file %s", path, ac.account, ac.region,
		    ac.audit_file[0] != '\0' ? ac.audit_file : "(log only)");
	memset(&so, 0, sizeof(so));
	so.create = 1;
	so.readonly_ok = 1;
	so.map_max = (size_t)cfg->map_size_max;
	if (store_open(cfg->state_directory, &so, &srv->admin.store, &cause) !=
	    STORE_OK) {
		log_warnx("admin: store: %s", cause != NULL ? cause : "?");
		free(cause);
		srv->admin.store = NULL;
		return (-1);
	}
	/* Serving the last state beats not serving: one clear warning. */
	if (store_readonly(srv->admin.store))
		log_warnx("admin: store %s is READ-ONLY (%s): queries and "
		    "admin reads are answered from generation %" PRIu64 "; "
		    "every admin change is refused (ServiceUnavailable) "
		    "until the directory is writable and kmsauthzd gets "
		    "SIGHUP", cfg->state_directory,
		    store_readonly_cause(srv->admin.store),
		    store_generation(srv->admin.store));
	if (server_admin_seed_read(srv, srv->admin.store, cfg) != 0)
		goto fail;
	if (store_load(srv->admin.store) != STORE_OK) {
		log_warnx("admin: store: %s", store_errmsg(srv->admin.store));
		goto fail;
	}
	if ((srv->admin.ctx = admin_ctx_new(&ac, srv->admin.store, err,
	    sizeof(err))) == NULL) {
		log_warnx("admin: %s", err);
		goto fail;
	}
	/* A restart forgets the nonces: nothing dated before us (admin.h). */
	admin_ctx_replay_floor(srv->admin.ctx, (int64_t)time(NULL) +
	    ADMIN_SIGN_AHEAD);
	admin_ctx_set_status_hook(srv->admin.ctx, server_admin_status, srv);
	/* On the admin thread's loop, which runs once the start is done. */
	if ((srv->admin.timer = event_new(srv->admin_worker.base, -1,
	    EV_PERSIST, server_admin_timer_cb, srv)) == NULL ||
	    event_add(srv->admin.timer, &tv) != 0 ||
	    (srv->admin.reload_ev = event_new(srv->admin_worker.base, -1, 0,
	    server_admin_reload_cb, srv)) == NULL) {
		log_warnx("admin: cannot start the admin timer");
		goto fail;
	}
	pthread_mutex_init(&srv->admin.sync_mu, NULL);
	if (cfg->fleet.etcd_endpoints[0] != '\0' &&
	    server_admin_fleet(srv, cfg) != 0)
		goto fail;
	server_admin_sync(srv);
	srv->admin.start_failed = 0;
	log_info("admin: plane started (store %s, generation %" PRIu64
	    ", config %s)", cfg->state_directory,
	    store_generation(srv->admin.store), path);
	return (0);
fail:
	bundle_free(srv->admin.seed_pending);
	srv->admin.seed_pending = NULL;
	server_admin_stop(srv);
	return (-1);
}

int
server_admin_superuser(struct server *srv, uid_t uid, gid_t gid)
{
	/* The configuration is read-only once the plane started. */
	return (admin_ctx_peer_superuser(srv->admin.ctx, (long)uid,
	    (long)gid));
}

/* After the admin thread stopped (or before it started). */
void
server_admin_stop(struct server *srv)
{
	bundle_free(srv->admin.seed_pending);
	srv->admin.seed_pending = NULL;
	if (srv->admin.timer != NULL)
		event_free(srv->admin.timer);
	srv->admin.timer = NULL;
	if (srv->admin.reload_ev != NULL)
		event_free(srv->admin.reload_ev);
	srv->admin.reload_ev = NULL;
	admin_ctx_free(srv->admin.ctx);
	srv->admin.ctx = NULL;
	fleet_stop(srv->admin.fleet);
	srv->admin.fleet = NULL;
	store_close(srv->admin.store);
	srv->admin.store = NULL;
}

/* kmsauthz_admin_requests_total{action,code} and the latency. */
static void
server_admin_count(const struct proto_admin *frame, struct json_object *o,
    uint64_t ns)
{
	struct json_tokener	*tok;
	struct json_object	*req, *v;
	const char		*action = NULL, *code = "InternalFailure";

	if ((tok = json_tokener_new()) == NULL)
		return;
	req = json_tokener_parse_ex(tok, frame->json.ptr,
	    (int)frame->json.len);
	json_tokener_free(tok);
	if (req != NULL && json_object_is_type(req, json_type_object) &&
	    json_object_object_get_ex(req, "Action", &v) &&
	    json_object_is_type(v, json_type_string))
		action = json_object_get_string(v);
	if (o != NULL)
		code = json_object_object_get_ex(o, "Code", &v) ?
		    json_object_get_string(v) : NULL;
	metrics_admin(action, code, ns);
	json_object_put(req);
}

/*
 * One admin request.  Returns -1 when the connection was closed (a
 * malformed frame), 0 otherwise (answered, possibly with an error).
 */
int
server_admin_dispatch(struct conn *c, struct server *srv, uint32_t id,
    const uint8_t *body, size_t len)
{
	struct proto_admin	 frame;
	struct admin_peer	 peer;
	struct json_object	*o;
	char			 rid[ADMIN_REQUEST_ID_LEN + 1];
	uint64_t		 t0 = metrics_now_ns();
	int			 r;

	if ((r = proto_admin_decode(body, len, KMSAUTHZ_MAX_ADMIN_BODY,
	    &frame)) != 0)
		return (conn_error(c, id, proto_wire_error(r), 1,
		    "malformed admin request"));
	if (srv->admin.ctx == NULL) {
		admin_request_id(rid);
		return (server_admin_respond(c, id, admin_err_json(
		    ADMIN_E_INTERNAL, rid, "the admin plane is not available "
		    "(see the log)")));
	}
	peer.uid = (long)conn_uid(c);
	peer.gid = (long)c->gid;
	peer.pid = (long)conn_pid(c);
	o = admin_handle(srv->admin.ctx, &peer, frame.json.ptr,
	    frame.json.len, (frame.flags & KMSAUTHZ_ADMIN_SIGNED) ?
	    frame.signature.ptr : NULL, frame.signature.len);
	/* A committed change is seen by the next query: publish first. */
	server_admin_sync(srv);
	server_admin_count(&frame, o, metrics_now_ns() - t0);
	/* Only a call that succeeded keeps an admin slot from idling out. */
	if (o != NULL && !json_object_object_get_ex(o, "Code", NULL))
		conn_active(c);
	return (server_admin_respond(c, id, o));
}
