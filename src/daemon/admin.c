/*
 * admin.c: the admin plane's entry point.  Every ADMIN_REQUEST frame
 * that arrives on the admin socket comes here, on the main thread, with
 * the peer credentials taken at accept.  Requests are parsed by the
 * admin plane's API table (src/admin); until its execution is wired in,
 * the Status call is the one answered, every other valid call gets an
 * InternalFailure answer saying so.
 *
 * Authority: root, the daemon's own uid, and the uids listed with
 * admin_peer in the configuration (which also names them for logs).
 */
#include <sys/types.h>

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "admin/admin.h"
#include "common/log.h"
#include "daemon/daemon.h"
#include "engine/world.h"
#include "proto/proto.h"

static int	admin_respond(struct conn *, uint32_t, struct json_object *);
static struct json_object *admin_status(struct server *, const char *);

static int
admin_respond(struct conn *c, uint32_t id, struct json_object *o)
{
	const char	*text;
	size_t		 len;
	int		 r;

	if (o == NULL)
		return (conn_error(c, id, KMSAUTHZ_WERR_INTERNAL, 0,
		    "out of memory"));
	text = json_object_to_json_string_length(o, JSON_C_TO_STRING_PLAIN,
	    &len);
	r = conn_reply(c, KMSAUTHZ_MSG_ADMIN_RESPONSE, id, text, len);
	json_object_put(o);
	if (r == -1)
		return (conn_error(c, id, KMSAUTHZ_WERR_INTERNAL, 1,
		    "cannot encode the admin response"));
	return (0);
}

static struct json_object *
admin_status(struct server *srv, const char *request_id)
{
	struct json_object	*o;
	struct world		*w;
	struct world_counts	 wc;
	uint64_t		 gen = 0;

	memset(&wc, 0, sizeof(wc));
	if ((w = world_holder_acquire(srv->holder)) != NULL) {
		gen = world_generation(w);
		world_counts(w, &wc);
		world_unref(w);
	}
	o = json_object_new_object();
	json_object_object_add(o, "RequestId",
	    json_object_new_string(request_id));
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
	ADD_STAT("AcceptBackoffs", accept_backoffs);
	ADD_STAT("ProtocolErrors", proto_errors);
	ADD_STAT("IdleTimeouts", idle_timeouts);
	ADD_STAT("SlowClientCloses", slow_client_closes);
	ADD_STAT("QueueFullPauses", queue_full_pauses);
	ADD_STAT("Checks", checks);
	ADD_STAT("Allows", allows);
	ADD_STAT("Denies", denies);
	ADD_STAT("CheckErrors", check_errors);
	ADD_STAT("Reloads", reloads);
#undef ADD_STAT
	return (o);
}

/*
 * One admin request.  Returns -1 when the connection was closed (a
 * malformed frame), 0 otherwise (answered, possibly with an error).
 */
int
admin_dispatch(struct conn *c, struct server *srv, uint32_t id,
    const uint8_t *body, size_t len)
{
	const struct config	*cfg = daemon_config();
	struct proto_admin	 frame;
	struct admin_req	 req;
	struct json_object	*o;
	enum admin_err		 e;
	const char		*name;
	char			 who[CONFIG_NAME_MAX + 16];
	char			 detail[256];
	uid_t			 uid = conn_uid(c);
	int			 r;

	if ((r = proto_admin_decode(body, len, KMSAUTHZ_MAX_ADMIN_BODY,
	    &frame)) != 0)
		return (conn_error(c, id, proto_wire_error(r), 1,
		    "malformed admin request"));
	if ((name = config_admin_peer_name(cfg, uid)) != NULL)
		snprintf(who, sizeof(who), "%s", name);
	else if (uid == 0 || uid == geteuid())
		snprintf(who, sizeof(who), "uid:%u", (unsigned)uid);
	else {
		log_warnx("admin: uid %u pid %d not permitted",
		    (unsigned)uid, (int)conn_pid(c));
		return (conn_error(c, id, KMSAUTHZ_WERR_PERM, 0,
		    "not permitted"));
	}
	detail[0] = '\0';
	e = admin_req_parse(frame.json.ptr, frame.json.len, &req, detail,
	    sizeof(detail));
	if (e != ADMIN_OK)
		o = admin_err_json(e, req.request_id,
		    detail[0] != '\0' ? detail : NULL);
	else if (req.api->id == ADMIN_Status) {
		log_debug("admin: %s: Status", who);
		o = admin_status(srv, req.request_id);
	} else {
		/* The admin plane executes the other calls (not yet). */
		log_debug("admin: %s: %s not implemented", who,
		    req.api->name);
		o = admin_err_json(ADMIN_E_INTERNAL, req.request_id,
		    "Action: not implemented by this daemon yet");
	}
	admin_req_free(&req);
	return (admin_respond(c, id, o));
}
