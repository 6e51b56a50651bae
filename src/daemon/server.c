/* SPDX-License-Identifier: ISC */
/*
 * server.c: the listening sockets and the acceptor (main thread).
 *
 * The acceptor takes peer credentials (SO_PEERCRED) at accept, enforces
 * the connection caps in total and per uid, backs off for a second on
 * EMFILE/ENFILE, and hands query connections to the workers round-robin,
 * admin connections to the admin worker (its own thread, where the admin
 * plane runs: server-admin.c).
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/listener.h>

#include "common/log.h"
#include "common/xmalloc.h"
#include "daemon/daemon.h"
#include "daemon/metrics.h"
#include "engine/world.h"
#include "proto/proto.h"

static int	server_bind(struct server_listener *, const char *, mode_t,
		    gid_t, unsigned);
static int	server_resolve_group(const char *, gid_t *);
static void	server_accept_cb(struct evconnlistener *, evutil_socket_t,
		    struct sockaddr *, int, void *);
static void	server_accept_error_cb(struct evconnlistener *, void *);
static void	server_backoff_cb(evutil_socket_t, short, void *);
static int	server_admit(struct server *, enum server_kind, uid_t, int,
		    int *);
static int	server_bind_stale(const char *);
static int	server_bind_private(const char *, char *, size_t, char *,
		    size_t);
static void	server_refuse(int, uint16_t, const char *);

int
server_init(struct server *srv, struct event_base *base,
    struct world_holder *holder, const struct config *cfg)
{
	memset(srv, 0, sizeof(*srv));
	srv->base = base;
	srv->holder = holder;
	srv->listeners[SERVER_QUERY].srv = srv;
	srv->listeners[SERVER_ADMIN].srv = srv;
	srv->listeners[SERVER_QUERY].kind = SERVER_QUERY;
	srv->listeners[SERVER_QUERY].fd = -1;
	srv->listeners[SERVER_ADMIN].kind = SERVER_ADMIN;
	srv->listeners[SERVER_ADMIN].fd = -1;
	srv->started = time(NULL);
	if (pthread_mutex_init(&srv->lock, NULL) != 0) {
		log_warnx("server: mutex init failed");
		return (-1);
	}
	/*
	 * The worker that serves admin connections and runs the admin
	 * plane, on a thread of its own (server_start_admin, once the
	 * start is done): an import never stalls an accept or a query.
	 */
	if (worker_init(&srv->admin_worker, srv, (unsigned)-1,
	    metrics_cell(METRICS_MAIN), NULL) == -1)
		return (-1);
	if ((srv->backoff_ev = evtimer_new(base, server_backoff_cb, srv)) ==
	    NULL) {
		log_warnx("server: evtimer_new failed");
		return (-1);
	}
	server_apply_limits(srv, cfg);
	return (0);
}

void
server_apply_limits(struct server *srv, const struct config *cfg)
{
	atomic_store(&srv->max_connections, cfg->max_connections);
	atomic_store(&srv->max_connections_per_uid,
	    cfg->max_connections_per_uid);
	atomic_store(&srv->max_admin_connections, cfg->max_admin_connections);
	atomic_store(&srv->max_admin_connections_per_uid,
	    cfg->max_admin_connections_per_uid);
	atomic_store(&srv->max_queued_replies, cfg->max_queued_replies);
	atomic_store(&srv->idle_timeout, cfg->idle_timeout);
	atomic_store(&srv->slow_client_timeout, cfg->slow_client_timeout);
	atomic_store(&srv->request_timeout, cfg->request_timeout);
	atomic_store(&srv->min_generation_wait_ms,
	    cfg->min_generation_wait_ms);
	atomic_store(&srv->max_parked_checks, cfg->max_parked_checks);
	atomic_store(&srv->max_parked_checks_per_connection,
	    cfg->max_parked_checks_per_connection);
}

static int
server_resolve_group(const char *name, gid_t *gid)
{
	struct group	*gr;
	char		*end;
	unsigned long	 n;

	if (*name >= '0' && *name <= '9') {
		errno = 0;
		n = strtoul(name, &end, 10);
		if (errno == 0 && *end == '\0' && n < (unsigned long)-1) {
			*gid = (gid_t)n;
			return (0);
		}
	}
	if ((gr = getgrnam(name)) == NULL)
		return (-1);
	*gid = gr->gr_gid;
	return (0);
}

/*
 * Bind a Unix socket at path with exactly mode and group, never through
 * a path another user could swap: the socket is bound in a private
 * directory made next to path (0700, ours alone), under a umask that
 * gives it mode from its first moment (tmux), its group is set there
 * (fchownat without following a symlink), and rename(2) moves it into
 * place, replacing the directory entry itself.  Nothing is chmod'ed or
 * chown'ed by path.  An existing path is removed only when it is a
 * socket nobody answers on (connect gives ECONNREFUSED).
 */
static int
server_bind(struct server_listener *l, const char *path, mode_t mode,
    gid_t gid, unsigned backlog)
{
	struct sockaddr_un	sun;
	char			priv[sizeof(sun.sun_path)];
	char			tmp[sizeof(sun.sun_path)];
	mode_t			mask;
	int			fd, r;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		log_warnx("%s: socket path too long (at most %zu bytes)",
		    path, sizeof(sun.sun_path) - 1);
		return (-1);
	}
	if (server_bind_stale(path) == -1)
		return (-1);
	if (server_bind_private(path, priv, sizeof(priv), tmp,
	    sizeof(tmp)) == -1)
		return (-1);
	memcpy(sun.sun_path, tmp, strlen(tmp));
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
	    0)) == -1) {
		log_warn("socket");
		rmdir(priv);
		return (-1);
	}
	mask = umask(0777 & ~mode);
	r = bind(fd, (struct sockaddr *)&sun, sizeof(sun));
	umask(mask);
	if (r == -1) {
		log_warn("%s: bind", tmp);
		goto fail;
	}
	if (gid != (gid_t)-1 && fchownat(AT_FDCWD, tmp, (uid_t)-1, gid,
	    AT_SYMLINK_NOFOLLOW) == -1) {
		log_warn("%s: chown to group %u", path, (unsigned)gid);
		goto fail;
	}
	if (listen(fd, (int)backlog) == -1) {
		log_warn("%s: listen", path);
		goto fail;
	}
	if (rename(tmp, path) == -1) {
		log_warn("%s: rename into place", path);
		goto fail;
	}
	rmdir(priv);
	l->fd = fd;
	l->bound = 1;
	snprintf(l->path, sizeof(l->path), "%s", path);
	return (0);
fail:
	close(fd);
	unlink(tmp);
	rmdir(priv);
	return (-1);
}

/*
 * What is at path already: nothing, or a socket nobody answers on
 * (removed); anything else refuses the start.
 */
static int
server_bind_stale(const char *path)
{
	struct sockaddr_un	sun;
	struct stat		st;
	int			probe, r;

	if (lstat(path, &st) == -1) {
		if (errno == ENOENT)
			return (0);
		log_warn("%s", path);
		return (-1);
	}
	if (!S_ISSOCK(st.st_mode)) {
		log_warnx("%s: exists and is not a socket", path);
		return (-1);
	}
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, path, strlen(path));
	if ((probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1) {
		log_warn("socket");
		return (-1);
	}
	r = connect(probe, (struct sockaddr *)&sun, sizeof(sun));
	close(probe);
	if (r == 0) {
		log_warnx("%s: in use by another process", path);
		return (-1);
	}
	if (errno != ECONNREFUSED) {
		log_warn("%s: probing", path);
		return (-1);
	}
	log_info("%s: removing stale socket", path);
	if (unlink(path) == -1 && errno != ENOENT) {
		log_warn("%s: unlink", path);
		return (-1);
	}
	return (0);
}

/*
 * A private directory beside path (DIR/.kmsauthzd.XXXXXX, 0700) and the
 * name to bind in it; both must fit a socket address.
 */
static int
server_bind_private(const char *path, char *priv, size_t privlen,
    char *tmp, size_t tmplen)
{
	const char	*slash;
	int		 n;

	slash = strrchr(path, '/');
	n = snprintf(priv, privlen, "%.*s/.kmsauthzd.XXXXXX",
	    slash == NULL ? 1 : (int)(slash - path),
	    slash == NULL ? "." : path);
	if (n < 0 || (size_t)n >= privlen || (size_t)n + 3 > tmplen) {
		log_warnx("%s: socket path too long for a private bind "
		    "directory beside it (at most %zu bytes in all)", path,
		    tmplen - 1);
		return (-1);
	}
	if (mkdtemp(priv) == NULL) {
		log_warn("%s: cannot make a private directory beside it",
		    path);
		return (-1);
	}
	memcpy(tmp, priv, (size_t)n);
	memcpy(tmp + n, "/s", 3);
	return (0);
}

/*
 * Listen on both sockets: take each from socket activation when systemd
 * passed one named "query" or "admin" (an unnamed single descriptor is
 * the query socket), bind the rest ourselves.
 */
int
server_listen(struct server *srv, const struct config *cfg,
    const struct listenfd *lfds, size_t nlfds)
{
	struct server_listener	*l;
	gid_t			 gid = (gid_t)-1, agid = (gid_t)-1;
	size_t			 i;
	int			 kind, flags;

	for (i = 0; i < nlfds; i++) {
		if (strcmp(lfds[i].name, "query") == 0 ||
		    (lfds[i].name[0] == '\0' && nlfds == 1))
			kind = SERVER_QUERY;
		else if (strcmp(lfds[i].name, "admin") == 0)
			kind = SERVER_ADMIN;
		else {
			log_warnx("socket activation: unknown descriptor name "
			    "'%s' (expected query or admin)", lfds[i].name);
			return (-1);
		}
		l = &srv->listeners[kind];
		if (l->fd != -1) {
			log_warnx("socket activation: two '%s' descriptors",
			    lfds[i].name);
			return (-1);
		}
		l->fd = lfds[i].fd;
		l->bound = 0;
		snprintf(l->path, sizeof(l->path), "(fd %d)", l->fd);
		if ((flags = fcntl(l->fd, F_GETFL)) == -1 ||
		    fcntl(l->fd, F_SETFL, flags | O_NONBLOCK) == -1) {
			log_warn("socket activation: fd %d", l->fd);
			return (-1);
		}
		log_info("%s socket from socket activation (fd %d)",
		    kind == SERVER_QUERY ? "query" : "admin", l->fd);
	}
	/* Activation's sockets are systemd's: their group is its to set. */
	if (srv->listeners[SERVER_QUERY].fd != -1 &&
	    cfg->socket_group[0] != '\0')
		log_warnx("socket_group = %s does nothing: the query socket "
		    "comes from socket activation; set SocketGroup= and "
		    "SocketMode= in kmsauthzd.socket instead (a drop-in, "
		    "docs/daemon.md)", cfg->socket_group);
	if (srv->listeners[SERVER_ADMIN].fd != -1 &&
	    cfg->admin_group[0] != '\0')
		log_warnx("admin_group = %s does nothing: the admin socket "
		    "comes from socket activation; set SocketGroup= and "
		    "SocketMode=0660 in kmsauthzd-admin.socket instead (a "
		    "drop-in, docs/daemon.md)", cfg->admin_group);
	if (cfg->socket_group[0] != '\0' &&
	    server_resolve_group(cfg->socket_group, &gid) == -1) {
		log_warnx("socket_group: no such group '%s'",
		    cfg->socket_group);
		return (-1);
	}
	l = &srv->listeners[SERVER_QUERY];
	if (l->fd == -1 &&
	    server_bind(l, cfg->query_socket, 0660, gid, cfg->backlog) == -1)
		return (-1);
	/* The admin socket: the daemon's user only, or 0660 to admin_group. */
	if (cfg->admin_group[0] != '\0' &&
	    server_resolve_group(cfg->admin_group, &agid) == -1) {
		log_warnx("admin_group: no such group '%s'", cfg->admin_group);
		return (-1);
	}
	l = &srv->listeners[SERVER_ADMIN];
	if (l->fd == -1 &&
	    server_bind(l, cfg->admin_socket, agid != (gid_t)-1 ? 0660 : 0600,
	    agid, cfg->backlog) == -1)
		return (-1);
	for (kind = 0; kind < 2; kind++) {
		l = &srv->listeners[kind];
		l->lev = evconnlistener_new(srv->base, server_accept_cb, l,
		    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, -1, l->fd);
		if (l->lev == NULL) {
			log_warnx("%s: evconnlistener_new failed", l->path);
			return (-1);
		}
		evconnlistener_set_error_cb(l->lev, server_accept_error_cb);
		if (l->bound)
			log_info("listening on %s (%s)", l->path,
			    kind == SERVER_QUERY ? "query, 0660" :
			    agid != (gid_t)-1 ? "admin, 0660" : "admin, 0600");
	}
	return (0);
}

/*
 * A Unix socket for another listener (metrics_listen), bound the way
 * server_bind binds the query socket; group "" is the primary group.
 * The listening descriptor, or -1 (logged).
 */
int
server_bind_unix(const char *path, mode_t mode, const char *group,
    unsigned backlog)
{
	struct server_listener	l;
	gid_t			gid = (gid_t)-1;

	if (group[0] != '\0' && server_resolve_group(group, &gid) == -1) {
		log_warnx("no such group '%s'", group);
		return (-1);
	}
	memset(&l, 0, sizeof(l));
	l.fd = -1;
	if (server_bind(&l, path, mode, gid, backlog) == -1)
		return (-1);
	return (l.fd);
}

int
server_start_workers(struct server *srv, unsigned n)
{
	unsigned	i;

	srv->workers = xcalloc(n, sizeof(*srv->workers));
	for (i = 0; i < n; i++) {
		if (worker_start(&srv->workers[i], srv, i) == -1)
			return (-1);
		srv->nworkers++;
	}
	return (0);
}

/* uid's count in t, added at 0 when add is set; NULL otherwise. */
static struct server_uidcount *
server_uidcount(struct server_uidcounts *t, uid_t uid, int add)
{
	size_t	i;

	for (i = 0; i < t->n; i++)
		if (t->v[i].uid == uid)
			return (&t->v[i]);
	if (!add)
		return (NULL);
	if (t->n == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 16;
		t->v = xreallocarray(t->v, t->cap, sizeof(*t->v));
	}
	t->v[t->n].uid = uid;
	t->v[t->n].count = 0;
	return (&t->v[t->n++]);
}

static void
server_uidcount_drop(struct server_uidcounts *t, uid_t uid)
{
	struct server_uidcount	*u;

	if ((u = server_uidcount(t, uid, 0)) != NULL && --u->count == 0)
		*u = t->v[--t->n];
}

/*
 * The admin slots a peer that is not a superuser may take: a quarter of
 * max_admin_connections (at least one when there are two or more) is
 * kept for superusers, so that no member of admin_group, however many
 * uids it has, can lock root out.
 */
static unsigned
server_admin_open_slots(unsigned max)
{
	unsigned	reserve = max / 4;

	if (reserve == 0 && max >= 2)
		reserve = 1;
	return (max - reserve);
}

/*
 * Counts one more connection for uid, or says which cap refuses it (0
 * total, 1 per uid, 2 admin, 3 admin per uid).  The admin socket has
 * its own caps and counts against no query cap, so query clients can
 * never lock it out; superuser peers have room kept for them there.
 */
static int
server_admit(struct server *srv, enum server_kind kind, uid_t uid,
    int superuser, int *which)
{
	struct server_uidcounts	*t;
	struct server_uidcount	*u;
	unsigned		 cap, percap;
	int			 ok = 0;

	pthread_mutex_lock(&srv->lock);
	if (kind == SERVER_ADMIN) {
		t = &srv->admin_uids;
		cap = atomic_load(&srv->max_admin_connections);
		percap = atomic_load(&srv->max_admin_connections_per_uid);
		if (!superuser)
			cap = server_admin_open_slots(cap);
	} else {
		t = &srv->uids;
		cap = atomic_load(&srv->max_connections);
		percap = atomic_load(&srv->max_connections_per_uid);
	}
	u = server_uidcount(t, uid, 0);
	if ((kind == SERVER_ADMIN ? srv->nadmin : srv->nconns) >= cap)
		*which = kind == SERVER_ADMIN ? 2 : 0;
	else if (u != NULL && u->count >= percap && !superuser)
		*which = kind == SERVER_ADMIN ? 3 : 1;
	else {
		server_uidcount(t, uid, 1)->count++;
		if (kind == SERVER_ADMIN)
			srv->nadmin++;
		else
			srv->nconns++;
		ok = 1;
	}
	pthread_mutex_unlock(&srv->lock);
	return (ok ? 0 : -1);
}

/* A connection is gone: called from whichever thread served it. */
void
server_release(struct server *srv, enum server_kind kind, uid_t uid)
{
	pthread_mutex_lock(&srv->lock);
	if (kind == SERVER_ADMIN) {
		server_uidcount_drop(&srv->admin_uids, uid);
		if (srv->nadmin > 0)
			srv->nadmin--;
	} else {
		server_uidcount_drop(&srv->uids, uid);
		if (srv->nconns > 0)
			srv->nconns--;
	}
	pthread_mutex_unlock(&srv->lock);
	atomic_fetch_add(&srv->stats.closed, 1);
}

unsigned
server_nconns(struct server *srv)
{
	unsigned	n;

	pthread_mutex_lock(&srv->lock);
	n = srv->nconns + srv->nadmin;
	pthread_mutex_unlock(&srv->lock);
	return (n);
}

/*
 * Publish w (a reference the holder takes) even when its generation is
 * the one served: a world re-read from the store (SIGHUP).  Queries see
 * the old world until the swap; the epoch makes the workers drop their
 * cached one at their next check.
 */
void
server_republish(struct server *srv, struct world *w)
{
	world_holder_publish(srv->holder, w);
	atomic_fetch_add_explicit(&srv->world_epoch, 1, memory_order_release);
	metrics_published();
	park_notify(srv);
}

/* A world of a new generation: checks parked for it are answered. */
void
server_publish(struct server *srv, struct world *w)
{
	world_holder_publish(srv->holder, w);
	metrics_published();
	park_notify(srv);
}

/* The workers' decision counters, added up (each read atomically). */
void
server_decisions(struct server *srv, struct server_decisions *d)
{
	const struct worker	*w;
	unsigned		 i;

	memset(d, 0, sizeof(*d));
	for (i = 0; i <= srv->nworkers; i++) {
		w = i < srv->nworkers ? &srv->workers[i] : &srv->admin_worker;
		d->checks += atomic_load_explicit(&w->checks,
		    memory_order_relaxed);
		d->allows += atomic_load_explicit(&w->allows,
		    memory_order_relaxed);
		d->denies += atomic_load_explicit(&w->denies,
		    memory_order_relaxed);
		d->check_errors += atomic_load_explicit(&w->check_errors,
		    memory_order_relaxed);
	}
}

/*
 * Tell a refused client why before closing: the socket buffer of a new
 * connection is empty, so a non-blocking send of one small frame goes
 * through; if it does not, the close alone says enough.
 */
static void
server_refuse(int fd, uint16_t code, const char *msg)
{
	uint8_t	buf[KMSAUTHZ_HDR_SIZE + 8 + KMSAUTHZ_MAX_ERROR_MESSAGE];
	size_t	len;

	if (server_encode_error(buf, sizeof(buf), 0, code, msg, &len) == 0)
		(void)send(fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL);
	close(fd);
}

static void
server_accept_cb(struct evconnlistener *lev, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	struct server_listener	*l = arg;
	struct server		*srv;
	struct worker		*w;
	struct ucred		 cred;
	socklen_t		 len = sizeof(cred);
	int			 which, su;

	srv = l->srv;
	if (srv->draining) {
		server_refuse(fd, KMSAUTHZ_WERR_SHUTDOWN, "daemon stopping");
		return;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == -1 ||
	    len != sizeof(cred)) {
		log_warn("accept: SO_PEERCRED");
		close(fd);
		return;
	}
	su = l->kind == SERVER_ADMIN &&
	    server_admin_superuser(srv, cred.uid, cred.gid);
	if (server_admit(srv, l->kind, cred.uid, su, &which) == -1) {
		if (which == 2) {
			atomic_fetch_add(&srv->stats.rejected_admin, 1);
			log_info("refusing uid %u pid %d: "
			    "max_admin_connections", (unsigned)cred.uid,
			    (int)cred.pid);
			server_refuse(fd, KMSAUTHZ_WERR_BUSY,
			    "too many admin connections");
		} else if (which == 3) {
			atomic_fetch_add(&srv->stats.rejected_admin_per_uid,
			    1);
			log_info("refusing uid %u pid %d: "
			    "max_admin_connections_per_uid",
			    (unsigned)cred.uid, (int)cred.pid);
			server_refuse(fd, KMSAUTHZ_WERR_BUSY,
			    "too many admin connections for this uid");
		} else if (which == 0) {
			atomic_fetch_add(&srv->stats.rejected_total, 1);
			log_debug("refusing uid %u pid %d: max_connections",
			    (unsigned)cred.uid, (int)cred.pid);
			server_refuse(fd, KMSAUTHZ_WERR_BUSY,
			    "too many connections");
		} else {
			atomic_fetch_add(&srv->stats.rejected_per_uid, 1);
			log_debug("refusing uid %u pid %d: "
			    "max_connections_per_uid", (unsigned)cred.uid,
			    (int)cred.pid);
			server_refuse(fd, KMSAUTHZ_WERR_BUSY,
			    "too many connections for this uid");
		}
		return;
	}
	atomic_fetch_add(&srv->stats.accepted, 1);
	evutil_make_socket_nonblocking(fd);
	if (l->kind == SERVER_ADMIN)
		w = &srv->admin_worker;
	else {
		w = &srv->workers[srv->next_worker];
		srv->next_worker = (srv->next_worker + 1) % srv->nworkers;
	}
	if (worker_handoff(w, l->kind, fd, cred.uid, cred.gid,
	    cred.pid) == -1) {
		close(fd);
		server_release(srv, l->kind, cred.uid);
	}
}

/* EMFILE/ENFILE: stop accepting for a second instead of spinning. */
static void
server_accept_error_cb(struct evconnlistener *lev, void *arg)
{
	struct server_listener	*l = arg;
	struct server		*srv;
	struct timeval		 tv = { 1, 0 };
	int			 err = EVUTIL_SOCKET_ERROR();

	srv = l->srv;
	if (err == EMFILE || err == ENFILE || err == ENOBUFS ||
	    err == ENOMEM) {
		atomic_fetch_add(&srv->stats.accept_backoffs, 1);
		log_warnx("accept: %s; pausing accepts for 1 second",
		    strerror(err));
		evconnlistener_disable(srv->listeners[0].lev);
		evconnlistener_disable(srv->listeners[1].lev);
		evtimer_add(srv->backoff_ev, &tv);
		return;
	}
	if (err != EINTR && err != EAGAIN && err != ECONNABORTED)
		log_warnx("accept: %s", strerror(err));
}

static void
server_backoff_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct server	*srv = arg;

	if (srv->draining)
		return;
	evconnlistener_enable(srv->listeners[0].lev);
	evconnlistener_enable(srv->listeners[1].lev);
}

/*
 * Stop accepting, remove the sockets we bound, and ask every worker to
 * drain: answers already queued are flushed, then connections close.
 */
void
server_shutdown(struct server *srv)
{
	int		 kind;
	unsigned	 i;

	srv->draining = 1;
	evtimer_del(srv->backoff_ev);
	for (kind = 0; kind < 2; kind++) {
		struct server_listener *l = &srv->listeners[kind];

		if (l->lev != NULL) {
			evconnlistener_free(l->lev);
			l->lev = NULL;
		} else if (l->fd != -1)
			close(l->fd);
		l->fd = -1;
		if (l->bound && unlink(l->path) == -1 && errno != ENOENT)
			log_warn("%s: unlink", l->path);
		l->bound = 0;
	}
	worker_stop(&srv->admin_worker);
	for (i = 0; i < srv->nworkers; i++)
		worker_stop(&srv->workers[i]);
}

/* The admin thread: the last step of the start (after the seed). */
int
server_start_admin(struct server *srv)
{
	return (worker_run(&srv->admin_worker));
}

/* Wait for the admin thread (drained by server_shutdown) to end. */
void
server_join_admin(struct server *srv)
{
	worker_join(&srv->admin_worker);
}

void
server_free(struct server *srv)
{
	unsigned	 i;

	for (i = 0; i < srv->nworkers; i++)
		worker_free(&srv->workers[i]);
	free(srv->workers);
	srv->workers = NULL;
	worker_free(&srv->admin_worker);
	if (srv->backoff_ev != NULL)
		event_free(srv->backoff_ev);
	free(srv->uids.v);
	free(srv->admin_uids.v);
	pthread_mutex_destroy(&srv->lock);
}
