/* SPDX-License-Identifier: ISC */
/*
 * daemon.h: kmsauthzd's private declarations, grouped by the file that
 * defines them (tmux.h style, but only for this module).
 */
#ifndef KMSAUTHZ_DAEMON_H
#define KMSAUTHZ_DAEMON_H

#include <sys/types.h>
#include <sys/queue.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/framer.h"

struct bufferevent;
struct declog_ring;
struct event;
struct evbuffer;
struct event_base;
struct evconnlistener;
struct eval_answer;
struct eval_why;
struct metrics_cell;
struct world;
struct world_holder;

/* Bounds on configuration values (checked by config.c). */
#define CONFIG_PATH_MAX		 1024
#define CONFIG_LINE_MAX		 4096
#define CONFIG_THREADS_MAX	 256
#define CONFIG_CONN_MAX		 1048576
#define CONFIG_ADMIN_CONN_MAX	 1024
#define CONFIG_QUEUE_MAX	 65536
#define CONFIG_TIMEOUT_MAX	 86400
#define CONFIG_NAME_MAX		 64
#define CONFIG_KEYS_MAX		 48	/* keys config.c knows, at most */
#define CONFIG_MINGEN_WAIT_MAX	 60000	/* min_generation_wait_ms */
#define CONFIG_PARKED_MAX	 65536	/* max_parked_checks */
#define CONFIG_PARKED_CONN_MAX	 1024	/* ..._per_connection */
#define CONFIG_LINE_CMDLINE	 (~0UL)	/* a key set by -o, -s, ... */

struct config {
	char	 query_socket[CONFIG_PATH_MAX];
	char	 admin_socket[CONFIG_PATH_MAX];
	char	 socket_group[CONFIG_NAME_MAX + 1];	/* "" = primary group */
	char	 admin_group[CONFIG_NAME_MAX + 1];	/* "" = admin 0600 */
	char	 admin_config[CONFIG_PATH_MAX];		/* "" = default */
	char	 state_directory[CONFIG_PATH_MAX];
	char	 seed_bundle[CONFIG_PATH_MAX];		/* "" = none */
	unsigned threads;				/* 0 = online CPUs */
	unsigned max_connections;
	unsigned max_connections_per_uid;
	unsigned max_admin_connections;			/* its own cap */
	unsigned max_admin_connections_per_uid;
	unsigned max_queued_replies;
	unsigned idle_timeout;				/* seconds, 0 = off */
	unsigned slow_client_timeout;			/* seconds */
	unsigned request_timeout;			/* seconds */
	unsigned min_generation_wait_ms;		/* 0: STALE at once */
	unsigned max_parked_checks;			/* all workers */
	unsigned max_parked_checks_per_connection;
	unsigned backlog;
	uint64_t map_size_max;				/* bytes */
	int	 log_verbose;
	/* Observability (docs/operations.md). */
	char	 metrics_listen[CONFIG_PATH_MAX + 8];	/* "" = off */
	char	 decision_log[CONFIG_PATH_MAX];		/* "" = off */
	double	 decision_log_sample;			/* 0..1 */
	char	 decision_log_denies[8];		/* sampled, all */
	char	 decision_log_context[8];		/* keys, values */
	uint64_t decision_log_ring;			/* bytes per worker */
	/* Fleet mode (docs/fleet.md); all of it needs a restart. */
	struct config_fleet {
		char	 etcd_endpoints[1024];		/* "" = standalone */
		char	 etcd_prefix[256];
		char	 etcd_cacert[CONFIG_PATH_MAX];
		char	 etcd_cert[CONFIG_PATH_MAX];
		char	 etcd_key[CONFIG_PATH_MAX];
		char	 etcd_user[128];
		char	 etcd_password_file[CONFIG_PATH_MAX];
		unsigned etcd_timeout;			/* seconds */
		unsigned fleet_max_staleness;		/* seconds */
		unsigned etcd_stage_ttl;		/* seconds */
		unsigned etcd_reclaim_interval;		/* seconds */
	} fleet;
	/* Where each key was set, for errors that involve two keys. */
	char	 source[CONFIG_PATH_MAX];		/* the file read */
	unsigned long lines[CONFIG_KEYS_MAX];		/* 0: default */
};

/* config.c */
void	 config_defaults(struct config *);
int	 config_load(struct config *, const char *path, char *err,
	    size_t errlen);
int	 config_set(struct config *, const char *key, const char *value,
	    const char *where, char *err, size_t errlen);
int	 config_override(struct config *, const char *keyvalue, char *err,
	    size_t errlen);
int	 config_check(const struct config *, const char *where, char *err,
	    size_t errlen);
void	 config_print(const struct config *);

/* notify.c */
int	 notify_enabled(void);
int	 notify_send(const char *);
int	 notify_sendf(const char *, ...)
	    __attribute__((__format__(printf, 1, 2)));
uint64_t notify_watchdog_usec(void);
uint64_t notify_monotonic_usec(void);

/* listenfd.c */
#define LISTENFD_MAX	16
struct listenfd {
	int	 fd;
	char	 name[256];
};
int	 listenfd_collect(struct listenfd *, size_t max, size_t *n,
	    char *err, size_t errlen);

/* Which socket a connection came in on. */
enum server_kind {
	SERVER_QUERY = 0,
	SERVER_ADMIN
};

/* Counters: every limit that is hit bumps one (Redis habit). */
struct server_stats {
	atomic_uint_fast64_t	accepted;
	atomic_uint_fast64_t	closed;
	atomic_uint_fast64_t	rejected_total;		/* max_connections */
	atomic_uint_fast64_t	rejected_per_uid;	/* ..._per_uid */
	atomic_uint_fast64_t	rejected_admin;		/* max_admin_... */
	atomic_uint_fast64_t	rejected_admin_per_uid;	/* ..._per_uid */
	atomic_uint_fast64_t	accept_backoffs;	/* EMFILE/ENFILE */
	atomic_uint_fast64_t	proto_errors;
	atomic_uint_fast64_t	idle_timeouts;
	atomic_uint_fast64_t	slow_client_closes;
	atomic_uint_fast64_t	request_timeouts;	/* frame too slow */
	atomic_uint_fast64_t	queue_full_pauses;
	atomic_uint_fast64_t	reloads;
	/* Checks with a minimum generation the world had not reached. */
	atomic_uint_fast64_t	parked;			/* held */
	atomic_uint_fast64_t	parked_answered;	/* decided later */
	atomic_uint_fast64_t	parked_timed_out;	/* STALE at the wait */
	atomic_uint_fast64_t	parked_refused;		/* STALE at once */
};

struct server;
struct server_listener {
	struct server		*srv;
	enum server_kind	 kind;
	int			 fd;
	int			 bound;		/* we bound it: unlink at exit */
	char			 path[CONFIG_PATH_MAX];
	struct evconnlistener	*lev;
};

struct server_uidcount {
	uid_t		uid;
	unsigned	count;
};

struct server_uidcounts {
	struct server_uidcount	*v;
	size_t			 n;
	size_t			 cap;
};

/*
 * A request held until the world reaches its minimum generation (park.c):
 * a copy of its frame, and the answers to the connection's later
 * requests, which wait behind it to keep the request order.
 */
struct park {
	TAILQ_ENTRY(park)	 entry;
	uint16_t		 type;		/* CHECK or CHECK_BATCH */
	uint32_t		 id;
	uint64_t		 min_gen;
	int64_t			 deadline;	/* ms, monotonic */
	struct evbuffer		*after;		/* later answers */
	unsigned		 nafter;
	size_t			 after_bytes;
	size_t			 len;
	uint8_t			 body[];
};
TAILQ_HEAD(park_list, park);

/* One client connection, owned by one worker (thread). */
struct conn {
	TAILQ_ENTRY(conn)	 entry;
	TAILQ_ENTRY(conn)	 park_entry;	/* on worker's parked list */
	struct park_list	 parks;		/* in request order */
	unsigned		 nparks;
	unsigned		 held;		/* answers in parks' after */
	size_t			 held_bytes;
	struct evbuffer		*sink;		/* NULL: out, or the last park's */
	struct worker		*worker;
	enum server_kind	 kind;
	int			 fd;
	struct event		*rev;		/* EV_READ, idle/request timer */
	struct event		*wev;		/* EV_WRITE while output waits */
	struct proto_framer	 fr;		/* unprocessed input, linear */
	struct evbuffer		*out;		/* answers not yet written */
	int64_t			 frame_start;	/* ms: a partial frame's first byte */
	uid_t			 uid;
	gid_t			 gid;
	pid_t			 pid;
	unsigned		 queued;	/* replies since output empty */
	int			 paused;	/* reading stopped: queue full */
	int			 reading;	/* rev is pending */
	int			 writing;	/* wev is pending */
	int			 deadline;	/* rev's timer: request_timeout */
	int			 close_after;	/* close once output drained */
	int			 hello;		/* HELLO seen */
	int			 failed;	/* a write failed: free it */
	/*
	 * Admin connections: when a call last succeeded (or the accept).
	 * Their idle_timeout runs from it, so PINGs and refused calls do
	 * not keep a slot taken.
	 */
	int64_t			 active_ms;
};
TAILQ_HEAD(conn_list, conn);

struct worker {
	struct server		*srv;
	unsigned		 id;
	pthread_t		 thread;
	int			 started;
	struct event_base	*base;
	int			 pipe[2];	/* acceptor -> worker handoffs */
	struct event		*pipe_ev;
	struct event		*grace_ev;
	struct conn_list	 conns;
	unsigned		 nconns;
	int			 draining;
	struct eval_answer	*scratch;	/* KMSAUTHZ_MAX_BATCH answers */
	/* Parked requests (park.c): their connections, in no order. */
	struct conn_list	 parked;
	unsigned		 nparked;
	struct event		*park_wake;	/* activated by publishers */
	struct event		*park_timer;	/* the nearest deadline */
	int64_t			 park_timer_at;	/* ms, 0: not armed */
	atomic_int		 park_waiting;	/* publishers: wake me */
	struct eval_why		*why;		/* allocated at the first WHY */
	struct world		*world;		/* cached, refreshed by gen */
	struct metrics_cell	*mc;		/* this thread's metrics */
	struct declog_ring	*dl;		/* decision log, or NULL */
	uint64_t		 frame_t0;	/* ns: frames complete at */
	uint64_t		 generation;
	uint64_t		 epoch;		/* srv->world_epoch of world */
	/*
	 * Decisions, counted by this worker's thread alone: no shared
	 * read-modify-write on the query path; readers add them up.
	 */
	atomic_uint_fast64_t	 checks;
	atomic_uint_fast64_t	 allows;
	atomic_uint_fast64_t	 denies;
	atomic_uint_fast64_t	 check_errors;	/* failed closed */
};

struct server_decisions {
	uint64_t	checks;
	uint64_t	allows;
	uint64_t	denies;
	uint64_t	check_errors;
};

/* The admin plane's state (server-admin.c), its thread's alone. */
struct admin_ctx;
struct store;
struct bundle;
struct server_admin {
	struct admin_ctx	*ctx;
	struct store		*store;
	struct event		*timer;		/* deletions, publication */
	struct event		*reload_ev;	/* SIGHUP, from main */
	void			(*reload_done)(void);
	struct bundle		*seed_pending;	/* committed last */
	char			 seed_path[1024];
	int			 start_failed;
	struct fleet		*fleet;		/* fleet mode, or NULL */
	pthread_mutex_t		 sync_mu;	/* server_admin_sync */
};

struct server {
	struct event_base	*base;		/* main thread: accept, admin */
	struct world_holder	*holder;
	struct server_listener	 listeners[2];	/* by enum server_kind */
	struct worker		*workers;
	unsigned		 nworkers;
	unsigned		 next_worker;
	struct event		*backoff_ev;
	struct worker		 admin_worker;	/* admin conns, own thread */
	struct server_admin	 admin;
	/* Bumped when a world replaces one of the same generation. */
	atomic_uint_fast64_t	 world_epoch;
	int			 draining;
	time_t			 started;

	/* Limits that SIGHUP may change, read by the workers. */
	atomic_uint		 max_connections;
	atomic_uint		 max_connections_per_uid;
	atomic_uint		 max_admin_connections;
	atomic_uint		 max_admin_connections_per_uid;
	atomic_uint		 max_queued_replies;
	atomic_uint		 idle_timeout;
	atomic_uint		 slow_client_timeout;
	atomic_uint		 request_timeout;
	atomic_uint		 min_generation_wait_ms;
	atomic_uint		 max_parked_checks;
	atomic_uint		 max_parked_checks_per_connection;
	atomic_uint		 nparked;	/* all workers, now */

	pthread_mutex_t		 lock;		/* protects the counts below */
	unsigned		 nconns;	/* query connections */
	unsigned		 nadmin;	/* admin connections */
	struct server_uidcounts	 uids;		/* query, by uid */
	struct server_uidcounts	 admin_uids;	/* admin, by uid */

	struct server_stats	 stats;
};

/* server.c */
int	 server_init(struct server *, struct event_base *,
	    struct world_holder *, const struct config *);
void	 server_apply_limits(struct server *, const struct config *);
int	 server_listen(struct server *, const struct config *,
	    const struct listenfd *, size_t nlistenfds);
int	 server_start_workers(struct server *, unsigned nthreads);
void	 server_shutdown(struct server *);
int	 server_start_admin(struct server *);
void	 server_join_admin(struct server *);
void	 server_free(struct server *);
void	 server_release(struct server *, enum server_kind, uid_t);
unsigned server_nconns(struct server *);
void	 server_republish(struct server *, struct world *);
/* Publish a world of a new generation and wake the parked checks. */
void	 server_publish(struct server *, struct world *);
void	 server_decisions(struct server *, struct server_decisions *);
/* A Unix socket bound as safely as the query socket (metrics). */
int	 server_bind_unix(const char *, mode_t, const char *group,
	    unsigned backlog);

/* worker.c */
struct declog_ring;
int	 worker_init(struct worker *, struct server *, unsigned id,
	    struct metrics_cell *, struct declog_ring *);
int	 worker_run(struct worker *);
int	 worker_start(struct worker *, struct server *, unsigned id);
int	 worker_handoff(struct worker *, int kind, int fd, uid_t, gid_t,
	    pid_t);
void	 worker_stop(struct worker *);
void	 worker_join(struct worker *);
void	 worker_free(struct worker *);
const struct world *worker_world(struct worker *);
void	 worker_conn_gone(struct worker *);

/* server-conn.c */
struct conn *conn_new(struct worker *, enum server_kind, int fd, uid_t,
	    gid_t, pid_t);
void	 conn_free(struct conn *);
void	 conn_drain(struct conn *);
uid_t	 conn_uid(const struct conn *);
pid_t	 conn_pid(const struct conn *);
/* An admin call succeeded: the connection's idle time starts again. */
void	 conn_active(struct conn *);
int	 conn_reply(struct conn *, uint16_t type, uint32_t reqid,
	    const void *body, size_t len);
int	 conn_error(struct conn *, uint32_t reqid, uint16_t code, int closes,
	    const char *msg);
int	 server_encode_error(uint8_t *, size_t, uint32_t reqid, uint16_t code,
	    const char *msg, size_t *lenp);
/* Decide and answer a decoded CHECK, a validated CHECK_BATCH body. */
int	 conn_answer_check(struct conn *, uint32_t reqid,
	    const struct proto_check *, int timed);
int	 conn_answer_batch(struct conn *, uint32_t reqid, const uint8_t *,
	    size_t, int timed);
/* Parked answers were moved into the output: write, resume. */
void	 conn_unparked(struct conn *);
int64_t	 conn_now_ms(void);

/* park.c: checks held until a minimum generation is published */
int	 park_init(struct worker *);
void	 park_free(struct worker *);
/* Park a request (or answer STALE at once over a bound): 0, or -1. */
int	 park_request(struct conn *, const struct proto_hdr *,
	    const uint8_t *body, uint64_t min_gen);
/* Any thread that published a world: wake the workers that wait. */
void	 park_notify(struct server *);
/* The connection is going: its parked requests with it. */
void	 park_conn_free(struct conn *);
/* Shutdown: every parked request answered SHUTDOWN, in order. */
void	 park_conn_drain(struct conn *);
/* 1 when the answers held behind parked requests fill the budget. */
int	 park_held_full(struct conn *);

/* server-admin.c: the admin plane, on the admin worker's thread */
int	 server_admin_dispatch(struct conn *, struct server *,
	    uint32_t reqid, const uint8_t *body, size_t len);
/* Open the store (an empty one's seed read and checked), the admin
 * configuration, the audit file: before the admin thread runs. */
int	 server_admin_start(struct server *, const struct config *);
/* Commit the seed server_admin_start() read: the start's last step. */
int	 server_admin_seed(struct server *);
const char *server_admin_config_path(const struct config *, int *optional);
void	 server_admin_stop(struct server *);
int	 server_admin_active(struct server *);
/* SIGHUP: reopen a read-only store (writable if it can), the audit;
 * then, on the admin thread, what server_admin_on_reload() set. */
void	 server_admin_reload(struct server *);
void	 server_admin_on_reload(struct server *, void (*done)(void));
/* 1 when peer credentials make a superuser (room kept for them). */
int	 server_admin_superuser(struct server *, uid_t, gid_t);
/* 1 when the store is read-only (admin changes refused). */
int	 server_admin_readonly(struct server *);
int	 server_admin_audit_unavailable(struct server *);

/* kmsauthzd.c */
const struct config *daemon_config(void);
char	*daemon_read_file(const char *, size_t, size_t *);

#endif
