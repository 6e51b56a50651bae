/* SPDX-License-Identifier: ISC */
/*
 * worker.c: worker threads, each with its own event loop.
 *
 * The acceptor writes one fixed-size handoff record per accepted
 * connection into the worker's pipe (query connections to the query
 * workers in turn, admin connections to the admin worker, whose thread
 * also runs the admin plane: server-admin.c) (records are far below PIPE_BUF, so
 * each write is atomic).  A worker serves its connections alone, with no
 * lock on the query path: it keeps a reference on the world it last saw
 * and re-acquires only when world_holder_generation() (one atomic load)
 * says a newer one was published, so a change never stalls queries.
 */
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "common/log.h"
#include "common/xmalloc.h"
#include "daemon/daemon.h"
#include "daemon/declog.h"
#include "daemon/metrics.h"
#include "engine/eval.h"
#include "engine/world.h"
#include "kmsauthz-proto.h"

/* Drained connections that still have output get this long. */
#define WORKER_GRACE_SEC	5

struct worker_handoff {
	int	fd;		/* -1: drain and stop */
	int	kind;		/* enum server_kind */
	uid_t	uid;
	gid_t	gid;
	pid_t	pid;
};

static void	*worker_main(void *);
static void	 worker_pipe_cb(evutil_socket_t, short, void *);
static void	 worker_grace_cb(evutil_socket_t, short, void *);
static void	 worker_begin_drain(struct worker *);

/* Everything but the thread: its loop can be given events first. */
int
worker_init(struct worker *w, struct server *srv, unsigned id,
    struct metrics_cell *mc, struct declog_ring *dl)
{
	memset(w, 0, sizeof(*w));
	w->srv = srv;
	w->id = id;
	w->mc = mc;
	w->dl = dl;
	TAILQ_INIT(&w->conns);
	w->pipe[0] = w->pipe[1] = -1;
	if (pipe2(w->pipe, O_CLOEXEC) == -1) {
		log_warn("worker %u: pipe", id);
		return (-1);
	}
	w->scratch = xcalloc(KMSAUTHZ_MAX_BATCH, sizeof(*w->scratch));
	if ((w->base = event_base_new()) == NULL) {
		log_warnx("worker %u: event_base_new failed", id);
		return (-1);
	}
	evutil_make_socket_nonblocking(w->pipe[0]);
	w->pipe_ev = event_new(w->base, w->pipe[0], EV_READ | EV_PERSIST,
	    worker_pipe_cb, w);
	w->grace_ev = evtimer_new(w->base, worker_grace_cb, w);
	if (w->pipe_ev == NULL || w->grace_ev == NULL ||
	    park_init(w) == -1 || event_add(w->pipe_ev, NULL) == -1) {
		log_warnx("worker %u: event setup failed", id);
		return (-1);
	}
	return (0);
}

/* The thread, running the loop worker_init() made. */
int
worker_run(struct worker *w)
{
	sigset_t	all, old;
	int		r;

	/* Signals are the main thread's business. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	r = pthread_create(&w->thread, NULL, worker_main, w);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r != 0) {
		errno = r;
		log_warn("worker %u: pthread_create", w->id);
		return (-1);
	}
	w->started = 1;
	return (0);
}

int
worker_start(struct worker *w, struct server *srv, unsigned id)
{
	if (worker_init(w, srv, id, metrics_cell(id), declog_ring(id)) == -1)
		return (-1);
	return (worker_run(w));
}

static void *
worker_main(void *arg)
{
	struct worker	*w = arg;

	log_debug("worker %u: running", w->id);
	event_base_dispatch(w->base);
	log_debug("worker %u: stopped", w->id);
	return (NULL);
}

/* Called on the main thread.  Blocks only if the pipe is full. */
int
worker_handoff(struct worker *w, int kind, int fd, uid_t uid, gid_t gid,
    pid_t pid)
{
	struct worker_handoff	h;
	ssize_t			n;

	memset(&h, 0, sizeof(h));
	h.kind = kind;
	h.fd = fd;
	h.uid = uid;
	h.gid = gid;
	h.pid = pid;
	do {
		n = write(w->pipe[1], &h, sizeof(h));
	} while (n == -1 && errno == EINTR);
	if (n != (ssize_t)sizeof(h)) {
		log_warn("worker %u: handoff", w->id);
		return (-1);
	}
	return (0);
}

static void
worker_pipe_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct worker		*w = arg;
	struct worker_handoff	 h;
	ssize_t			 n;
	int			 i;

	/* A bounded batch per wakeup keeps the loop fair. */
	for (i = 0; i < 64; i++) {
		n = read(fd, &h, sizeof(h));
		if (n == -1 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n != (ssize_t)sizeof(h)) {
			if (n != 0)
				log_warn("worker %u: handoff read", w->id);
			event_del(w->pipe_ev);
			return;
		}
		if (h.fd == -1) {
			worker_begin_drain(w);
			return;
		}
		if (w->draining ||
		    conn_new(w, (enum server_kind)h.kind, h.fd, h.uid, h.gid,
		    h.pid) == NULL) {
			close(h.fd);
			server_release(w->srv, (enum server_kind)h.kind,
			    h.uid);
		}
	}
}

static void
worker_begin_drain(struct worker *w)
{
	struct conn	*c, *next;
	struct timeval	 tv = { WORKER_GRACE_SEC, 0 };

	w->draining = 1;
	event_del(w->pipe_ev);
	for (c = TAILQ_FIRST(&w->conns); c != NULL; c = next) {
		next = TAILQ_NEXT(c, entry);
		conn_drain(c);
	}
	if (w->nconns == 0)
		event_base_loopbreak(w->base);
	else
		evtimer_add(w->grace_ev, &tv);
}

static void
worker_grace_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct worker	*w = arg;

	log_info("worker %u: %u connections still busy after %d seconds, "
	    "closing them", w->id, w->nconns, WORKER_GRACE_SEC);
	event_base_loopbreak(w->base);
}

/* A connection of this worker was freed. */
void
worker_conn_gone(struct worker *w)
{
	if (!w->draining || w->nconns != 0)
		return;
	event_base_loopbreak(w->base);
}

/* Main thread: ask a worker to drain and stop. */
void
worker_stop(struct worker *w)
{
	if (w->started)
		(void)worker_handoff(w, SERVER_QUERY, -1, 0, 0, 0);
}

/* The thread is gone once this returns (its loop ended). */
void
worker_join(struct worker *w)
{
	if (w->started) {
		pthread_join(w->thread, NULL);
		w->started = 0;
	}
}

/* A joined (or never started) worker's connections and loop. */
void
worker_free(struct worker *w)
{
	struct conn	*c;

	worker_join(w);
	while ((c = TAILQ_FIRST(&w->conns)) != NULL)
		conn_free(c);
	park_free(w);
	if (w->pipe_ev != NULL)
		event_free(w->pipe_ev);
	if (w->grace_ev != NULL)
		event_free(w->grace_ev);
	if (w->base != NULL)
		event_base_free(w->base);
	if (w->pipe[0] != -1)
		close(w->pipe[0]);
	if (w->pipe[1] != -1)
		close(w->pipe[1]);
	if (w->world != NULL)
		world_unref(w->world);
	w->world = NULL;
	free(w->scratch);
	w->scratch = NULL;
	free(w->why);
	w->why = NULL;
	w->pipe_ev = w->grace_ev = NULL;
	w->base = NULL;
	w->pipe[0] = w->pipe[1] = -1;
}

/*
 * The world to answer from: the cached one unless the holder's
 * generation moved, or a re-read world of the same generation replaced
 * it (SIGHUP: the epoch).  Never NULL once the holder exists.
 */
const struct world *
worker_world(struct worker *w)
{
	uint64_t	gen, epoch;

	gen = world_holder_generation(w->srv->holder);
	epoch = atomic_load_explicit(&w->srv->world_epoch,
	    memory_order_acquire);
	if (w->world == NULL || gen != w->generation || epoch != w->epoch) {
		if (w->world != NULL)
			world_unref(w->world);
		w->world = world_holder_acquire(w->srv->holder);
		w->generation = w->world != NULL ?
		    world_generation(w->world) : 0;
		w->epoch = epoch;
	}
	return (w->world);
}
