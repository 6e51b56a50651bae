/* SPDX-License-Identifier: ISC */
/*
 * etcd-int.h: what the files of the etcd client share: the client, one
 * HTTP exchange (etcd-conn.c), one unary call with its endpoint
 * failover and its token (etcd-call.c), and the JSON helpers
 * (etcd-json.c).
 */
#ifndef KMSAUTHZ_FLEET_ETCD_INT_H
#define KMSAUTHZ_FLEET_ETCD_INT_H

#include <sys/queue.h>
#include <sys/time.h>

#include <json-c/json.h>
#include <openssl/ssl.h>

#include "fleet/etcd.h"

struct evbuffer;
struct evdns_base;
struct evhttp_connection;
struct evhttp_request;
struct bufferevent;
struct event;

struct etcd_http;
struct etcd_call;

/* Someone waiting for a token (a call, a watch). */
struct etcd_authwait {
	void			(*fn)(void *, const struct etcd_error *);
	void			*arg;
	unsigned		 round;		/* the authenticate it awaits */
	TAILQ_ENTRY(etcd_authwait) entry;
};
TAILQ_HEAD(etcd_authwaitq, etcd_authwait);

struct etcd_client {
	struct event_base	*base;
	struct evdns_base	*dns;		/* NULL: only IP endpoints */
	SSL_CTX			*ssl_ctx;	/* NULL: no https endpoint */
	struct etcd_endpoint	 ep[ETCD_ENDPOINTS_MAX];
	size_t			 nep;
	size_t			 cur;		/* the endpoint tried first */
	int			 timeout;
	size_t			 response_max;
	size_t			 watch_msg_max;
	int			 watch_idle;
	char			*user;
	char			*password;
	char			*token;		/* NULL: none yet */
	struct etcd_call	*auth;		/* the authenticate in flight */
	unsigned		 auth_round;	/* authenticates started */
	struct etcd_call	*last_call;	/* the last etcd_call_start's */
	struct etcd_authwaitq	 authq;
	TAILQ_HEAD(, etcd_http)	 https;		/* exchanges in flight */
	TAILQ_HEAD(etcd_callq, etcd_call) calls;
	TAILQ_HEAD(, etcd_watch) watches;
};

/*
 * One HTTP exchange: a POST of a JSON body to one endpoint, on a
 * connection of its own (Connection: close).  libevent's callbacks only
 * record what happened and activate ev; the owner's callbacks run from
 * ev, outside libevent's HTTP code, so that they may free the exchange.
 */
/* data returns -1 once it freed the exchange. */
typedef int etcd_http_data_cb(struct etcd_http *, void *);
typedef void etcd_http_done_cb(struct etcd_http *, void *);

struct etcd_http {
	struct etcd_client	*c;
	size_t			 ep;
	struct evhttp_connection *evcon;
	struct evhttp_request	*req;		/* NULL once libevent is done */
	struct bufferevent	*bev;		/* https */
	SSL			*ssl;
	struct event		*ev;		/* runs the owner's callbacks */
	struct event		*deadline;
	int			 stream;
	int			 status;	/* HTTP status, 0: none */
	int			 headers;	/* the answer's headers came */
	int			 failed;	/* libevent's error callback */
	int			 timedout;
	int			 done;
	int			 errnum;
	struct timeval		 started;
	char			 tlserr[256];
	struct evbuffer		*body;
	size_t			 max;
	char			 path[64];
	etcd_http_data_cb	*data;
	etcd_http_done_cb	*fin;
	void			*arg;
	TAILQ_ENTRY(etcd_http)	 entry;
};

struct etcd_http *etcd_http_start(struct etcd_client *, size_t,
	    const char *, const char *, int, etcd_http_data_cb *,
	    etcd_http_done_cb *, void *, struct etcd_error *);
void	etcd_http_free(struct etcd_http *);
/* After fin: 0 when the answer is a 200, else -1 and the error. */
int	etcd_http_result(struct etcd_http *, struct etcd_error *);
/* The request never reached the server (connect or TLS handshake). */
int	etcd_http_unsent(const struct etcd_http *);
void	etcd_http_stream_started(struct etcd_http *);
int	etcd_tls_ctx(struct etcd_client *, const struct etcd_config *,
	    char *, size_t);

/*
 * One unary call: a JSON body POSTed to a path, tried on the endpoints
 * in turn while they are unavailable (a write only while it provably
 * never reached one), with a token when the client has a user.
 */
typedef void etcd_call_done_cb(struct etcd_call *, const struct etcd_error *,
	    json_object *);

struct etcd_call {
	struct etcd_client	*c;
	char			 path[64];
	char			*body;
	int			 write;		/* not to be sent twice */
	int			 noauth;	/* authenticate itself */
	int			 reauthed;
	size_t			 tried;
	struct etcd_http	*h;
	struct event		*ev;		/* a failure to report later */
	struct etcd_error	 err;
	struct etcd_authwait	 aw;
	etcd_call_done_cb	*done;
	void			*cb;		/* the caller's callback */
	void			*arg;
	void			*state;		/* the kind's own */
	void			(*state_free)(void *);
	TAILQ_ENTRY(etcd_call)	 entry;
};

int	etcd_call_start(struct etcd_client *, const char *, json_object *,
	    int, etcd_call_done_cb *, void *, void *, struct etcd_error *);
void	etcd_call_free(struct etcd_call *);
/* A token for the client, then fn (with NULL or the error). */
void	etcd_auth_need(struct etcd_client *, struct etcd_authwait *);
void	etcd_auth_cancel(struct etcd_client *, struct etcd_authwait *);
void	etcd_auth_invalidate(struct etcd_client *, const char *);
int	etcd_auth_refresh(struct etcd_client *, struct etcd_error *);
void	etcd_watch_free_all(struct etcd_client *);
void	etcd_client_drop(struct etcd_client *);

/* etcd-kv.c: a txn request as the gateway's JSON (NULL: refused, err). */
json_object *etcd_txn_json(const struct etcd_txn_req *, struct etcd_error *);
/* etcd-kv.c: a changed request as the gateway's JSON. */
json_object *etcd_changed_json(const struct etcd_changed_req *);

/* etcd-json.c */
void	etcd_seterr(struct etcd_error *, enum etcd_errkind, const char *, ...)
	    __attribute__((__format__(printf, 3, 4)));
void	etcd_json_bytes(json_object *, const char *, const void *, size_t);
void	etcd_json_int64(json_object *, const char *, int64_t);
int	etcd_json_get_int64(json_object *, const char *, int64_t *);
int	etcd_json_get_uint64(json_object *, const char *, uint64_t *);
int	etcd_json_get_bytes(json_object *, const char *, uint8_t **,
	    size_t *);
int	etcd_json_header(json_object *, struct etcd_header *);
int	etcd_json_kv(json_object *, struct etcd_kv *);
void	etcd_kv_clear(struct etcd_kv *);
void	etcd_error_from_json(struct etcd_error *, const char *, const char *,
	    int, const char *, size_t);
int	etcd_error_invalid_token(const struct etcd_error *);

#endif
