/* SPDX-License-Identifier: ISC */
/*
 * metrics.c: the registry of per-thread metric cells and the Prometheus
 * text exposition (format 0.0.4) of them and of the daemon's state.
 *
 * The query path pays one relaxed load and store per counter, on a
 * cache line only its own worker writes (struct metrics_cell); nothing
 * is summed, locked or shared until a scrape adds the cells up.  The
 * cells are static, so a scrape never races with their allocation, and
 * the unused ones are zero pages never touched.
 */
#include <sys/types.h>
#include <sys/resource.h>
#include <sys/time.h>

#include <dirent.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>

#include "admin/admin.h"
#include "admin/audit.h"
#include "daemon/daemon.h"
#include "daemon/declog.h"
#include "daemon/metrics.h"
#include "engine/world.h"
#include "proto/proto.h"

int	metrics_timing;

static struct metrics_cell	 metrics_cells[METRICS_CELLS];

/* Main thread only (admin calls), summed like the cells. */
static atomic_uint_fast64_t	 metrics_admin_calls[ADMIN_API_COUNT + 1]
				    [ADMIN_E_COUNT];
static atomic_uint_fast64_t	 metrics_admin_dur[METRICS_ADMIN_BOUNDS + 1];
static atomic_uint_fast64_t	 metrics_admin_sum_ns;
/* Written by whichever thread publishes or reloads (main). */
static atomic_int_fast64_t	 metrics_publish_ms;
static atomic_uint_fast64_t	 metrics_reload_fails;

static const uint64_t metrics_dur_ns[METRICS_DUR_BOUNDS] = {
	1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 500000,
	1000000, 2500000, 5000000, 10000000
};
static const char *const metrics_dur_le[METRICS_DUR_BOUNDS] = {
	"1e-06", "2.5e-06", "5e-06", "1e-05", "2.5e-05", "5e-05",
	"0.0001", "0.00025", "0.0005", "0.001", "0.0025", "0.005", "0.01"
};
static const uint64_t metrics_admin_ns[METRICS_ADMIN_BOUNDS] = {
	100000, 250000, 500000, 1000000, 2500000, 5000000, 10000000,
	25000000, 50000000, 100000000, 250000000, 500000000, 1000000000,
	2500000000u, 5000000000u, 10000000000u
};
static const char *const metrics_admin_le[METRICS_ADMIN_BOUNDS] = {
	"0.0001", "0.00025", "0.0005", "0.001", "0.0025", "0.005", "0.01",
	"0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10"
};
static const char *const metrics_frame_names[METRICS_F_COUNT] = {
	"hello", "ping", "status", "check", "check_batch", "admin_request",
	"other"
};
static const char *const metrics_error_names[KMSAUTHZ_WERR_MAX + 1] = {
	"unknown", "proto", "version", "toobig", "unsupported", "busy",
	"internal", "perm", "shutdown", "stale"
};
static const char *const metrics_decision_names[3] = {
	[EVAL_IMPLICIT_DENY] = "implicit_deny",
	[EVAL_ALLOW] = "allow",
	[EVAL_EXPLICIT_DENY] = "explicit_deny"
};

static uint64_t	metrics_sum(size_t);
#define METRICS_SUM(f)	metrics_sum(offsetof(struct metrics_cell, f))
#define STAT(f)		atomic_load(&srv->stats.f)
static void	metrics_family(struct evbuffer *, const char *, const char *,
		    const char *);
static void	metrics_write_checks(struct evbuffer *);
static void	metrics_write_conns(struct evbuffer *, struct server *);
static void	metrics_write_admin(struct evbuffer *);
static void	metrics_write_world(struct evbuffer *, struct server *);
static void	metrics_write_process(struct evbuffer *, struct server *);

struct metrics_cell *
metrics_cell(unsigned id)
{
	return (&metrics_cells[id < METRICS_MAIN ? id : METRICS_MAIN]);
}

void
metrics_decision(struct metrics_cell *mc, int decision, int reason)
{
	if ((unsigned)decision < 3 && (unsigned)reason < EVAL_R_COUNT)
		metrics_add(&mc->decisions[decision][reason], 1);
}

void
metrics_check_time(struct metrics_cell *mc, uint64_t ns)
{
	unsigned	i = 0;

	while (i < METRICS_DUR_BOUNDS && ns > metrics_dur_ns[i])
		i++;
	metrics_add(&mc->dur[i], 1);
	metrics_add(&mc->dur_sum_ns, ns);
}

void
metrics_batch(struct metrics_cell *mc, unsigned count)
{
	unsigned	i = 0;

	while (i < METRICS_BATCH_BOUNDS && count > (1u << i))
		i++;
	metrics_add(&mc->batch[i], 1);
	metrics_add(&mc->batch_items, count);
}

void
metrics_frame(struct metrics_cell *mc, uint16_t type)
{
	enum metrics_frame	f;

	switch (type) {
	case KMSAUTHZ_MSG_HELLO:	f = METRICS_F_HELLO; break;
	case KMSAUTHZ_MSG_PING:		f = METRICS_F_PING; break;
	case KMSAUTHZ_MSG_STATUS:	f = METRICS_F_STATUS; break;
	case KMSAUTHZ_MSG_CHECK:	f = METRICS_F_CHECK; break;
	case KMSAUTHZ_MSG_CHECK_BATCH:	f = METRICS_F_CHECK_BATCH; break;
	case KMSAUTHZ_MSG_ADMIN_REQUEST: f = METRICS_F_ADMIN; break;
	default:			f = METRICS_F_OTHER; break;
	}
	metrics_add(&mc->frames[f], 1);
}

void
metrics_error(struct metrics_cell *mc, uint16_t code)
{
	metrics_add(&mc->errors[code <= KMSAUTHZ_WERR_MAX ? code : 0], 1);
}

void
metrics_admin(const char *action, const char *code, uint64_t ns)
{
	const struct admin_api	*api;
	enum admin_err		 e = ADMIN_OK;
	unsigned		 a = ADMIN_API_COUNT, i = 0;

	if (action != NULL && (api = admin_api_find(action)) != NULL)
		a = api->id;
	if (code != NULL && admin_err_parse(code, &e) != 0)
		e = ADMIN_E_INTERNAL;
	if ((unsigned)e >= ADMIN_E_COUNT)
		e = ADMIN_E_INTERNAL;
	metrics_add(&metrics_admin_calls[a][e], 1);
	while (i < METRICS_ADMIN_BOUNDS && ns > metrics_admin_ns[i])
		i++;
	metrics_add(&metrics_admin_dur[i], 1);
	metrics_add(&metrics_admin_sum_ns, ns);
}

void
metrics_published(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	atomic_store(&metrics_publish_ms,
	    (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

void
metrics_reload_failed(void)
{
	/* From the main thread (configuration) and the admin thread (store). */
	atomic_fetch_add(&metrics_reload_fails, 1);
}

/* Decision-log records the workers dropped (rings full). */
uint64_t
metrics_declog_dropped(void)
{
	return (METRICS_SUM(declog_dropped));
}

uint64_t
metrics_reload_failures(void)
{
	return (atomic_load(&metrics_reload_fails));
}

/* The field at byte offset off of every cell, added up. */
static uint64_t
metrics_sum(size_t off)
{
	uint64_t	n = 0;
	size_t		i;

	for (i = 0; i < METRICS_CELLS; i++)
		n += atomic_load_explicit((atomic_uint_fast64_t *)
		    ((char *)&metrics_cells[i] + off), memory_order_relaxed);
	return (n);
}

static void
metrics_family(struct evbuffer *b, const char *name, const char *type,
    const char *help)
{
	evbuffer_add_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help,
	    name, type);
}

static void
metrics_write_checks(struct evbuffer *b)
{
	uint64_t	n, cum;
	unsigned	d, r, i;

	metrics_family(b, "kmsauthz_decisions_total", "counter",
	    "Decisions made, by decision and reason (a batch item is one).");
	for (d = 0; d < 3; d++)
		for (r = 0; r < EVAL_R_COUNT; r++) {
			n = METRICS_SUM(decisions[d][r]);
			/* Every consistent pair, even at 0; others if seen. */
			if (n == 0 && !proto_decision_reason_ok(
			    d == EVAL_ALLOW ? KMSAUTHZ_ALLOW :
			    d == EVAL_EXPLICIT_DENY ? KMSAUTHZ_EXPLICIT_DENY :
			    KMSAUTHZ_IMPLICIT_DENY, (uint8_t)(r + 1)))
				continue;
			evbuffer_add_printf(b, "kmsauthz_decisions_total"
			    "{decision=\"%s\",reason=\"%s\"} %" PRIu64 "\n",
			    metrics_decision_names[d],
			    eval_reason_name((enum eval_reason)r), n);
		}
	metrics_family(b, "kmsauthz_check_duration_seconds", "histogram",
	    "Time from a CHECK or CHECK_BATCH frame being complete (its read, "
	    "or the resume of a paused connection) to its answer being "
	    "queued.");
	for (i = 0, cum = 0; i <= METRICS_DUR_BOUNDS; i++) {
		cum += METRICS_SUM(dur[i]);
		evbuffer_add_printf(b, "kmsauthz_check_duration_seconds_bucket"
		    "{le=\"%s\"} %" PRIu64 "\n", i < METRICS_DUR_BOUNDS ?
		    metrics_dur_le[i] : "+Inf", cum);
	}
	n = METRICS_SUM(dur_sum_ns);
	evbuffer_add_printf(b, "kmsauthz_check_duration_seconds_sum "
	    "%" PRIu64 ".%09" PRIu64 "\n", n / 1000000000u, n % 1000000000u);
	evbuffer_add_printf(b, "kmsauthz_check_duration_seconds_count "
	    "%" PRIu64 "\n", cum);
	metrics_family(b, "kmsauthz_batch_size", "histogram",
	    "Checks per CHECK_BATCH frame.");
	for (i = 0, cum = 0; i <= METRICS_BATCH_BOUNDS; i++) {
		cum += METRICS_SUM(batch[i]);
		if (i < METRICS_BATCH_BOUNDS)
			evbuffer_add_printf(b, "kmsauthz_batch_size_bucket"
			    "{le=\"%u\"} %" PRIu64 "\n", 1u << i, cum);
		else
			evbuffer_add_printf(b, "kmsauthz_batch_size_bucket"
			    "{le=\"+Inf\"} %" PRIu64 "\n", cum);
	}
	evbuffer_add_printf(b, "kmsauthz_batch_size_sum %" PRIu64 "\n",
	    METRICS_SUM(batch_items));
	evbuffer_add_printf(b, "kmsauthz_batch_size_count %" PRIu64 "\n", cum);
	metrics_family(b, "kmsauthz_frames_total", "counter",
	    "Whole frames received, by message type.");
	for (i = 0; i < METRICS_F_COUNT; i++)
		evbuffer_add_printf(b, "kmsauthz_frames_total{type=\"%s\"} "
		    "%" PRIu64 "\n", metrics_frame_names[i],
		    METRICS_SUM(frames[i]));
	metrics_family(b, "kmsauthz_protocol_errors_total", "counter",
	    "ERROR frames sent to clients, by protocol error code.");
	for (i = 1; i <= KMSAUTHZ_WERR_MAX; i++)
		evbuffer_add_printf(b, "kmsauthz_protocol_errors_total"
		    "{code=\"%s\"} %" PRIu64 "\n", metrics_error_names[i],
		    METRICS_SUM(errors[i]));
}

static void
metrics_write_conns(struct evbuffer *b, struct server *srv)
{
	unsigned	nq, na;

	pthread_mutex_lock(&srv->lock);
	nq = srv->nconns;
	na = srv->nadmin;
	pthread_mutex_unlock(&srv->lock);
	metrics_family(b, "kmsauthz_connections_open", "gauge",
	    "Connections open, by socket.");
	evbuffer_add_printf(b, "kmsauthz_connections_open{socket=\"query\"} "
	    "%u\nkmsauthz_connections_open{socket=\"admin\"} %u\n", nq, na);
	metrics_family(b, "kmsauthz_connections_accepted_total", "counter",
	    "Connections accepted (query and admin).");
	evbuffer_add_printf(b, "kmsauthz_connections_accepted_total %" PRIu64
	    "\n", (uint64_t)STAT(accepted));
	metrics_family(b, "kmsauthz_connections_closed_total", "counter",
	    "Connections closed after being accepted.");
	evbuffer_add_printf(b, "kmsauthz_connections_closed_total %" PRIu64
	    "\n", (uint64_t)STAT(closed));
	metrics_family(b, "kmsauthz_connections_refused_total", "counter",
	    "Connections refused with ERROR BUSY, by the cap that was full.");
	evbuffer_add_printf(b,
	    "kmsauthz_connections_refused_total{cause=\"max_connections\"} "
	    "%" PRIu64 "\n"
	    "kmsauthz_connections_refused_total{cause=\"max_connections_per_uid"
	    "\"} %" PRIu64 "\n"
	    "kmsauthz_connections_refused_total{cause=\"max_admin_connections"
	    "\"} %" PRIu64 "\n"
	    "kmsauthz_connections_refused_total{cause=\"max_admin_connections"
	    "_per_uid\"} %" PRIu64 "\n",
	    (uint64_t)STAT(rejected_total), (uint64_t)STAT(rejected_per_uid),
	    (uint64_t)STAT(rejected_admin),
	    (uint64_t)STAT(rejected_admin_per_uid));
	metrics_family(b, "kmsauthz_connections_dropped_total", "counter",
	    "Connections the daemon closed, by limit.");
	evbuffer_add_printf(b,
	    "kmsauthz_connections_dropped_total{cause=\"idle_timeout\"} "
	    "%" PRIu64 "\n"
	    "kmsauthz_connections_dropped_total{cause=\"slow_client_timeout\"} "
	    "%" PRIu64 "\n"
	    "kmsauthz_connections_dropped_total{cause=\"request_timeout\"} "
	    "%" PRIu64 "\n",
	    (uint64_t)STAT(idle_timeouts), (uint64_t)STAT(slow_client_closes),
	    (uint64_t)STAT(request_timeouts));
	metrics_family(b, "kmsauthz_accept_backoffs_total", "counter",
	    "One-second accept pauses after EMFILE, ENFILE, ENOBUFS or "
	    "ENOMEM.");
	evbuffer_add_printf(b, "kmsauthz_accept_backoffs_total %" PRIu64 "\n",
	    (uint64_t)STAT(accept_backoffs));
	metrics_family(b, "kmsauthz_queue_full_pauses_total", "counter",
	    "Times a connection's reading paused: max_queued_replies "
	    "answers unread.");
	evbuffer_add_printf(b, "kmsauthz_queue_full_pauses_total %" PRIu64
	    "\n", (uint64_t)STAT(queue_full_pauses));
	metrics_family(b, "kmsauthz_min_generation_checks_total", "counter",
	    "Checks (and batches) whose minimum generation was above the "
	    "served one, by outcome: parked, answered once reached, "
	    "timed_out (STALE after min_generation_wait_ms), refused "
	    "(STALE at once: a bound was full or the wait is 0).");
	evbuffer_add_printf(b,
	    "kmsauthz_min_generation_checks_total{outcome=\"parked\"} %"
	    PRIu64 "\n"
	    "kmsauthz_min_generation_checks_total{outcome=\"answered\"} %"
	    PRIu64 "\n"
	    "kmsauthz_min_generation_checks_total{outcome=\"timed_out\"} %"
	    PRIu64 "\n"
	    "kmsauthz_min_generation_checks_total{outcome=\"refused\"} %"
	    PRIu64 "\n",
	    (uint64_t)STAT(parked), (uint64_t)STAT(parked_answered),
	    (uint64_t)STAT(parked_timed_out), (uint64_t)STAT(parked_refused));
	metrics_family(b, "kmsauthz_min_generation_parked", "gauge",
	    "Checks waiting now for their minimum generation.");
	evbuffer_add_printf(b, "kmsauthz_min_generation_parked %u\n",
	    atomic_load(&srv->nparked));
}

static void
metrics_write_admin(struct evbuffer *b)
{
	const struct admin_api	*api;
	uint64_t		 n, cum;
	unsigned		 a, e, i;

	metrics_family(b, "kmsauthz_admin_requests_total", "counter",
	    "Admin calls answered, by action and result code (OK or the "
	    "error code).");
	for (a = 0; a <= ADMIN_API_COUNT; a++)
		for (e = 0; e < ADMIN_E_COUNT; e++) {
			n = atomic_load_explicit(&metrics_admin_calls[a][e],
			    memory_order_relaxed);
			if (n == 0)
				continue;
			api = a < ADMIN_API_COUNT ?
			    admin_api_get((enum admin_api_id)a) : NULL;
			evbuffer_add_printf(b, "kmsauthz_admin_requests_total"
			    "{action=\"%s\",code=\"%s\"} %" PRIu64 "\n",
			    api != NULL ? api->name : "unknown",
			    e == ADMIN_OK ? "OK" :
			    admin_err_code((enum admin_err)e), n);
		}
	metrics_family(b, "kmsauthz_admin_request_duration_seconds",
	    "histogram", "Time to answer an admin call (commit, publish and "
	    "audit included).");
	for (i = 0, cum = 0; i <= METRICS_ADMIN_BOUNDS; i++) {
		cum += atomic_load_explicit(&metrics_admin_dur[i],
		    memory_order_relaxed);
		evbuffer_add_printf(b, "kmsauthz_admin_request_duration_seconds"
		    "_bucket{le=\"%s\"} %" PRIu64 "\n",
		    i < METRICS_ADMIN_BOUNDS ? metrics_admin_le[i] : "+Inf",
		    cum);
	}
	n = atomic_load(&metrics_admin_sum_ns);
	evbuffer_add_printf(b, "kmsauthz_admin_request_duration_seconds_sum "
	    "%" PRIu64 ".%09" PRIu64 "\n"
	    "kmsauthz_admin_request_duration_seconds_count %" PRIu64 "\n",
	    n / 1000000000u, n % 1000000000u, cum);
}

static void
metrics_write_world(struct evbuffer *b, struct server *srv)
{
	struct world_counts	 wc;
	struct world		*w;
	struct declog_counts	 dc;
	uint64_t		 gen = 0, aw, af;
	int64_t			 ms;

	memset(&wc, 0, sizeof(wc));
	if ((w = world_holder_acquire(srv->holder)) != NULL) {
		gen = world_generation(w);
		world_counts(w, &wc);
		world_unref(w);
	}
	metrics_family(b, "kmsauthz_world_generation", "gauge",
	    "The generation of the world the workers answer from.");
	evbuffer_add_printf(b, "kmsauthz_world_generation %" PRIu64 "\n", gen);
	metrics_family(b, "kmsauthz_world_objects", "gauge",
	    "Objects in the world being served, by kind.");
#define KIND(k)	evbuffer_add_printf(b,					\
	"kmsauthz_world_objects{kind=\"" #k "\"} %zu\n", wc.k)
	KIND(instances);
	KIND(keys);
	KIND(aliases);
	KIND(policies);
	KIND(users);
	KIND(roles);
	KIND(groups);
#undef KIND
	metrics_family(b, "kmsauthz_reloads_total", "counter",
	    "SIGHUP reloads.");
	evbuffer_add_printf(b, "kmsauthz_reloads_total %" PRIu64 "\n",
	    (uint64_t)STAT(reloads));
	metrics_family(b, "kmsauthz_reload_failures_total", "counter",
	    "Reloads whose configuration or store was not taken (the running "
	    "one kept serving).");
	evbuffer_add_printf(b, "kmsauthz_reload_failures_total %" PRIu64 "\n",
	    metrics_reload_failures());
	ms = atomic_load(&metrics_publish_ms);
	metrics_family(b, "kmsauthz_world_last_publish_timestamp_seconds",
	    "gauge", "When a world was last published to the workers (Unix "
	    "time; 0: none yet).");
	evbuffer_add_printf(b, "kmsauthz_world_last_publish_timestamp_seconds "
	    "%" PRId64 ".%03" PRId64 "\n", ms / 1000, ms % 1000);
	audit_counts(&aw, &af);
	metrics_family(b, "kmsauthz_audit_records_total", "counter",
	    "Audit records written to the audit file.");
	evbuffer_add_printf(b, "kmsauthz_audit_records_total %" PRIu64 "\n",
	    aw);
	metrics_family(b, "kmsauthz_audit_failures_total", "counter",
	    "Audit records that could not be written (the change refused).");
	evbuffer_add_printf(b, "kmsauthz_audit_failures_total %" PRIu64 "\n",
	    af);
	declog_counts(&dc);
	metrics_family(b, "kmsauthz_decision_log_records_total", "counter",
	    "Decision-log records written to decision_log.");
	evbuffer_add_printf(b, "kmsauthz_decision_log_records_total %" PRIu64
	    "\n", dc.written);
	metrics_family(b, "kmsauthz_decision_log_dropped_total", "counter",
	    "Decision-log records dropped (a worker's ring full), never a "
	    "decision delayed.");
	evbuffer_add_printf(b, "kmsauthz_decision_log_dropped_total %" PRIu64
	    "\n", dc.dropped);
	metrics_family(b, "kmsauthz_decision_log_errors_total", "counter",
	    "Failed opens and writes of decision_log (retried).");
	evbuffer_add_printf(b, "kmsauthz_decision_log_errors_total %" PRIu64
	    "\n", dc.errors);
}

/* The standard process_* families (client_golang's names). */
static void
metrics_write_process(struct evbuffer *b, struct server *srv)
{
	struct rusage	 ru;
	struct rlimit	 rl;
	DIR		*d;
	struct dirent	*de;
	FILE		*f;
	unsigned long	 vpages = 0, rpages = 0;
	long		 page = sysconf(_SC_PAGESIZE);
	unsigned	 nfd = 0;

	if (getrusage(RUSAGE_SELF, &ru) == 0) {
		metrics_family(b, "process_cpu_seconds_total", "counter",
		    "Total user and system CPU time spent in seconds.");
		evbuffer_add_printf(b, "process_cpu_seconds_total %.6f\n",
		    (double)ru.ru_utime.tv_sec + (double)ru.ru_stime.tv_sec +
		    (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6);
	}
	if ((d = opendir("/proc/self/fd")) != NULL) {
		while ((de = readdir(d)) != NULL)
			if (de->d_name[0] != '.')
				nfd++;
		closedir(d);
		metrics_family(b, "process_open_fds", "gauge",
		    "Number of open file descriptors.");
		/* Less the one opendir held while counting. */
		evbuffer_add_printf(b, "process_open_fds %u\n",
		    nfd > 0 ? nfd - 1 : 0);
	}
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		metrics_family(b, "process_max_fds", "gauge",
		    "Maximum number of open file descriptors.");
		evbuffer_add_printf(b, "process_max_fds %.0f\n",
		    rl.rlim_cur == RLIM_INFINITY ? 1.8446744073709552e19 :
		    (double)rl.rlim_cur);
	}
	if ((f = fopen("/proc/self/statm", "re")) != NULL) {
		if (fscanf(f, "%lu %lu", &vpages, &rpages) == 2) {
			metrics_family(b, "process_virtual_memory_bytes",
			    "gauge", "Virtual memory size in bytes.");
			evbuffer_add_printf(b, "process_virtual_memory_bytes "
			    "%.0f\n", (double)vpages * (double)page);
			metrics_family(b, "process_resident_memory_bytes",
			    "gauge", "Resident memory size in bytes.");
			evbuffer_add_printf(b, "process_resident_memory_bytes "
			    "%.0f\n", (double)rpages * (double)page);
		}
		fclose(f);
	}
	metrics_family(b, "process_start_time_seconds", "gauge",
	    "Start time of the process since unix epoch in seconds.");
	evbuffer_add_printf(b, "process_start_time_seconds %lld\n",
	    (long long)srv->started);
}

/* The whole exposition.  0, or -1 when out of memory. */
int
metrics_write(struct evbuffer *b, struct server *srv)
{
	metrics_family(b, "kmsauthz_build_info", "gauge",
	    "The running kmsauthzd's version (always 1).");
	evbuffer_add_printf(b, "kmsauthz_build_info{version=\"%s\"} 1\n",
	    PACKAGE_VERSION);
	metrics_write_checks(b);
	metrics_write_conns(b, srv);
	metrics_write_admin(b);
	metrics_write_world(b, srv);
	metrics_write_process(b, srv);
	return (0);
}
