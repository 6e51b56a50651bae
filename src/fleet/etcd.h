/* SPDX-License-Identifier: ISC */
/*
 * etcd.h: an etcd v3 client over etcd's JSON gRPC gateway (etcd 3.4),
 * for fleet mode (docs/fleet.md, "The etcd client").  It moves keys and
 * values and knows nothing of the store or the admin API: callers pass
 * full keys.
 *
 * Everything runs on the caller's event_base, one thread: every call
 * and every callback of a client happen on the thread that runs that
 * base.  An asynchronous call returns 0 and later calls its callback
 * exactly once (never from inside the call itself), or returns -1 with
 * the error filled and calls nothing.  Results handed to a callback are
 * the client's and live until the callback returns.
 *
 * Errors carry a precise message (the endpoint, the HTTP status, etcd's
 * own message, or the transport's cause) and a kind that tells the
 * caller what to do with it.  A transaction whose comparisons fail is a
 * result (succeeded = 0), not an error.
 */
#ifndef KMSAUTHZ_FLEET_ETCD_H
#define KMSAUTHZ_FLEET_ETCD_H

#include <stddef.h>
#include <stdint.h>

struct event_base;

#define ETCD_ENDPOINTS_MAX	16
#define ETCD_ENDPOINT_MAX	256	/* bytes of one endpoint URL */
#define ETCD_ERR_MAX		512
#define ETCD_TIMEOUT_DEFAULT	5	/* seconds, one HTTP exchange */
/* Bytes of one unary answer (a range page) and of one watch message. */
#define ETCD_RESPONSE_MAX	(64u * 1024 * 1024)
#define ETCD_WATCH_MSG_MAX	(64u * 1024 * 1024)
#define ETCD_PASSWORD_MAX	1024
/* Operations of one transaction (etcd's own --max-txn-ops is 128). */
#define ETCD_TXN_OPS_MAX	128
/* Watch reconnection: jittered exponential backoff between these. */
#define ETCD_BACKOFF_MIN_MS	100
#define ETCD_BACKOFF_MAX_MS	5000
/*
 * A watch with no byte for this long reconnects (and resumes): longer
 * than etcd's progress notifications (every 10 minutes by default), so
 * a healthy idle stream is never dropped.
 */
#define ETCD_WATCH_IDLE_DEFAULT	900

enum etcd_errkind {
	ETCD_E_NONE = 0,
	ETCD_E_UNAVAILABLE,	/* connect, timeout, 5xx: another endpoint */
	ETCD_E_COMPACTED,	/* the revision asked for is compacted */
	ETCD_E_AUTH,		/* authentication or permission refused */
	ETCD_E_INVALID,		/* the request is wrong (ours or the caller's) */
	ETCD_E_CONFLICT,	/* a precondition of etcd's failed */
	ETCD_E_CANCELED,	/* etcd canceled a watch (not a compaction) */
	ETCD_E_PROTOCOL		/* an answer we cannot read or over a limit */
};

struct etcd_error {
	enum etcd_errkind	 kind;
	int			 http_status;	/* 0: none */
	int			 grpc_code;	/* 0: none */
	char			 msg[ETCD_ERR_MAX];
};

const char	*etcd_errkind_name(enum etcd_errkind);

struct etcd_config {
	const char	*endpoints;	/* "http://h:p,https://h:p" */
	int		 timeout;	/* seconds; 0: ETCD_TIMEOUT_DEFAULT */
	const char	*ca_file;	/* https: verify the server against */
	const char	*cert_file;	/* https: client certificate */
	const char	*key_file;	/*   and its key */
	const char	*user;		/* NULL: no authentication */
	const char	*password;
	size_t		 response_max;	/* 0: ETCD_RESPONSE_MAX */
	size_t		 watch_msg_max;	/* 0: ETCD_WATCH_MSG_MAX */
	int		 watch_idle;	/* seconds; 0: ETCD_WATCH_IDLE_DEFAULT */
};

struct etcd_endpoint {
	int		 tls;
	char		 host[ETCD_ENDPOINT_MAX];	/* no brackets */
	uint16_t	 port;
	char		 url[ETCD_ENDPOINT_MAX];	/* as configured */
};

/* Parses "http://h:p,https://h:p"; -1 and why (which one, why) in err. */
int	etcd_endpoints_parse(const char *, struct etcd_endpoint *, size_t,
	    size_t *, char *, size_t);
/* The first line of a file (a password), refused when the file is
 * readable by others; -1 and why in err. */
int	etcd_password_read(const char *, char *, size_t, char *, size_t);
/* The range_end that makes [key, range_end) every key under a prefix:
 * the prefix with its last byte below 0xff raised by one, the bytes
 * after it dropped; "\0" (everything after) when there is none.  Its
 * length, 0 when out is too small. */
size_t	etcd_prefix_end(const void *, size_t, uint8_t *, size_t);

struct etcd_client;

struct etcd_client *etcd_client_new(struct event_base *,
	    const struct etcd_config *, char *, size_t);
/* Every call and watch in flight is dropped without its callback.  Not
 * from inside one of this client's callbacks. */
void	etcd_client_free(struct etcd_client *);
/* The endpoint the next call tries first (the last that answered). */
const char *etcd_client_endpoint(const struct etcd_client *);

struct etcd_header {
	uint64_t	 cluster_id;
	uint64_t	 member_id;
	int64_t		 revision;
	uint64_t	 raft_term;
};

struct etcd_kv {
	uint8_t		*key;		/* NUL-terminated for convenience */
	size_t		 keylen;
	uint8_t		*value;		/* NUL-terminated for convenience */
	size_t		 valuelen;
	int64_t		 create_revision;
	int64_t		 mod_revision;
	int64_t		 version;
	int64_t		 lease;
};

/* Range: [key, range_end), or key alone when range_end is NULL. */
struct etcd_range_req {
	const void	*key;
	size_t		 keylen;
	const void	*range_end;
	size_t		 range_end_len;
	int64_t		 revision;	/* 0: the newest */
	int64_t		 limit;		/* 0: no limit */
	int		 keys_only;
	int		 count_only;
};

struct etcd_range_res {
	struct etcd_header	 header;
	struct etcd_kv		*kvs;
	size_t			 nkvs;
	int			 more;
	int64_t			 count;
};

typedef void etcd_range_cb(const struct etcd_error *,
	    const struct etcd_range_res *, void *);
int	etcd_range(struct etcd_client *, const struct etcd_range_req *,
	    etcd_range_cb *, void *, struct etcd_error *);

/*
 * Whether a key of [key, range_end) was last changed in (after, upto]:
 * a range at the newest revision, bounded by mod_revision
 * (min_mod_revision after + 1, max_mod_revision upto), of one key
 * without its value: nkvs 1 (that key, its mod_revision) or 0.  Whether
 * a watch over the range missed a change (a key deleted since is not
 * seen, nor one changed again past upto).  etcd reads the whole range
 * to filter it.
 */
struct etcd_changed_req {
	const void	*key;
	size_t		 keylen;
	const void	*range_end;
	size_t		 range_end_len;
	int64_t		 after;
	int64_t		 upto;
};

int	etcd_range_changed(struct etcd_client *,
	    const struct etcd_changed_req *, etcd_range_cb *, void *,
	    struct etcd_error *);

/*
 * A walk: every key of [key, range_end) at one revision (the newest
 * when 0, then fixed at the first page's), in pages of at most limit
 * keys.  page is called for each page that has keys; returning -1
 * stops the walk (done then reports ETCD_E_NONE, stopped).  done is
 * called once, with the revision walked and the keys seen.
 */
typedef int etcd_page_cb(const struct etcd_range_res *, void *);
typedef void etcd_walk_done_cb(const struct etcd_error *, int64_t, size_t,
	    void *);
int	etcd_range_walk(struct etcd_client *, const struct etcd_range_req *,
	    etcd_page_cb *, etcd_walk_done_cb *, void *, struct etcd_error *);

enum etcd_cmp_target {
	ETCD_CMP_VERSION, ETCD_CMP_CREATE, ETCD_CMP_MOD, ETCD_CMP_VALUE
};
enum etcd_cmp_result {
	ETCD_CMP_EQUAL, ETCD_CMP_GREATER, ETCD_CMP_LESS, ETCD_CMP_NOT_EQUAL
};

struct etcd_compare {
	const void		*key;
	size_t			 keylen;
	enum etcd_cmp_target	 target;
	enum etcd_cmp_result	 result;
	int64_t			 number;	/* VERSION, CREATE, MOD */
	const void		*value;		/* VALUE */
	size_t			 valuelen;
	/*
	 * Not NULL: the compare holds for every key of [key, range_end)
	 * (etcd_prefix_end: every key under a prefix); an empty range is
	 * compared as one key at its defaults (version, revisions 0).
	 */
	const void		*range_end;
	size_t			 range_end_len;
};

enum etcd_op_type { ETCD_OP_PUT, ETCD_OP_DELETE };

struct etcd_op {
	enum etcd_op_type	 type;
	const void		*key;
	size_t			 keylen;
	const void		*value;		/* PUT */
	size_t			 valuelen;
	const void		*range_end;	/* DELETE: NULL for one key */
	size_t			 range_end_len;
	int64_t			 lease;		/* PUT: 0, or the key's lease */
};

struct etcd_txn_req {
	const struct etcd_compare	*cmp;
	size_t				 ncmp;
	const struct etcd_op		*success;
	size_t				 nsuccess;
	const struct etcd_op		*failure;
	size_t				 nfailure;
};

struct etcd_txn_res {
	struct etcd_header	 header;
	int			 succeeded;
	int64_t			 deleted;	/* keys its deletes removed */
};

typedef void etcd_txn_cb(const struct etcd_error *,
	    const struct etcd_txn_res *, void *);
int	etcd_txn(struct etcd_client *, const struct etcd_txn_req *,
	    etcd_txn_cb *, void *, struct etcd_error *);

struct etcd_status {
	struct etcd_header	 header;
	uint64_t		 leader;
	char			 version[32];
	int64_t			 db_size;
};

typedef void etcd_status_cb(const struct etcd_error *,
	    const struct etcd_status *, void *);
/* The status of the endpoint that answers (the first that does). */
int	etcd_status(struct etcd_client *, etcd_status_cb *, void *,
	    struct etcd_error *);

/* Compacts the history before revision (tests, operations). */
typedef void etcd_header_cb(const struct etcd_error *,
	    const struct etcd_header *, void *);
int	etcd_compact(struct etcd_client *, int64_t, int, etcd_header_cb *,
	    void *, struct etcd_error *);

/*
 * Asks for a token with the configured user and password now (calls do
 * it themselves before their first request, and again once when etcd
 * says the token is invalid).
 */
typedef void etcd_done_cb(const struct etcd_error *, void *);
int	etcd_authenticate(struct etcd_client *, etcd_done_cb *, void *,
	    struct etcd_error *);

/*
 * Leases: granted for ttl seconds, kept alive, revoked (its keys go
 * with it).  A keep-alive's ttl is 0 when the lease is gone.
 */
struct etcd_lease {
	struct etcd_header	 header;
	int64_t			 id;
	int64_t			 ttl;
};

typedef void etcd_lease_cb(const struct etcd_error *,
	    const struct etcd_lease *, void *);
int	etcd_lease_grant(struct etcd_client *, int64_t ttl, etcd_lease_cb *,
	    void *, struct etcd_error *);
int	etcd_lease_keepalive(struct etcd_client *, int64_t id,
	    etcd_lease_cb *, void *, struct etcd_error *);
int	etcd_lease_revoke(struct etcd_client *, int64_t id, etcd_lease_cb *,
	    void *, struct etcd_error *);

enum etcd_event_type { ETCD_EV_PUT, ETCD_EV_DELETE };

struct etcd_event {
	enum etcd_event_type	 type;
	struct etcd_kv		 kv;	/* DELETE: key and mod_revision */
	int			 has_prev;
	struct etcd_kv		 prev_kv;
};

struct etcd_watch_req {
	const void	*key;
	size_t		 keylen;
	const void	*range_end;
	size_t		 range_end_len;
	int64_t		 start_revision;	/* 0: from now */
	int		 prev_kv;
};

/*
 * A watch's callbacks.  events: the events of one revision, in order,
 * revisions in increasing order.  progress (optional): etcd has sent
 * everything up to this revision.  trouble (optional): the stream broke
 * and the watch reconnects (to the next endpoint, after a jittered
 * backoff) and resumes at the last revision seen + 1.  end: the watch is
 * over and frees itself: ETCD_E_COMPACTED with the compact revision
 * (start again from a fresh range), ETCD_E_CANCELED (etcd canceled it),
 * ETCD_E_AUTH or ETCD_E_INVALID (retrying would not help).
 */
struct etcd_watch_cbs {
	void	(*events)(int64_t, const struct etcd_event *, size_t,
		    void *);
	void	(*progress)(int64_t, void *);
	void	(*trouble)(const struct etcd_error *, void *);
	void	(*end)(const struct etcd_error *, int64_t, void *);
};

struct etcd_watch;

struct etcd_watch *etcd_watch_start(struct etcd_client *,
	    const struct etcd_watch_req *, const struct etcd_watch_cbs *,
	    void *, struct etcd_error *);
/* No callback after this; allowed from inside the watch's callbacks. */
void	etcd_watch_cancel(struct etcd_watch *);
/* The last revision delivered (or start_revision - 1). */
int64_t	etcd_watch_revision(const struct etcd_watch *);

/*
 * The synchronous wrapper (kmsauthzctl, tests): a client on a private
 * event_base, each call run to its end or to the deadline (the
 * configured timeout for each endpoint tried, and for the token).
 */
struct etcd_sync;

struct etcd_sync *etcd_sync_new(const struct etcd_config *, char *, size_t);
void	etcd_sync_free(struct etcd_sync *);
struct etcd_client *etcd_sync_client(struct etcd_sync *);
int	etcd_sync_range(struct etcd_sync *, const struct etcd_range_req *,
	    struct etcd_range_res **, struct etcd_error *);
void	etcd_range_res_free(struct etcd_range_res *);
int	etcd_sync_txn(struct etcd_sync *, const struct etcd_txn_req *,
	    struct etcd_txn_res *, struct etcd_error *);
int	etcd_sync_status(struct etcd_sync *, struct etcd_status *,
	    struct etcd_error *);
int	etcd_sync_compact(struct etcd_sync *, int64_t, struct etcd_header *,
	    struct etcd_error *);
int	etcd_sync_authenticate(struct etcd_sync *, struct etcd_error *);
/* grant (ttl > 0, id 0), keep alive (id, ttl 0) or revoke (id, ttl -1). */
int	etcd_sync_lease(struct etcd_sync *, int64_t id, int64_t ttl,
	    struct etcd_lease *, struct etcd_error *);

#endif
