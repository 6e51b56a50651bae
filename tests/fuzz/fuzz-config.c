/* SPDX-License-Identifier: ISC */
/*
 * fuzz-config.c: the two configuration parsers on arbitrary bytes: byte
 * 0 even, the rest is kmsauthzd.conf (config_load, then the same bytes
 * as one -o override); odd, admin.conf (admin_conf_load).  The bytes
 * reach the parsers as a file (a memfd named by /proc/self/fd/N), the
 * way the daemon reads them.  Invariants:
 *   - a refused file has an error that names the file (and a line when
 *     one is at fault), on one line;
 *   - an accepted one has every value inside its documented range and
 *     passes the cross-key checks;
 *   - nothing leaks, nothing is read past a buffer (ASan).
 */
#include <sys/mman.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "admin/admin-exec.h"
#include "daemon/daemon.h"
#include "fuzz.h"

#define FUZZ_CONFIG_MAX	(64 * 1024)

static int	fuzz_fd = -1;
static char	fuzz_path[64];

static void	fuzz_err_ok(const char *, int);
static void	fuzz_daemon_conf(const uint8_t *, size_t);
static void	fuzz_admin_conf(void);

/* A file's error names it and stays on one line (an override's error
 * quotes the command line as given). */
static void
fuzz_err_ok(const char *err, int named)
{
	if (err[0] == '\0' || (named && (strchr(err, '\n') != NULL ||
	    strncmp(err, fuzz_path, strlen(fuzz_path)) != 0)))
		abort();
}

static void
fuzz_daemon_conf(const uint8_t *data, size_t size)
{
	static struct config	cfg;
	char			err[1024], kv[CONFIG_LINE_MAX + 1];

	config_defaults(&cfg);
	err[0] = '\0';
	if (config_load(&cfg, fuzz_path, err, sizeof(err)) != 0)
		fuzz_err_ok(err, 1);
	else if (cfg.threads > CONFIG_THREADS_MAX ||
	    cfg.max_connections < 1 || cfg.max_connections > CONFIG_CONN_MAX ||
	    cfg.max_connections_per_uid > cfg.max_connections ||
	    cfg.max_queued_replies < 1 ||
	    cfg.max_queued_replies > CONFIG_QUEUE_MAX ||
	    cfg.idle_timeout > CONFIG_TIMEOUT_MAX ||
	    cfg.slow_client_timeout < 1 ||
	    cfg.slow_client_timeout > CONFIG_TIMEOUT_MAX ||
	    cfg.request_timeout < 1 ||
	    cfg.request_timeout > CONFIG_TIMEOUT_MAX ||
	    cfg.backlog < 1 || cfg.backlog > 65535 ||
	    cfg.map_size_max < ((uint64_t)1 << 20) ||
	    cfg.map_size_max > ((uint64_t)1 << 40) ||
	    cfg.log_verbose < 0 || cfg.log_verbose > 2 ||
	    cfg.query_socket[0] == '\0' || cfg.admin_socket[0] == '\0' ||
	    cfg.state_directory[0] == '\0' ||
	    strcmp(cfg.query_socket, cfg.admin_socket) == 0 ||
	    config_check(&cfg, "x", err, sizeof(err)) != 0)
		abort();

	/* The same bytes as "-o key=value" (a C string: up to a NUL). */
	if (size < sizeof(kv)) {
		memcpy(kv, data, size);
		kv[size] = '\0';
		config_defaults(&cfg);
		err[0] = '\0';
		if (config_override(&cfg, kv, err, sizeof(err)) != 0)
			fuzz_err_ok(err, 0);
	}
}

static void
fuzz_admin_conf(void)
{
	static struct admin_conf	ac;
	char				err[1024];
	size_t				i;

	admin_conf_defaults(&ac);
	err[0] = '\0';
	if (admin_conf_load(&ac, fuzz_path, 0, err, sizeof(err)) != 0) {
		fuzz_err_ok(err, 1);
		return;
	}
	if (ac.npeers > ADMIN_CONF_PEERS_MAX ||
	    ac.nkeys > ADMIN_CONF_KEYS_MAX ||
	    ac.replay_cache < 8 || ac.day_seconds < 1 ||
	    ac.day_seconds > 86400 ||
	    (ac.audit_file[0] != '\0' && ac.audit_file[0] != '/') ||
	    ac.region[0] == '\0' || ac.account[0] == '\0')
		abort();
	for (i = 0; i < ac.nkeys; i++)
		if (strlen(ac.key_pk[i]) != ADMIN_PK_B64_LEN)
			abort();
	for (i = 0; i < ac.npeers; i++)
		if (ac.peers[i].id < 0 || ac.peers[i].principal[0] == '\0')
			abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size > FUZZ_CONFIG_MAX)
		return (0);
	if (fuzz_fd == -1) {
		if ((fuzz_fd = memfd_create("fuzz.conf", 0)) == -1)
			abort();
		snprintf(fuzz_path, sizeof(fuzz_path), "/proc/self/fd/%d",
		    fuzz_fd);
	}
	if (ftruncate(fuzz_fd, 0) != 0 ||
	    pwrite(fuzz_fd, data + 1, size - 1, 0) != (ssize_t)(size - 1))
		abort();
	if (data[0] & 1)
		fuzz_admin_conf();
	else
		fuzz_daemon_conf(data + 1, size - 1);
	return (0);
}
