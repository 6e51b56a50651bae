/* SPDX-License-Identifier: ISC */
/*
 * metrics-http.c: GET /metrics, /healthz and /readyz on metrics_listen,
 * served by libevent's evhttp on a thread and event loop of its own, so
 * that a scrape never runs on a query worker and never waits for the
 * admin plane (the main loop).
 *
 * Bounded: GET and HEAD only, 8 KiB of headers, no body, 5 seconds of
 * inactivity, one request per connection (Connection: close), and at
 * most METRICS_HTTP_CONNS connections at once: the listener stops
 * accepting while that many are open.  evhttp 2.1 offers no connection
 * cap and no close hook for a connection that never sent a request, so
 * the thread holds a reference on each connection's bufferevent and a
 * sweep sees evhttp let go of it (its callbacks cleared by
 * bufferevent_free) before dropping the reference.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>

#include "common/log.h"
#include "daemon/daemon.h"
#include "fleet/fleet.h"
#include "daemon/metrics.h"
#include "engine/world.h"

#define METRICS_HTTP_CONNS	32
#define METRICS_HTTP_TIMEOUT	5
#define METRICS_HTTP_HEADERS	8192
#define METRICS_HTTP_BACKLOG	64

struct metrics_http {
	struct server		*srv;
	struct event_base	*base;
	struct evhttp		*http;
	struct evconnlistener	*lev;
	struct event		*sweep;
	pthread_t		 thread;
	int			 running;
	int			 paused;	/* listener disabled: full */
	char			 unlink_path[CONFIG_PATH_MAX];
	struct bufferevent	*conns[METRICS_HTTP_CONNS];
	unsigned		 nconns;
};

static struct metrics_http	 mh;
static atomic_int		 metrics_state_v;

static int	metrics_http_socket(const char *, const struct config *,
		    char *, size_t);
static void	*metrics_http_main(void *);
static struct bufferevent *metrics_http_bevcb(struct event_base *, void *);
static void	metrics_http_sweep(evutil_socket_t, short, void *);
static void	metrics_http_reply(struct evhttp_request *, int,
		    const char *, struct evbuffer *);
static void	metrics_http_metrics(struct evhttp_request *, void *);
static void	metrics_http_healthz(struct evhttp_request *, void *);
static void	metrics_http_readyz(struct evhttp_request *, void *);
static void	metrics_http_other(struct evhttp_request *, void *);

void
metrics_set_state(enum metrics_state s)
{
	atomic_store(&metrics_state_v, (int)s);
}

/* The listening socket for metrics_listen; its name in desc. */
static int
metrics_http_socket(const char *spec, const struct config *cfg, char *desc,
    size_t desclen)
{
	struct sockaddr_storage	 ss;
	struct sockaddr_in	*sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)&ss;
	socklen_t		 sl;
	char			 host[64], addr[INET6_ADDRSTRLEN];
	const char		*colon;
	int			 fd, on = 1;

	if (strncmp(spec, "unix:", 5) == 0) {
		if ((fd = server_bind_unix(spec + 5, 0660, cfg->socket_group,
		    METRICS_HTTP_BACKLOG)) == -1)
			return (-1);
		snprintf(mh.unlink_path, sizeof(mh.unlink_path), "%s",
		    spec + 5);
		snprintf(desc, desclen, "unix:%s", spec + 5);
		return (fd);
	}
	memset(&ss, 0, sizeof(ss));
	colon = strrchr(spec, ':');
	if (*spec == '[') {
		snprintf(host, sizeof(host), "%.*s", (int)(colon - spec - 2),
		    spec + 1);
		sin6->sin6_family = AF_INET6;
		inet_pton(AF_INET6, host, &sin6->sin6_addr);
		sin6->sin6_port = htons((uint16_t)atoi(colon + 1));
		sl = sizeof(*sin6);
	} else {
		snprintf(host, sizeof(host), "%.*s", (int)(colon - spec), spec);
		sin->sin_family = AF_INET;
		inet_pton(AF_INET, host, &sin->sin_addr);
		sin->sin_port = htons((uint16_t)atoi(colon + 1));
		sl = sizeof(*sin);
	}
	if ((fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0)) == -1) {
		log_warn("metrics_listen %s: socket", spec);
		return (-1);
	}
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	if (ss.ss_family == AF_INET6)
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on,
		    sizeof(on));
	if (bind(fd, (struct sockaddr *)&ss, sl) == -1 ||
	    listen(fd, METRICS_HTTP_BACKLOG) == -1) {
		log_warn("metrics_listen %s", spec);
		close(fd);
		return (-1);
	}
	/* Port 0: the kernel's choice, logged for whoever scrapes. */
	sl = sizeof(ss);
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) == -1) {
		log_warn("metrics_listen %s: getsockname", spec);
		close(fd);
		return (-1);
	}
	if (ss.ss_family == AF_INET6) {
		inet_ntop(AF_INET6, &sin6->sin6_addr, addr, sizeof(addr));
		snprintf(desc, desclen, "http://[%s]:%u", addr,
		    (unsigned)ntohs(sin6->sin6_port));
	} else {
		inet_ntop(AF_INET, &sin->sin_addr, addr, sizeof(addr));
		snprintf(desc, desclen, "http://%s:%u", addr,
		    (unsigned)ntohs(sin->sin_port));
	}
	return (fd);
}

/*
 * Bind metrics_listen and start the HTTP thread (before the workers:
 * metrics_timing is set here, read by them).  Nothing when
 * metrics_listen is empty.  0, or -1 (logged): the start stops.
 */
int
metrics_http_start(struct server *srv, const struct config *cfg)
{
	struct timeval	 tv = { 0, 100000 };
	sigset_t	 all, old;
	char		 desc[CONFIG_PATH_MAX + 16];
	int		 fd, r;

	metrics_timing = 0;
	if (cfg->metrics_listen[0] == '\0')
		return (0);
	memset(&mh, 0, sizeof(mh));
	mh.srv = srv;
	if ((fd = metrics_http_socket(cfg->metrics_listen, cfg, desc,
	    sizeof(desc))) == -1)
		return (-1);
	if ((mh.base = event_base_new()) == NULL ||
	    (mh.http = evhttp_new(mh.base)) == NULL ||
	    (mh.sweep = event_new(mh.base, -1, EV_PERSIST,
	    metrics_http_sweep, NULL)) == NULL ||
	    event_add(mh.sweep, &tv) == -1 ||
	    (mh.lev = evconnlistener_new(mh.base, NULL, NULL,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, -1, fd)) == NULL) {
		log_warnx("metrics_listen %s: cannot set up the HTTP server",
		    desc);
		close(fd);
		return (-1);
	}
	if (evhttp_bind_listener(mh.http, mh.lev) == NULL) {
		log_warnx("metrics_listen %s: evhttp_bind_listener failed",
		    desc);
		return (-1);
	}
	evhttp_set_allowed_methods(mh.http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD);
	evhttp_set_max_headers_size(mh.http, METRICS_HTTP_HEADERS);
	evhttp_set_max_body_size(mh.http, 0);
	evhttp_set_timeout(mh.http, METRICS_HTTP_TIMEOUT);
	evhttp_set_bevcb(mh.http, metrics_http_bevcb, NULL);
	evhttp_set_cb(mh.http, "/metrics", metrics_http_metrics, NULL);
	evhttp_set_cb(mh.http, "/healthz", metrics_http_healthz, NULL);
	evhttp_set_cb(mh.http, "/readyz", metrics_http_readyz, NULL);
	evhttp_set_gencb(mh.http, metrics_http_other, NULL);
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	r = pthread_create(&mh.thread, NULL, metrics_http_main, NULL);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r != 0) {
		errno = r;
		log_warn("metrics: pthread_create");
		return (-1);
	}
	mh.running = 1;
	metrics_timing = 1;
	log_info("metrics: listening on %s (/metrics, /healthz, /readyz)",
	    desc);
	return (0);
}

void
metrics_http_stop(void)
{
	unsigned	i;

	if (mh.running) {
		event_base_loopbreak(mh.base);
		pthread_join(mh.thread, NULL);
		mh.running = 0;
	}
	if (mh.http != NULL)
		evhttp_free(mh.http);	/* its connections, the listener */
	else if (mh.lev != NULL)
		evconnlistener_free(mh.lev);
	for (i = 0; i < mh.nconns; i++)
		bufferevent_decref(mh.conns[i]);
	if (mh.sweep != NULL)
		event_free(mh.sweep);
	if (mh.base != NULL)
		event_base_free(mh.base);
	if (mh.unlink_path[0] != '\0')
		unlink(mh.unlink_path);
	memset(&mh, 0, sizeof(mh));
}

static void *
metrics_http_main(void *arg)
{
	event_base_dispatch(mh.base);
	return (NULL);
}

/* A new connection: its bufferevent, referenced until evhttp drops it. */
static struct bufferevent *
metrics_http_bevcb(struct event_base *base, void *arg)
{
	struct bufferevent	*bev;

	if ((bev = bufferevent_socket_new(base, -1,
	    BEV_OPT_CLOSE_ON_FREE)) == NULL)
		return (NULL);
	if (mh.nconns < METRICS_HTTP_CONNS) {
		bufferevent_incref(bev);
		mh.conns[mh.nconns++] = bev;
	}
	if (mh.nconns >= METRICS_HTTP_CONNS && !mh.paused) {
		evconnlistener_disable(mh.lev);
		mh.paused = 1;
	}
	return (bev);
}

/* Connections evhttp has freed (callbacks cleared): let them go. */
static void
metrics_http_sweep(evutil_socket_t fd, short ev, void *arg)
{
	bufferevent_data_cb	 rcb, wcb;
	bufferevent_event_cb	 ecb;
	void			*cbarg;
	unsigned		 i = 0;

	while (i < mh.nconns) {
		bufferevent_getcb(mh.conns[i], &rcb, &wcb, &ecb, &cbarg);
		if (rcb != NULL || wcb != NULL || ecb != NULL ||
		    cbarg != NULL) {
			i++;
			continue;
		}
		bufferevent_disable(mh.conns[i], EV_READ | EV_WRITE);
		bufferevent_decref(mh.conns[i]);
		mh.conns[i] = mh.conns[--mh.nconns];
	}
	if (mh.paused && mh.nconns < METRICS_HTTP_CONNS) {
		evconnlistener_enable(mh.lev);
		mh.paused = 0;
	}
}

static void
metrics_http_reply(struct evhttp_request *req, int code, const char *ctype,
    struct evbuffer *body)
{
	struct evkeyvalq	*h = evhttp_request_get_output_headers(req);

	evhttp_add_header(h, "Content-Type", ctype);
	evhttp_add_header(h, "Cache-Control", "no-store");
	evhttp_add_header(h, "Connection", "close");
	evhttp_send_reply(req, code, code == 200 ? "OK" :
	    code == 503 ? "Service Unavailable" :
	    code == 404 ? "Not Found" : "Error", body);
}

static void
metrics_http_metrics(struct evhttp_request *req, void *arg)
{
	struct evbuffer	*b;

	if ((b = evbuffer_new()) == NULL) {
		evhttp_send_error(req, 500, "out of memory");
		return;
	}
	metrics_write(b, mh.srv);
	metrics_http_reply(req, 200, "text/plain; version=0.0.4; "
	    "charset=utf-8", b);
	evbuffer_free(b);
}

static void
metrics_http_healthz(struct evhttp_request *req, void *arg)
{
	struct evbuffer	*b;

	if ((b = evbuffer_new()) == NULL) {
		evhttp_send_error(req, 500, "out of memory");
		return;
	}
	evbuffer_add_printf(b, "ok\n");
	metrics_http_reply(req, 200, "text/plain; charset=utf-8", b);
	evbuffer_free(b);
}

/*
 * Ready: the start finished (store loaded and published, sockets
 * listening, seed committed) and the daemon is not draining.
 */
static void
metrics_http_readyz(struct evhttp_request *req, void *arg)
{
	struct evbuffer	*b;
	int		 code = 503;

	if ((b = evbuffer_new()) == NULL) {
		evhttp_send_error(req, 500, "out of memory");
		return;
	}
	switch (atomic_load(&metrics_state_v)) {
	case METRICS_READY:
		/* A fleet host without a whole state from etcd yet. */
		if (fleet_state(mh.srv->admin.fleet) == FLEET_SYNCING) {
			evbuffer_add_printf(b, "not ready: fleet syncing (no "
			    "whole state from etcd yet)\n");
			break;
		}
		code = 200;
		evbuffer_add_printf(b, "ready: serving generation %" PRIu64
		    "%s%s\n", world_holder_generation(mh.srv->holder),
		    mh.srv->admin.fleet != NULL ? ", fleet " : "",
		    mh.srv->admin.fleet != NULL ?
		    fleet_state_name(fleet_state(mh.srv->admin.fleet)) : "");
		break;
	case METRICS_DRAINING:
		evbuffer_add_printf(b, "not ready: draining (stopping)\n");
		break;
	default:
		evbuffer_add_printf(b, "not ready: starting (the store is "
		    "not loaded and served yet)\n");
		break;
	}
	metrics_http_reply(req, code, "text/plain; charset=utf-8", b);
	evbuffer_free(b);
}

static void
metrics_http_other(struct evhttp_request *req, void *arg)
{
	struct evbuffer	*b;

	if ((b = evbuffer_new()) == NULL) {
		evhttp_send_error(req, 500, "out of memory");
		return;
	}
	evbuffer_add_printf(b, "not found: try /metrics, /healthz or "
	    "/readyz\n");
	metrics_http_reply(req, 404, "text/plain; charset=utf-8", b);
	evbuffer_free(b);
}
