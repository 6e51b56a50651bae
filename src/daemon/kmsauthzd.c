/* SPDX-License-Identifier: ISC */
/*
 * kmsauthzd.c: the daemon's main: options, configuration, the world,
 * the sockets, signals and the systemd notify protocol.
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/thread.h>

#include "admin/admin-exec.h"
#include "common/log.h"
#include "common/xmalloc.h"
#include "daemon/daemon.h"
#include "daemon/declog.h"
#include "daemon/metrics.h"
#include "engine/world.h"
#include "policy/bundle.h"
#include "policy/policy.h"

#define KMSAUTHZD_MAX_OVERRIDES	64

static struct config	 daemon_cfg;
static const char	*daemon_conf_path;
static int		 daemon_conf_named;	/* -c: it must exist */
static const char	*daemon_overrides[KMSAUTHZD_MAX_OVERRIDES];
static size_t		 daemon_noverrides;
static int		 daemon_verbose_flags;
static struct server	 daemon_srv;
static struct event_base *daemon_base;
static struct world_holder *daemon_holder;
static int		 daemon_ready_fd = -1;

static __attribute__((__noreturn__)) void usage(void);
static int	daemon_read_config(struct config *);
static int	daemon_check_seed(const struct config *);
static int	daemon_check_admin_config(const struct config *);
static unsigned	daemon_nthreads(const struct config *);
static void	daemon_status(const char *);
static void	daemon_signal_cb(evutil_socket_t, short, void *);
static void	daemon_watchdog_cb(evutil_socket_t, short, void *);
static void	daemon_reload(void);
static void	daemon_reload_done(void);
static void	daemon_detach(void);
static void	daemon_quiet(void);
static void	daemon_options(int, char *[], int *, int *);
static void	daemon_check_only(void) __attribute__((__noreturn__));
static void	daemon_events(struct event **);

static const char daemon_usage[] =
    "usage: kmsauthzd [-fhnv] [-a admin_socket] [-c config] "
    "[-d state_directory]\n"
    "                 [-o key=value] [-s query_socket] [-t threads]\n"
    "       kmsauthzd --help | --version\n";

static __attribute__((__noreturn__)) void
usage(void)
{
	fputs(daemon_usage, stderr);
	exit(2);
}

/* -h, --help: the usage and what each option does, on stdout. */
static __attribute__((__noreturn__)) void
daemon_help(void)
{
	fputs(daemon_usage, stdout);
	printf("\n"
	    "  -a PATH   admin socket (admin_socket)\n"
	    "  -c FILE   configuration file (default %s;\n"
	    "            a missing default file means the built-in "
	    "defaults)\n"
	    "  -d DIR    state directory: the LMDB store "
	    "(state_directory)\n"
	    "  -f        stay in the foreground, log to stderr\n"
	    "  -h        this help\n"
	    "  -n        check the configuration and exit\n"
	    "  -o K=V    set configuration key K (repeatable)\n"
	    "  -s PATH   query socket (query_socket)\n"
	    "  -t N      worker threads (threads)\n"
	    "  -v        more verbose (repeatable)\n"
	    "\nSee kmsauthzd(8) and kmsauthzd.conf(5).\n",
	    KMSAUTHZ_SYSCONFDIR "/kmsauthzd.conf");
	exit(0);
}

const struct config *
daemon_config(void)
{
	return (&daemon_cfg);
}

/* Defaults, then the file, then the command line, in that order. */
static int
daemon_read_config(struct config *cfg)
{
	char	err[1024];
	size_t	i;

	config_defaults(cfg);
	/* No file at the default path: the defaults, said once. */
	if (!daemon_conf_named && access(daemon_conf_path, F_OK) == -1 &&
	    errno == ENOENT) {
		log_info("%s: not found; using the built-in defaults",
		    daemon_conf_path);
		snprintf(cfg->source, sizeof(cfg->source), "%s",
		    "the built-in defaults");
	} else if (config_load(cfg, daemon_conf_path, err, sizeof(err)) == -1)
		goto fail;
	for (i = 0; i < daemon_noverrides; i++)
		if (config_override(cfg, daemon_overrides[i], err,
		    sizeof(err)) == -1)
			goto fail;
	if (config_check(cfg, "configuration", err, sizeof(err)) == -1)
		goto fail;
	if (daemon_verbose_flags > cfg->log_verbose)
		cfg->log_verbose = daemon_verbose_flags > 2 ? 2 :
		    daemon_verbose_flags;
	return (0);
fail:
	log_warnx("%s", err);
	return (-1);
}

char *
daemon_read_file(const char *path, size_t max, size_t *lenp)
{
	struct stat	 st;
	char		*buf;
	size_t		 off = 0;
	ssize_t		 n;
	int		 fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		log_warn("%s", path);
		return (NULL);
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    (uint64_t)st.st_size > max) {
		log_warnx("%s: not a regular file of at most %zu bytes",
		    path, max);
		close(fd);
		return (NULL);
	}
	buf = xmalloc((size_t)st.st_size + 1);
	while (off < (size_t)st.st_size) {
		n = read(fd, buf + off, (size_t)st.st_size - off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			log_warn("%s: read", path);
			free(buf);
			close(fd);
			return (NULL);
		}
		off += (size_t)n;
	}
	close(fd);
	buf[off] = '\0';
	*lenp = off;
	return (buf);
}

/*
 * -n: parse, validate and compile the seed bundle in memory (nothing is
 * written).  The daemon itself reads the seed only when its store is
 * empty (admin.c, admin_seed()).
 */
static int
daemon_check_seed(const struct config *cfg)
{
	struct policy_diags	 diags;
	struct bundle		*b = NULL;
	struct world		*w;
	char			*text;
	size_t			 len, i;

	if ((text = daemon_read_file(cfg->seed_bundle, BUNDLE_MAX_BYTES,
	    &len)) == NULL)
		return (-1);
	policy_diags_init(&diags);
	if (bundle_parse(text, len, 0, &b, &diags) == -1) {
		for (i = 0; i < diags.n; i++)
			log_warnx("%s: %s: %s", cfg->seed_bundle,
			    diags.v[i].path, diags.v[i].reason);
		if (diags.n == 0)
			log_warnx("%s: invalid bundle", cfg->seed_bundle);
		policy_diags_free(&diags);
		free(text);
		return (-1);
	}
	free(text);
	w = bundle_to_world(b, 1, &diags);
	if (w == NULL) {
		for (i = 0; i < diags.n; i++)
			log_warnx("%s: %s: %s", cfg->seed_bundle,
			    diags.v[i].path, diags.v[i].reason);
		log_warnx("%s: cannot compile the bundle", cfg->seed_bundle);
	} else
		world_unref(w);
	policy_diags_free(&diags);
	bundle_free(b);
	return (w == NULL ? -1 : 0);
}

/* -n: the admin configuration the daemon would read. */
static int
daemon_check_admin_config(const struct config *cfg)
{
	struct admin_conf	 ac;
	const char		*path;
	char			 err[1024];
	int			 optional;

	admin_conf_defaults(&ac);
	path = server_admin_config_path(cfg, &optional);
	if (admin_conf_load(&ac, path, optional, err, sizeof(err)) != 0) {
		log_warnx("admin: %s", err);
		return (-1);
	}
	return (0);
}

static unsigned
daemon_nthreads(const struct config *cfg)
{
	long	n;

	if (cfg->threads != 0)
		return (cfg->threads);
	n = sysconf(_SC_NPROCESSORS_ONLN);
	if (n < 1)
		n = 1;
	if (n > CONFIG_THREADS_MAX)
		n = CONFIG_THREADS_MAX;
	return ((unsigned)n);
}

static void
daemon_status(const char *what)
{
	struct world_counts	wc;
	struct world		*w;
	uint64_t		gen = 0;

	memset(&wc, 0, sizeof(wc));
	if ((w = world_holder_acquire(daemon_holder)) != NULL) {
		gen = world_generation(w);
		world_counts(w, &wc);
		world_unref(w);
	}
	notify_sendf("STATUS=%s: generation %" PRIu64 ", %zu keys, "
	    "%zu policies, %zu users, %zu roles, %u threads%s", what, gen,
	    wc.keys, wc.policies, wc.users, wc.roles, daemon_srv.nworkers,
	    server_admin_readonly(&daemon_srv) ? ", store read-only" :
	    server_admin_audit_unavailable(&daemon_srv) ? ", audit file "
	    "unavailable: changes refused" : "");
}

/*
 * SIGHUP: re-read the configuration (limits and verbosity apply at once;
 * socket paths, threads and the state directory need a restart) and the
 * world, without dropping a connection.  A bad configuration or bundle
 * keeps the running one.
 */
static void
daemon_reload(void)
{
	struct config	 ncfg;

	notify_sendf("RELOADING=1\nMONOTONIC_USEC=%" PRIu64,
	    notify_monotonic_usec());
	log_info("reloading (SIGHUP)");
	if (daemon_read_config(&ncfg) == -1) {
		log_warnx("reload: configuration rejected, keeping the "
		    "running one");
		metrics_reload_failed();
	} else {
		if (strcmp(ncfg.query_socket, daemon_cfg.query_socket) != 0 ||
		    strcmp(ncfg.admin_socket, daemon_cfg.admin_socket) != 0 ||
		    strcmp(ncfg.socket_group, daemon_cfg.socket_group) != 0 ||
		    strcmp(ncfg.state_directory,
		    daemon_cfg.state_directory) != 0 ||
		    strcmp(ncfg.admin_group, daemon_cfg.admin_group) != 0 ||
		    strcmp(ncfg.admin_config, daemon_cfg.admin_config) != 0 ||
		    strcmp(ncfg.seed_bundle, daemon_cfg.seed_bundle) != 0 ||
		    ncfg.threads != daemon_cfg.threads ||
		    ncfg.backlog != daemon_cfg.backlog ||
		    ncfg.map_size_max != daemon_cfg.map_size_max)
			log_warnx("reload: socket, group, admin_config, "
			    "seed_bundle, threads, backlog, map_size_max and "
			    "state_directory changes take effect at the next "
			    "restart");
		if (strcmp(ncfg.metrics_listen, daemon_cfg.metrics_listen) !=
		    0 || strcmp(ncfg.decision_log, daemon_cfg.decision_log) !=
		    0 || ncfg.decision_log_ring != daemon_cfg.decision_log_ring)
			log_warnx("reload: metrics_listen, decision_log and "
			    "decision_log_ring changes take effect at the next "
			    "restart");
		if (memcmp(&ncfg.fleet, &daemon_cfg.fleet,
		    sizeof(ncfg.fleet)) != 0)
			log_warnx("reload: etcd_* and fleet_* changes take "
			    "effect at the next restart");
		ncfg.fleet = daemon_cfg.fleet;
		memcpy(ncfg.metrics_listen, daemon_cfg.metrics_listen,
		    sizeof(ncfg.metrics_listen));
		memcpy(ncfg.decision_log, daemon_cfg.decision_log,
		    sizeof(ncfg.decision_log));
		ncfg.decision_log_ring = daemon_cfg.decision_log_ring;
		/* Keep what needs a restart; take everything else. */
		memcpy(ncfg.query_socket, daemon_cfg.query_socket,
		    sizeof(ncfg.query_socket));
		memcpy(ncfg.admin_socket, daemon_cfg.admin_socket,
		    sizeof(ncfg.admin_socket));
		memcpy(ncfg.socket_group, daemon_cfg.socket_group,
		    sizeof(ncfg.socket_group));
		memcpy(ncfg.state_directory, daemon_cfg.state_directory,
		    sizeof(ncfg.state_directory));
		memcpy(ncfg.admin_group, daemon_cfg.admin_group,
		    sizeof(ncfg.admin_group));
		memcpy(ncfg.admin_config, daemon_cfg.admin_config,
		    sizeof(ncfg.admin_config));
		memcpy(ncfg.seed_bundle, daemon_cfg.seed_bundle,
		    sizeof(ncfg.seed_bundle));
		ncfg.map_size_max = daemon_cfg.map_size_max;
		ncfg.threads = daemon_cfg.threads;
		ncfg.backlog = daemon_cfg.backlog;
		daemon_cfg = ncfg;
		server_apply_limits(&daemon_srv, &daemon_cfg);
		log_setverbose(daemon_cfg.log_verbose);
	}
	atomic_fetch_add(&daemon_srv.stats.reloads, 1);
	/* The decision log is reopened (rotation), its knobs retaken. */
	declog_reload(&daemon_cfg);
	/*
	 * The store, re-read into a new world published whole (the seed is
	 * not read again); a read-only store is reopened writable if its
	 * directory is.  Connections stay open throughout.
	 */
	server_admin_reload(&daemon_srv);
}

/* The admin thread re-read the store: the reload is done. */
static void
daemon_reload_done(void)
{
	log_info("reload done, generation %" PRIu64,
	    world_holder_generation(daemon_holder));
	notify_send("READY=1");
	daemon_status("reloaded");
}

static void
daemon_signal_cb(evutil_socket_t sig, short ev, void *arg)
{
	switch (sig) {
	case SIGHUP:
		daemon_reload();
		break;
	case SIGTERM:
	case SIGINT:
		if (daemon_srv.draining)
			break;
		log_info("%s: draining and exiting",
		    sig == SIGTERM ? "SIGTERM" : "SIGINT");
		notify_send("STOPPING=1");
		metrics_set_state(METRICS_DRAINING);
		/* Every worker drains (the admin one too) on its thread. */
		server_shutdown(&daemon_srv);
		event_base_loopexit(daemon_base, NULL);
		break;
	default:
		break;
	}
}

static void
daemon_watchdog_cb(evutil_socket_t fd, short ev, void *arg)
{
	notify_send("WATCHDOG=1");
}

/*
 * Without -f: fork, and let the parent exit only when the child is
 * ready (status 0) or has failed (status 1), so that the caller's
 * shell sees the outcome.  Must run before any thread exists.
 */
static void
daemon_detach(void)
{
	int	p[2], fd;
	pid_t	pid;
	char	c;

	if (pipe2(p, O_CLOEXEC) == -1)
		fatal("pipe");
	if ((pid = fork()) == -1)
		fatal("fork");
	if (pid != 0) {
		close(p[1]);
		while (read(p[0], &c, 1) == -1 && errno == EINTR)
			;
		_exit(c == 'R' ? 0 : 1);
	}
	close(p[0]);
	if (setsid() == -1)
		fatal("setsid");
	if ((fd = open("/dev/null", O_RDWR)) != -1) {
		dup2(fd, STDIN_FILENO);
		dup2(fd, STDOUT_FILENO);
		if (fd > STDERR_FILENO)
			close(fd);
	}
	daemon_ready_fd = p[1];
}

/*
 * Detached and ready: the start-up errors went to the caller's terminal
 * (it waited for them); from now on the log goes to syslog and nothing
 * is written to a terminal that may be long gone.
 */
static void
daemon_quiet(void)
{
	int	fd;

	log_syslog();
	if ((fd = open("/dev/null", O_WRONLY | O_CLOEXEC)) != -1) {
		dup2(fd, STDERR_FILENO);
		close(fd);
	}
}

/* The command line: -c, the overrides in order, the flags. */
static void
daemon_options(int argc, char *argv[], int *foregroundp, int *checkonlyp)
{
	static const struct option longopts[] = {
		{ "help",	no_argument,	NULL,	'h' },
		{ "version",	no_argument,	NULL,	'V' },
		{ NULL,		0,		NULL,	0 }
	};
	char	*kv;
	int	 ch;

	daemon_conf_path = KMSAUTHZ_SYSCONFDIR "/kmsauthzd.conf";
	while ((ch = getopt_long(argc, argv, "a:c:d:fhno:s:t:v", longopts,
	    NULL)) != -1) {
		if (daemon_noverrides == KMSAUTHZD_MAX_OVERRIDES &&
		    strchr("adost", ch) != NULL) {
			fprintf(stderr, "kmsauthzd: too many overrides\n");
			exit(2);
		}
		switch (ch) {
		case 'a':
			xasprintf(&kv, "admin_socket=%s", optarg);
			daemon_overrides[daemon_noverrides++] = kv;
			break;
		case 'c':
			daemon_conf_path = optarg;
			daemon_conf_named = 1;
			break;
		case 'd':
			xasprintf(&kv, "state_directory=%s", optarg);
			daemon_overrides[daemon_noverrides++] = kv;
			break;
		case 'f':
			*foregroundp = 1;
			break;
		case 'n':
			*checkonlyp = 1;
			break;
		case 'o':
			daemon_overrides[daemon_noverrides++] =
			    xstrdup(optarg);
			break;
		case 's':
			xasprintf(&kv, "query_socket=%s", optarg);
			daemon_overrides[daemon_noverrides++] = kv;
			break;
		case 't':
			xasprintf(&kv, "threads=%s", optarg);
			daemon_overrides[daemon_noverrides++] = kv;
			break;
		case 'v':
			daemon_verbose_flags++;
			break;
		case 'h':
			daemon_help();
		case 'V':
			printf("kmsauthzd %s\n", PACKAGE_VERSION);
			exit(0);
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
}

/* -n: the configuration, the admin configuration and the seed, checked
 * and not used. */
static __attribute__((__noreturn__)) void
daemon_check_only(void)
{
	if (daemon_cfg.seed_bundle[0] != '\0' &&
	    daemon_check_seed(&daemon_cfg) == -1)
		exit(1);
	if (daemon_check_admin_config(&daemon_cfg) == -1)
		exit(1);
	if (daemon_verbose_flags > 0)
		config_print(&daemon_cfg);
	printf("configuration OK\n");
	exit(0);
}

/* SIGTERM, SIGINT, SIGHUP and the systemd watchdog, on the main loop. */
static void
daemon_events(struct event **ev)
{
	struct timeval	tv;
	uint64_t	wd;

	ev[0] = evsignal_new(daemon_base, SIGTERM, daemon_signal_cb, NULL);
	ev[1] = evsignal_new(daemon_base, SIGINT, daemon_signal_cb, NULL);
	ev[2] = evsignal_new(daemon_base, SIGHUP, daemon_signal_cb, NULL);
	if (ev[0] == NULL || ev[1] == NULL || ev[2] == NULL ||
	    evsignal_add(ev[0], NULL) == -1 ||
	    evsignal_add(ev[1], NULL) == -1 ||
	    evsignal_add(ev[2], NULL) == -1)
		fatalx("cannot set up signal events");
	if ((wd = notify_watchdog_usec()) != 0) {
		ev[3] = event_new(daemon_base, -1, EV_PERSIST,
		    daemon_watchdog_cb, NULL);
		tv.tv_sec = (time_t)(wd / 2 / 1000000);
		tv.tv_usec = (suseconds_t)(wd / 2 % 1000000);
		if (ev[3] == NULL || event_add(ev[3], &tv) == -1)
			fatalx("cannot set up the watchdog timer");
		log_info("watchdog every %" PRIu64 " usec", wd / 2);
	}
}

int
main(int argc, char *argv[])
{
	struct listenfd	 lfds[LISTENFD_MAX];
	struct event	*ev[4] = { NULL, NULL, NULL, NULL };
	char		 err[512];
	size_t		 nlfds;
	int		 foreground = 0, checkonly = 0, i;
	unsigned	 nthreads;

	log_init("kmsauthzd", 0, 1);
	daemon_options(argc, argv, &foreground, &checkonly);
	log_setverbose(daemon_verbose_flags);
	if (daemon_read_config(&daemon_cfg) == -1)
		exit(1);
	log_setverbose(daemon_cfg.log_verbose);

	if (checkonly)
		daemon_check_only();
	if (!foreground)
		daemon_detach();

	signal(SIGPIPE, SIG_IGN);
	/* A file-size limit makes a store write fail (EFBIG), not kill. */
	signal(SIGXFSZ, SIG_IGN);
	if (evthread_use_pthreads() == -1)
		fatalx("evthread_use_pthreads failed");
	if ((daemon_base = event_base_new()) == NULL)
		fatalx("event_base_new failed");

	/*
	 * An empty world until the admin plane publishes the store's; the
	 * seed is read only to fill an empty store.
	 */
	if ((daemon_holder = world_holder_new(NULL)) == NULL)
		fatalx("world_holder_new failed");

	if (server_init(&daemon_srv, daemon_base, daemon_holder,
	    &daemon_cfg) == -1)
		exit(1);
	/*
	 * The store in state_directory (seeded when empty) is the state from
	 * here on; a store that cannot be opened stops the start (never a
	 * silent re-initialisation).  Opened before the sockets exist, so
	 * a fresh directory is created as a store, not refused for them.
	 */
	if (server_admin_start(&daemon_srv, &daemon_cfg) != 0) {
		log_warnx("cannot start with the store in %s (see above); "
		    "not starting", daemon_cfg.state_directory);
		exit(1);
	}
	if (listenfd_collect(lfds, LISTENFD_MAX, &nlfds, err,
	    sizeof(err)) == -1)
		fatalx("socket activation: %s", err);
	if (server_listen(&daemon_srv, &daemon_cfg, lfds, nlfds) == -1) {
		server_shutdown(&daemon_srv);
		exit(1);
	}
	nthreads = daemon_nthreads(&daemon_cfg);
	/* Both before the workers, which take their ring and cell. */
	if (declog_start(&daemon_cfg, nthreads) == -1 ||
	    metrics_http_start(&daemon_srv, &daemon_cfg) == -1) {
		server_shutdown(&daemon_srv);
		exit(1);
	}
	if (server_start_workers(&daemon_srv, nthreads) == -1) {
		server_shutdown(&daemon_srv);
		exit(1);
	}

	daemon_events(ev);
	/* The seed commits last: a start refused before commits nothing. */
	server_admin_on_reload(&daemon_srv, daemon_reload_done);
	if (server_admin_seed(&daemon_srv) != 0 ||
	    server_start_admin(&daemon_srv) != 0) {
		server_shutdown(&daemon_srv);
		exit(1);
	}

	log_info("ready: generation %" PRIu64 ", %u worker threads, "
	    "max_connections %u (%u per uid)",
	    world_holder_generation(daemon_holder), nthreads,
	    daemon_cfg.max_connections, daemon_cfg.max_connections_per_uid);
	notify_send("READY=1");
	metrics_set_state(METRICS_READY);
	daemon_status("serving");
	if (daemon_ready_fd != -1) {
		if (write(daemon_ready_fd, "R", 1) != 1)
			log_warn("readiness pipe");
		close(daemon_ready_fd);
		daemon_quiet();
	}

	event_base_dispatch(daemon_base);

	metrics_http_stop();
	server_join_admin(&daemon_srv);
	server_admin_stop(&daemon_srv);
	server_free(&daemon_srv);
	declog_stop();
	for (i = 0; i < 4; i++)
		if (ev[i] != NULL)
			event_free(ev[i]);
	event_base_free(daemon_base);
	world_holder_free(daemon_holder);
	while (daemon_noverrides > 0)
		free((char *)daemon_overrides[--daemon_noverrides]);
	log_info("exiting");
	return (0);
}
