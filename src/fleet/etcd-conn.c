/* SPDX-License-Identifier: ISC */
/*
 * etcd-conn.c: the client and its HTTP exchanges.  Each exchange has a
 * connection of its own and asks the server to close it after the
 * answer: nothing lingers between calls, a dead endpoint costs one
 * connect, and the libevent state of one exchange never outlives it.
 * https goes through libevent's OpenSSL bufferevents, verifying the
 * server's certificate against the CA and the endpoint's name or
 * address, and presenting the client certificate.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <sys/time.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/dns.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "common/xmalloc.h"
#include "fleet/etcd-int.h"

static void	etcd_http_reqcb(struct evhttp_request *, void *);
static void	etcd_http_errcb(enum evhttp_request_error, void *);
static int	etcd_http_headercb(struct evhttp_request *, void *);
static void	etcd_http_chunkcb(struct evhttp_request *, void *);
static void	etcd_http_run(evutil_socket_t, short, void *);
static void	etcd_http_expire(evutil_socket_t, short, void *);

static int
etcd_host_is_ip(const char *host)
{
	struct in6_addr	a;

	return (inet_pton(AF_INET, host, &a) == 1 ||
	    inet_pton(AF_INET6, host, &a) == 1);
}

static void
etcd_ssl_errors(char *buf, size_t len)
{
	unsigned long	e;

	buf[0] = '\0';
	if ((e = ERR_get_error()) != 0)
		ERR_error_string_n(e, buf, len);
	ERR_clear_error();
}

int
etcd_tls_ctx(struct etcd_client *c, const struct etcd_config *conf,
    char *err, size_t errlen)
{
	char	why[256];

	if ((c->ssl_ctx = SSL_CTX_new(TLS_client_method())) == NULL) {
		etcd_ssl_errors(why, sizeof(why));
		snprintf(err, errlen, "TLS: %s", why);
		return (-1);
	}
	SSL_CTX_set_min_proto_version(c->ssl_ctx, TLS1_2_VERSION);
	SSL_CTX_set_verify(c->ssl_ctx, SSL_VERIFY_PEER, NULL);
	if (conf->ca_file != NULL ?
	    SSL_CTX_load_verify_locations(c->ssl_ctx, conf->ca_file,
	    NULL) != 1 : SSL_CTX_set_default_verify_paths(c->ssl_ctx) != 1) {
		etcd_ssl_errors(why, sizeof(why));
		snprintf(err, errlen, "CA file %s: %s", conf->ca_file != NULL ?
		    conf->ca_file : "(system)", why);
		return (-1);
	}
	if ((conf->cert_file == NULL) != (conf->key_file == NULL)) {
		snprintf(err, errlen, "a client certificate needs both its "
		    "certificate and its key file");
		return (-1);
	}
	if (conf->cert_file == NULL)
		return (0);
	if (SSL_CTX_use_certificate_chain_file(c->ssl_ctx,
	    conf->cert_file) != 1) {
		etcd_ssl_errors(why, sizeof(why));
		snprintf(err, errlen, "certificate %s: %s", conf->cert_file,
		    why);
		return (-1);
	}
	if (SSL_CTX_use_PrivateKey_file(c->ssl_ctx, conf->key_file,
	    SSL_FILETYPE_PEM) != 1 || SSL_CTX_check_private_key(c->ssl_ctx)
	    != 1) {
		etcd_ssl_errors(why, sizeof(why));
		snprintf(err, errlen, "key %s: %s", conf->key_file, why);
		return (-1);
	}
	return (0);
}

struct etcd_client *
etcd_client_new(struct event_base *base, const struct etcd_config *conf,
    char *err, size_t errlen)
{
	struct etcd_client	*c;
	size_t			 i;
	int			 tls = 0, names = 0;

	c = xcalloc(1, sizeof(*c));
	c->base = base;
	TAILQ_INIT(&c->authq);
	TAILQ_INIT(&c->https);
	TAILQ_INIT(&c->calls);
	TAILQ_INIT(&c->watches);
	if (etcd_endpoints_parse(conf->endpoints, c->ep, ETCD_ENDPOINTS_MAX,
	    &c->nep, err, errlen) == -1)
		goto fail;
	for (i = 0; i < c->nep; i++) {
		tls |= c->ep[i].tls;
		names |= !etcd_host_is_ip(c->ep[i].host);
	}
	if (conf->timeout < 0 || conf->timeout > 3600 ||
	    conf->watch_idle < 0 || conf->watch_idle > 86400) {
		snprintf(err, errlen, "timeout: 1 to 3600 seconds, "
		    "watch idle: 1 to 86400");
		goto fail;
	}
	c->timeout = conf->timeout ? conf->timeout : ETCD_TIMEOUT_DEFAULT;
	c->watch_idle = conf->watch_idle ? conf->watch_idle :
	    ETCD_WATCH_IDLE_DEFAULT;
	c->response_max = conf->response_max ? conf->response_max :
	    ETCD_RESPONSE_MAX;
	c->watch_msg_max = conf->watch_msg_max ? conf->watch_msg_max :
	    ETCD_WATCH_MSG_MAX;
	if ((conf->user == NULL) != (conf->password == NULL)) {
		snprintf(err, errlen, "a user needs a password, and a "
		    "password a user");
		goto fail;
	}
	if (conf->user != NULL) {
		c->user = xstrdup(conf->user);
		c->password = xstrdup(conf->password);
	}
	if (tls && etcd_tls_ctx(c, conf, err, errlen) == -1)
		goto fail;
	if (!tls && (conf->ca_file != NULL || conf->cert_file != NULL)) {
		snprintf(err, errlen, "a CA or a client certificate, but no "
		    "https:// endpoint");
		goto fail;
	}
	/* Names resolve without blocking the loop. */
	if (names && (c->dns = evdns_base_new(base,
	    EVDNS_BASE_INITIALIZE_NAMESERVERS)) == NULL) {
		snprintf(err, errlen, "cannot start the DNS resolver");
		goto fail;
	}
	return (c);
fail:
	etcd_client_free(c);
	return (NULL);
}

/* Every call and watch in flight dropped, without their callbacks. */
void
etcd_client_drop(struct etcd_client *c)
{
	struct etcd_call	*call;
	struct etcd_http	*h;

	etcd_watch_free_all(c);
	while ((call = TAILQ_FIRST(&c->calls)) != NULL)
		etcd_call_free(call);
	while ((h = TAILQ_FIRST(&c->https)) != NULL)
		etcd_http_free(h);
}

void
etcd_client_free(struct etcd_client *c)
{
	if (c == NULL)
		return;
	etcd_client_drop(c);
	if (c->dns != NULL)
		evdns_base_free(c->dns, 0);
	if (c->ssl_ctx != NULL)
		SSL_CTX_free(c->ssl_ctx);
	free(c->user);
	if (c->password != NULL) {
		explicit_bzero(c->password, strlen(c->password));
		free(c->password);
	}
	free(c->token);
	free(c);
}

const char *
etcd_client_endpoint(const struct etcd_client *c)
{
	return (c->ep[c->cur].url);
}

/* The TLS bufferevent of an https exchange: verifies name or address. */
static struct bufferevent *
etcd_http_tls(struct etcd_http *h, const struct etcd_endpoint *ep,
    struct etcd_error *err)
{
	X509_VERIFY_PARAM	*vp;
	char			 why[256];

	if ((h->ssl = SSL_new(h->c->ssl_ctx)) == NULL)
		goto fail;
	vp = SSL_get0_param(h->ssl);
	X509_VERIFY_PARAM_set_hostflags(vp,
	    X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
	if (etcd_host_is_ip(ep->host)) {
		if (X509_VERIFY_PARAM_set1_ip_asc(vp, ep->host) != 1)
			goto fail;
	} else if (X509_VERIFY_PARAM_set1_host(vp, ep->host, 0) != 1 ||
	    SSL_set_tlsext_host_name(h->ssl, ep->host) != 1)
		goto fail;
	h->bev = bufferevent_openssl_socket_new(h->c->base, -1, h->ssl,
	    BUFFEREVENT_SSL_CONNECTING, BEV_OPT_CLOSE_ON_FREE |
	    BEV_OPT_DEFER_CALLBACKS);
	if (h->bev == NULL)
		goto fail;
	/* Go's server may close without close_notify once it answered. */
	bufferevent_openssl_set_allow_dirty_shutdown(h->bev, 1);
	return (h->bev);
fail:
	etcd_ssl_errors(why, sizeof(why));
	etcd_seterr(err, ETCD_E_INVALID, "%s: TLS set-up: %s", ep->url, why);
	if (h->bev == NULL && h->ssl != NULL)
		SSL_free(h->ssl);
	h->ssl = NULL;
	return (NULL);
}

/*
 * Starts a POST of body to path on endpoint ep.  stream: the answer is
 * a stream of JSON objects (a watch): data runs as bytes come, the
 * deadline covers the connection and the headers only, and the
 * connection's timeout is the watch's idle time.  Otherwise the whole
 * exchange has the client's timeout and its answer's size limit.
 */
struct etcd_http *
etcd_http_start(struct etcd_client *c, size_t ep, const char *path,
    const char *body, int stream, etcd_http_data_cb *data,
    etcd_http_done_cb *fin, void *arg, struct etcd_error *err)
{
	const struct etcd_endpoint	*e = &c->ep[ep];
	struct etcd_http		*h;
	struct evkeyvalq		*hdr;
	struct timeval			 tv = { c->timeout, 0 };
	char				 host[ETCD_ENDPOINT_MAX + 8];

	h = xcalloc(1, sizeof(*h));
	h->c = c;
	h->ep = ep;
	h->stream = stream;
	h->data = data;
	h->fin = fin;
	h->arg = arg;
	h->max = stream ? c->watch_msg_max : c->response_max;
	snprintf(h->path, sizeof(h->path), "%s", path);
	TAILQ_INSERT_TAIL(&c->https, h, entry);
	if ((h->body = evbuffer_new()) == NULL ||
	    (h->ev = event_new(c->base, -1, 0, etcd_http_run, h)) == NULL ||
	    (h->deadline = evtimer_new(c->base, etcd_http_expire,
	    h)) == NULL) {
		etcd_seterr(err, ETCD_E_UNAVAILABLE, "%s: out of memory",
		    e->url);
		goto fail;
	}
	if (e->tls) {
		if (etcd_http_tls(h, e, err) == NULL)
			goto fail;
		h->evcon = evhttp_connection_base_bufferevent_new(c->base,
		    c->dns, h->bev, e->host, e->port);
		if (h->evcon == NULL)
			bufferevent_free(h->bev);
	} else
		h->evcon = evhttp_connection_base_new(c->base, c->dns,
		    e->host, e->port);
	if (h->evcon == NULL) {
		h->bev = NULL;
		h->ssl = NULL;
		etcd_seterr(err, ETCD_E_UNAVAILABLE, "%s: cannot make a "
		    "connection", e->url);
		goto fail;
	}
	if (stream) {
		tv.tv_sec = c->watch_idle;
		evhttp_connection_set_timeout_tv(h->evcon, &tv);
		tv.tv_sec = c->timeout;
	} else {
		evhttp_connection_set_timeout_tv(h->evcon, &tv);
		evhttp_connection_set_max_body_size(h->evcon, h->max);
	}
	evhttp_connection_set_max_headers_size(h->evcon, 64 * 1024);
	if ((h->req = evhttp_request_new(etcd_http_reqcb, h)) == NULL) {
		etcd_seterr(err, ETCD_E_UNAVAILABLE, "%s: out of memory",
		    e->url);
		goto fail;
	}
	evhttp_request_set_error_cb(h->req, etcd_http_errcb);
	evhttp_request_set_header_cb(h->req, etcd_http_headercb);
	if (stream)
		evhttp_request_set_chunked_cb(h->req, etcd_http_chunkcb);
	hdr = evhttp_request_get_output_headers(h->req);
	snprintf(host, sizeof(host), strchr(e->host, ':') != NULL ?
	    "[%s]:%u" : "%s:%u", e->host, e->port);
	evhttp_add_header(hdr, "Host", host);
	evhttp_add_header(hdr, "Content-Type", "application/json");
	evhttp_add_header(hdr, "Accept", "application/json");
	evhttp_add_header(hdr, "Connection", "close");
	if (c->token != NULL && strcmp(path, "/v3/auth/authenticate") != 0)
		evhttp_add_header(hdr, "Authorization", c->token);
	evbuffer_add(evhttp_request_get_output_buffer(h->req), body,
	    strlen(body));
	if (evhttp_make_request(h->evcon, h->req, EVHTTP_REQ_POST,
	    path) == -1) {
		/* libevent freed the request. */
		h->req = NULL;
		etcd_seterr(err, ETCD_E_UNAVAILABLE, "%s: %s: cannot send "
		    "the request", e->url, path);
		goto fail;
	}
	evtimer_add(h->deadline, &tv);
	event_base_gettimeofday_cached(c->base, &h->started);
	return (h);
fail:
	if (h->req != NULL) {
		evhttp_request_free(h->req);
		h->req = NULL;
	}
	etcd_http_free(h);
	return (NULL);
}

void
etcd_http_free(struct etcd_http *h)
{
	if (h == NULL)
		return;
	TAILQ_REMOVE(&h->c->https, h, entry);
	/* Frees a request in flight without its callbacks. */
	if (h->evcon != NULL)
		evhttp_connection_free(h->evcon);
	else if (h->bev != NULL)
		bufferevent_free(h->bev);
	if (h->ev != NULL)
		event_free(h->ev);
	if (h->deadline != NULL)
		event_free(h->deadline);
	if (h->body != NULL)
		evbuffer_free(h->body);
	free(h);
}

static void
etcd_http_note_tls(struct etcd_http *h)
{
	unsigned long	e;
	long		v;

	if (h->ssl == NULL || h->tlserr[0] != '\0')
		return;
	if ((v = SSL_get_verify_result(h->ssl)) != X509_V_OK)
		snprintf(h->tlserr, sizeof(h->tlserr), "TLS: server "
		    "certificate refused: %s",
		    X509_verify_cert_error_string(v));
	else if ((e = bufferevent_get_openssl_error(h->bev)) != 0) {
		snprintf(h->tlserr, sizeof(h->tlserr), "TLS: ");
		ERR_error_string_n(e, h->tlserr + 5, sizeof(h->tlserr) - 5);
	}
}

static int
etcd_http_headercb(struct evhttp_request *req, void *arg)
{
	struct etcd_http	*h = arg;

	h->headers = 1;
	h->status = evhttp_request_get_response_code(req);
	/* A stream's deadline ends with its headers. */
	if (h->stream)
		evtimer_del(h->deadline);
	return (0);
}

static void
etcd_http_chunkcb(struct evhttp_request *req, void *arg)
{
	struct etcd_http	*h = arg;

	evbuffer_add_buffer(h->body, evhttp_request_get_input_buffer(req));
	event_active(h->ev, 0, 0);
}

static void
etcd_http_errcb(enum evhttp_request_error e, void *arg)
{
	struct etcd_http	*h = arg;

	h->failed = (int)e + 1;
	h->errnum = errno;
	etcd_http_note_tls(h);
}

/* Both a success and a failure end here; libevent frees req after. */
static void
etcd_http_reqcb(struct evhttp_request *req, void *arg)
{
	struct etcd_http	*h = arg;

	h->req = NULL;
	h->done = 1;
	if (req != NULL) {
		if (!h->headers) {
			/* A connection that failed before any answer. */
			h->errnum = errno;
			etcd_http_note_tls(h);
		} else {
			h->status = evhttp_request_get_response_code(req);
			evbuffer_add_buffer(h->body,
			    evhttp_request_get_input_buffer(req));
		}
	}
	evtimer_del(h->deadline);
	event_active(h->ev, 0, 0);
}

static void
etcd_http_expire(evutil_socket_t fd, short what, void *arg)
{
	struct etcd_http	*h = arg;

	if (h->done)
		return;
	/* Drops the connection: the request never calls back. */
	if (h->evcon != NULL) {
		evhttp_connection_free(h->evcon);
		h->evcon = NULL;
		h->bev = NULL;
		h->ssl = NULL;
	}
	h->req = NULL;
	h->done = 1;
	h->timedout = 1;
	event_active(h->ev, 0, 0);
}

/* The owner's callbacks, outside libevent's HTTP code. */
static void
etcd_http_run(evutil_socket_t fd, short what, void *arg)
{
	struct etcd_http	*h = arg;

	if (h->data != NULL && evbuffer_get_length(h->body) > 0 &&
	    h->status == 200 && h->data(h, h->arg) == -1)
		return;
	if (h->done)
		h->fin(h, h->arg);
}

/*
 * Why a connection failed.  libevent keeps the connect error to itself
 * and closes the socket before it calls back (whose shutdown leaves
 * ENOTCONN): the time taken tells a timeout from a refusal.
 */
static const char *
etcd_http_cause(const struct etcd_http *h)
{
	static char	buf[64];
	struct timeval	now, d;

	if (h->errnum != 0 && h->errnum != ENOTCONN)
		return (strerror(h->errnum));
	event_base_gettimeofday_cached(h->c->base, &now);
	timersub(&now, &h->started, &d);
	if (d.tv_sec >= h->c->timeout) {
		snprintf(buf, sizeof(buf), "no connection within %d s",
		    h->c->timeout);
		return (buf);
	}
	return ("connection refused or reset");
}

int
etcd_http_unsent(const struct etcd_http *h)
{
	return (!h->headers && !h->failed && !h->timedout);
}

int
etcd_http_result(struct etcd_http *h, struct etcd_error *err)
{
	const struct etcd_endpoint	*e = &h->c->ep[h->ep];
	size_t				 len;

	if (h->timedout) {
		etcd_seterr(err, ETCD_E_UNAVAILABLE, "%s: %s: no answer "
		    "within %d s", e->url, h->path, h->c->timeout);
		return (-1);
	}
	if (!h->headers) {
		if (h->failed == EVREQ_HTTP_TIMEOUT + 1)
			etcd_seterr(err, ETCD_E_UNAVAILABLE, "%s: %s: timed "
			    "out", e->url, h->path);
		else
			etcd_seterr(err, ETCD_E_UNAVAILABLE, "%s: cannot "
			    "connect: %s", e->url, h->tlserr[0] != '\0' ?
			    h->tlserr : etcd_http_cause(h));
		return (-1);
	}
	if (h->failed) {
		if (h->failed == EVREQ_HTTP_DATA_TOO_LONG + 1)
			etcd_seterr(err, ETCD_E_PROTOCOL, "%s: %s: answer "
			    "longer than %zu bytes (or malformed)", e->url,
			    h->path, h->max);
		else
			etcd_seterr(err, ETCD_E_UNAVAILABLE, "%s: %s: %s",
			    e->url, h->path, h->tlserr[0] != '\0' ?
			    h->tlserr : h->failed == EVREQ_HTTP_TIMEOUT + 1 ?
			    "timed out" : "connection lost");
		return (-1);
	}
	if (h->status != 200) {
		len = evbuffer_get_length(h->body);
		etcd_error_from_json(err, e->url, h->path, h->status,
		    (const char *)evbuffer_pullup(h->body, -1), len);
		return (-1);
	}
	return (0);
}

void
etcd_http_stream_started(struct etcd_http *h)
{
	h->c->cur = h->ep;
}
