/* SPDX-License-Identifier: ISC */
/*
 * config.c: the "key = value" configuration file and -o overrides.
 *
 * Every key is documented in etc/kmsauthzd.conf and kmsauthzd.conf(5).
 * An unknown key, a bad value, a repeated key or an over-long line is an
 * error naming file:line; nothing is guessed.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <grp.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "daemon/daemon.h"
#include "daemon/declog.h"
#include "fleet/etcd.h"
#include "fleet/fleet.h"

enum config_type {
	CONFIG_PATH,		/* absolute or relative path, non-empty */
	CONFIG_OPTPATH,		/* path or empty */
	CONFIG_OPTFILE,		/* a readable regular file's path, or empty */
	CONFIG_GROUP,		/* group name or number, or empty */
	CONFIG_UINT,		/* decimal in [min, max] */
	CONFIG_SIZE,		/* decimal with K/M/G/T suffix */
	CONFIG_LISTEN,		/* metrics_listen: address:port, unix:PATH */
	CONFIG_FRACTION,	/* decimal in 0..1 (a double) */
	CONFIG_CHOICE,		/* one of the words in choices */
	CONFIG_STRING,		/* any text (its checks: config_check) */
};

struct config_key {
	const char	*name;
	enum config_type type;
	size_t		 offset;
	size_t		 size;		/* for strings */
	uint64_t	 min;
	uint64_t	 max;
	const char	*choices;	/* CONFIG_CHOICE: "a|b" */
};

#define CK_STR(n, t, f) { #f, t, offsetof(struct config, f),		\
	sizeof(((struct config *)0)->f), 0, 0, NULL }
#define CK_FLEET(t, f) { #f, t, offsetof(struct config, fleet.f),	\
	sizeof(((struct config *)0)->fleet.f), 0, 0, NULL }
#define CK_UINT(f, lo, hi) { #f, CONFIG_UINT,				\
	offsetof(struct config, f), sizeof(unsigned), lo, hi, NULL }

static const struct config_key config_keys[] = {
	CK_STR(0, CONFIG_PATH, query_socket),
	CK_STR(0, CONFIG_PATH, admin_socket),
	CK_STR(0, CONFIG_GROUP, socket_group),
	CK_STR(0, CONFIG_GROUP, admin_group),
	CK_STR(0, CONFIG_OPTFILE, admin_config),
	CK_STR(0, CONFIG_PATH, state_directory),
	CK_STR(0, CONFIG_OPTPATH, seed_bundle),
	CK_UINT(threads, 0, CONFIG_THREADS_MAX),
	CK_UINT(max_connections, 1, CONFIG_CONN_MAX),
	CK_UINT(max_connections_per_uid, 1, CONFIG_CONN_MAX),
	CK_UINT(max_admin_connections, 1, CONFIG_ADMIN_CONN_MAX),
	CK_UINT(max_admin_connections_per_uid, 1, CONFIG_ADMIN_CONN_MAX),
	CK_UINT(max_queued_replies, 1, CONFIG_QUEUE_MAX),
	CK_UINT(idle_timeout, 0, CONFIG_TIMEOUT_MAX),
	CK_UINT(slow_client_timeout, 1, CONFIG_TIMEOUT_MAX),
	CK_UINT(request_timeout, 1, CONFIG_TIMEOUT_MAX),
	CK_UINT(min_generation_wait_ms, 0, CONFIG_MINGEN_WAIT_MAX),
	CK_UINT(max_parked_checks, 1, CONFIG_PARKED_MAX),
	CK_UINT(max_parked_checks_per_connection, 1, CONFIG_PARKED_CONN_MAX),
	CK_UINT(backlog, 1, 65535),
	{ "map_size_max", CONFIG_SIZE, offsetof(struct config, map_size_max),
	    sizeof(uint64_t), (uint64_t)1 << 20, (uint64_t)1 << 40, NULL },
	{ "log_verbose", CONFIG_UINT, offsetof(struct config, log_verbose),
	    sizeof(int), 0, 2, NULL },
	CK_STR(0, CONFIG_LISTEN, metrics_listen),
	CK_STR(0, CONFIG_OPTPATH, decision_log),
	{ "decision_log_sample", CONFIG_FRACTION,
	    offsetof(struct config, decision_log_sample), sizeof(double), 0,
	    1, NULL },
	{ "decision_log_denies", CONFIG_CHOICE,
	    offsetof(struct config, decision_log_denies),
	    sizeof(((struct config *)0)->decision_log_denies), 0, 0,
	    "sampled|all" },
	{ "decision_log_context", CONFIG_CHOICE,
	    offsetof(struct config, decision_log_context),
	    sizeof(((struct config *)0)->decision_log_context), 0, 0,
	    "keys|values" },
	{ "decision_log_ring", CONFIG_SIZE,
	    offsetof(struct config, decision_log_ring), sizeof(uint64_t),
	    DECLOG_RING_MIN, DECLOG_RING_MAX, NULL },
	CK_FLEET(CONFIG_STRING, etcd_endpoints),
	CK_FLEET(CONFIG_STRING, etcd_prefix),
	CK_FLEET(CONFIG_OPTFILE, etcd_cacert),
	CK_FLEET(CONFIG_OPTFILE, etcd_cert),
	CK_FLEET(CONFIG_OPTFILE, etcd_key),
	CK_FLEET(CONFIG_STRING, etcd_user),
	CK_FLEET(CONFIG_OPTFILE, etcd_password_file),
	{ "etcd_timeout", CONFIG_UINT, offsetof(struct config,
	    fleet.etcd_timeout), sizeof(unsigned), 1, 3600, NULL },
	{ "fleet_max_staleness", CONFIG_UINT, offsetof(struct config,
	    fleet.fleet_max_staleness), sizeof(unsigned), 1, 86400, NULL },
	{ "etcd_stage_ttl", CONFIG_UINT, offsetof(struct config,
	    fleet.etcd_stage_ttl), sizeof(unsigned), 2, 3600, NULL },
	{ "etcd_reclaim_interval", CONFIG_UINT, offsetof(struct config,
	    fleet.etcd_reclaim_interval), sizeof(unsigned), 1, 86400, NULL },
};
#define CONFIG_NKEYS (sizeof(config_keys) / sizeof(config_keys[0]))
_Static_assert(CONFIG_NKEYS <= CONFIG_KEYS_MAX, "CONFIG_KEYS_MAX");

static const struct config_key *config_find(const char *);
static int	config_choice_ok(const char *, const char *);
static int	config_error(char *, size_t, const char *, const char *, ...)
		    __attribute__((__format__(printf, 4, 5)));
static int	config_parse_u64(const char *, uint64_t *);
static int	config_parse_size(const char *, uint64_t *);
static int	config_parse_listen(const char *, char *, size_t);
static int	config_parse_fraction(const char *, double *);
static unsigned long config_line(const struct config *, const char *);
static void	config_origin(const struct config *, const char *, char *,
		    size_t);
static int	config_pair_error(const struct config *, const char *,
		    const char *, const char *, char *, size_t, const char *);

void
config_defaults(struct config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	/* systemd's RuntimeDirectory and StateDirectory (configure.ac). */
	snprintf(cfg->query_socket, sizeof(cfg->query_socket),
	    "%s/query.sock", KMSAUTHZ_RUNDIR);
	snprintf(cfg->admin_socket, sizeof(cfg->admin_socket),
	    "%s/admin.sock", KMSAUTHZ_RUNDIR);
	snprintf(cfg->state_directory, sizeof(cfg->state_directory),
	    "%s", KMSAUTHZ_STATEDIR);
	cfg->threads = 0;
	cfg->max_connections = 4096;
	cfg->max_connections_per_uid = 1024;
	cfg->max_admin_connections = 16;
	cfg->max_admin_connections_per_uid = 4;
	cfg->max_queued_replies = 256;
	cfg->idle_timeout = 300;
	cfg->slow_client_timeout = 10;
	cfg->request_timeout = 10;
	cfg->min_generation_wait_ms = 2000;
	cfg->max_parked_checks = 1024;
	cfg->max_parked_checks_per_connection = 16;
	cfg->backlog = 128;
	cfg->map_size_max = (uint64_t)1 << 30;
	cfg->log_verbose = 0;
	cfg->decision_log_sample = 1.0;
	snprintf(cfg->decision_log_denies, sizeof(cfg->decision_log_denies),
	    "sampled");
	snprintf(cfg->decision_log_context,
	    sizeof(cfg->decision_log_context), "keys");
	cfg->decision_log_ring = DECLOG_RING_DEFAULT;
	snprintf(cfg->fleet.etcd_prefix, sizeof(cfg->fleet.etcd_prefix), "%s",
	    FLEET_PREFIX_DEFAULT);
	cfg->fleet.etcd_timeout = ETCD_TIMEOUT_DEFAULT;
	cfg->fleet.fleet_max_staleness = FLEET_STALENESS_DEFAULT;
	cfg->fleet.etcd_stage_ttl = FLEET_STAGE_TTL_DEFAULT;
	cfg->fleet.etcd_reclaim_interval = FLEET_RECLAIM_DEFAULT;
}

static const struct config_key *
config_find(const char *name)
{
	size_t	i;

	for (i = 0; i < CONFIG_NKEYS; i++)
		if (strcmp(config_keys[i].name, name) == 0)
			return (&config_keys[i]);
	return (NULL);
}

/* value is one of the words of "a|b|c". */
static int
config_choice_ok(const char *choices, const char *value)
{
	size_t		 len = strlen(value);
	const char	*p = choices, *bar;

	while (len != 0) {
		bar = strchr(p, '|');
		if ((bar == NULL ? strlen(p) : (size_t)(bar - p)) == len &&
		    strncmp(p, value, len) == 0)
			return (1);
		if (bar == NULL)
			break;
		p = bar + 1;
	}
	return (0);
}

static int
config_error(char *err, size_t errlen, const char *where, const char *fmt,
    ...)
{
	char	msg[512];
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(err, errlen, "%s: %s", where, msg);
	return (-1);
}

/* Plain decimal only: no sign, no spaces, no 0x, no overflow. */
static int
config_parse_u64(const char *s, uint64_t *v)
{
	uint64_t	n = 0;

	if (*s == '\0')
		return (-1);
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return (-1);
		if (n > (UINT64_MAX - (uint64_t)(*s - '0')) / 10)
			return (-1);
		n = n * 10 + (uint64_t)(*s - '0');
	}
	*v = n;
	return (0);
}

static int
config_parse_size(const char *s, uint64_t *v)
{
	char		 num[32];
	size_t		 len = strlen(s);
	unsigned	 shift = 0;
	uint64_t	 n;

	if (len == 0 || len >= sizeof(num))
		return (-1);
	memcpy(num, s, len + 1);
	switch (num[len - 1]) {
	case 'K': shift = 10; break;
	case 'M': shift = 20; break;
	case 'G': shift = 30; break;
	case 'T': shift = 40; break;
	default: break;
	}
	if (shift != 0)
		num[len - 1] = '\0';
	if (config_parse_u64(num, &n) == -1)
		return (-1);
	if (shift != 0 && n > (UINT64_MAX >> shift))
		return (-1);
	*v = n << shift;
	return (0);
}

/*
 * "" (off), "unix:PATH", "A.B.C.D:PORT" or "[IPV6]:PORT" (numeric
 * addresses only: nothing is resolved).  0, or -1 with err set.
 */
static int
config_parse_listen(const char *s, char *err, size_t errlen)
{
	struct in6_addr	 a6;
	struct in_addr	 a4;
	char		 host[64];
	const char	*colon, *p;
	size_t		 hl;
	unsigned long	 port = 0;

	if (*s == '\0')
		return (0);
	if (strncmp(s, "unix:", 5) == 0) {
		if (s[5] == '\0' || strlen(s + 5) >= sizeof(
		    ((struct sockaddr_un *)0)->sun_path) - 20) {
			snprintf(err, errlen, "unix: needs a path of at most "
			    "%zu bytes", sizeof(((struct sockaddr_un *)0)->
			    sun_path) - 21);
			return (-1);
		}
		return (0);
	}
	if ((colon = strrchr(s, ':')) == NULL || colon[1] == '\0')
		goto bad;
	for (p = colon + 1; *p != '\0'; p++) {
		if (*p < '0' || *p > '9' || port > 65535)
			goto bad;
		port = port * 10 + (unsigned long)(*p - '0');
	}
	if (port > 65535 || strlen(colon + 1) > 5)
		goto bad;
	if (*s == '[') {
		hl = (size_t)(colon - s);
		if (hl < 3 || s[hl - 1] != ']' || hl - 2 >= sizeof(host))
			goto bad;
		memcpy(host, s + 1, hl - 2);
		host[hl - 2] = '\0';
		if (inet_pton(AF_INET6, host, &a6) != 1)
			goto bad;
		return (0);
	}
	hl = (size_t)(colon - s);
	if (hl == 0 || hl >= sizeof(host))
		goto bad;
	memcpy(host, s, hl);
	host[hl] = '\0';
	if (inet_pton(AF_INET, host, &a4) != 1)
		goto bad;
	return (0);
bad:
	snprintf(err, errlen, "'%s': expected 127.0.0.1:PORT, [::1]:PORT or "
	    "unix:PATH (a numeric address, a port 0..65535)", s);
	return (-1);
}

/* "0", "1", "0.25", "1.000": 0..1, at most 6 decimals.  0 or -1. */
static int
config_parse_fraction(const char *s, double *v)
{
	double	frac = 0, scale = 0.1;
	int	n = 0;

	if ((s[0] != '0' && s[0] != '1') || (s[1] != '\0' && s[1] != '.'))
		return (-1);
	if (s[1] == '.') {
		if (s[2] == '\0')
			return (-1);
		for (s += 2; *s != '\0'; s++, n++) {
			if (*s < '0' || *s > '9' || n == 6)
				return (-1);
			frac += (*s - '0') * scale;
			scale /= 10;
		}
		s -= n + 2;
	}
	if (s[0] == '1' && frac > 0)
		return (-1);
	*v = (s[0] - '0') + frac;
	return (0);
}

int
config_set(struct config *cfg, const char *key, const char *value,
    const char *where, char *err, size_t errlen)
{
	const struct config_key	*k;
	struct stat		 st;
	uint64_t		 n;
	double			 d;
	char			 msg[512];

	if ((k = config_find(key)) == NULL)
		return (config_error(err, errlen, where, "unknown key '%s'",
		    key));
	switch (k->type) {
	case CONFIG_LISTEN:
		if (strlen(value) >= k->size)
			return (config_error(err, errlen, where,
			    "%s: value too long (at most %zu bytes)", key,
			    k->size - 1));
		if (config_parse_listen(value, msg, sizeof(msg)) == -1)
			return (config_error(err, errlen, where, "%s: %s",
			    key, msg));
		memcpy((char *)cfg + k->offset, value, strlen(value) + 1);
		break;
	case CONFIG_FRACTION:
		if (config_parse_fraction(value, &d) == -1)
			return (config_error(err, errlen, where,
			    "%s: '%s': expected a decimal number from 0 to 1 "
			    "(at most 6 decimals)", key, value));
		memcpy((char *)cfg + k->offset, &d, sizeof(d));
		break;
	case CONFIG_CHOICE:
		if (!config_choice_ok(k->choices, value))
			return (config_error(err, errlen, where,
			    "%s: '%s': expected %s", key, value, k->choices));
		memcpy((char *)cfg + k->offset, value, strlen(value) + 1);
		break;
	case CONFIG_PATH:
	case CONFIG_OPTPATH:
	case CONFIG_OPTFILE:
	case CONFIG_GROUP:
	case CONFIG_STRING:
		if (*value == '\0' && k->type == CONFIG_PATH)
			return (config_error(err, errlen, where,
			    "%s: empty value", key));
		if (strlen(value) >= k->size)
			return (config_error(err, errlen, where,
			    "%s: value too long (at most %zu bytes)", key,
			    k->size - 1));
		if (k->type == CONFIG_GROUP && *value != '\0' &&
		    config_parse_u64(value, &n) == -1 &&
		    getgrnam(value) == NULL)
			return (config_error(err, errlen, where,
			    "%s: no such group '%s'", key, value));
		/* Named in the file: a wrong path is this line's error. */
		if (k->type == CONFIG_OPTFILE && *value != '\0' &&
		    (stat(value, &st) == -1 || access(value, R_OK) == -1))
			return (config_error(err, errlen, where,
			    "%s: %s: %s", key, value, strerror(errno)));
		if (k->type == CONFIG_OPTFILE && *value != '\0' &&
		    !S_ISREG(st.st_mode))
			return (config_error(err, errlen, where,
			    "%s: %s: not a regular file", key, value));
		memcpy((char *)cfg + k->offset, value, strlen(value) + 1);
		break;
	case CONFIG_UINT:
	case CONFIG_SIZE:
		if ((k->type == CONFIG_UINT ?
		    config_parse_u64(value, &n) :
		    config_parse_size(value, &n)) == -1)
			return (config_error(err, errlen, where,
			    "%s: bad number '%s'", key, value));
		if (n < k->min || n > k->max)
			return (config_error(err, errlen, where,
			    "%s: %" PRIu64 " out of range %" PRIu64
			    "..%" PRIu64, key, n, k->min, k->max));
		if (k->size == sizeof(uint64_t))
			memcpy((char *)cfg + k->offset, &n, sizeof(n));
		else if (k->offset == offsetof(struct config, log_verbose)) {
			int iv = (int)n;
			memcpy((char *)cfg + k->offset, &iv, sizeof(iv));
		} else {
			unsigned uv = (unsigned)n;
			memcpy((char *)cfg + k->offset, &uv, sizeof(uv));
		}
		break;
	}
	return (0);
}

int
config_load(struct config *cfg, const char *path, char *err, size_t errlen)
{
	FILE		*f;
	char		 where[CONFIG_PATH_MAX + 32];
	char		*line = NULL, *p, *key, *value, *end;
	size_t		 cap = 0;
	ssize_t		 n;
	unsigned char	 seen[CONFIG_NKEYS];
	const struct config_key *k;
	unsigned long	 lineno = 0;
	size_t		 len;

	memset(seen, 0, sizeof(seen));
	snprintf(cfg->source, sizeof(cfg->source), "%s", path);
	if ((f = fopen(path, "r")) == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return (-1);
	}
	while ((n = getline(&line, &cap, f)) != -1) {
		lineno++;
		snprintf(where, sizeof(where), "%s:%lu", path, lineno);
		len = (size_t)n;
		if (len > 0 && line[len - 1] == '\n')
			line[--len] = '\0';
		if (len > CONFIG_LINE_MAX) {
			config_error(err, errlen, where,
			    "line longer than %d bytes", CONFIG_LINE_MAX);
			goto fail;
		}
		if (strlen(line) != len) {
			config_error(err, errlen, where, "NUL byte in line");
			goto fail;
		}
		for (p = line; *p == ' ' || *p == '\t'; p++)
			;
		if (*p == '\0' || *p == '#')
			continue;
		key = p;
		while (*p != '\0' && *p != '=' && *p != ' ' && *p != '\t')
			p++;
		end = p;
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p != '=') {
			config_error(err, errlen, where,
			    "expected 'key = value'");
			goto fail;
		}
		*end = '\0';
		for (p++; *p == ' ' || *p == '\t'; p++)
			;
		value = p;
		end = value + strlen(value);
		while (end > value && (end[-1] == ' ' || end[-1] == '\t' ||
		    end[-1] == '\r'))
			*--end = '\0';
		if (*key == '\0') {
			config_error(err, errlen, where, "missing key");
			goto fail;
		}
		if ((k = config_find(key)) != NULL) {
			if (seen[k - config_keys]) {
				config_error(err, errlen, where,
				    "key '%s' given twice", key);
				goto fail;
			}
			seen[k - config_keys] = 1;
		}
		if (config_set(cfg, key, value, where, err, errlen) == -1)
			goto fail;
		cfg->lines[k - config_keys] = lineno;
	}
	if (ferror(f)) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto fail;
	}
	free(line);
	fclose(f);
	snprintf(where, sizeof(where), "%s", path);
	return (config_check(cfg, where, err, errlen));
fail:
	free(line);
	fclose(f);
	return (-1);
}

/* "-o key=value" on the command line. */
int
config_override(struct config *cfg, const char *kv, char *err, size_t errlen)
{
	const struct config_key	*k;
	char			 key[64];
	const char		*eq;

	if ((eq = strchr(kv, '=')) == NULL || eq == kv ||
	    (size_t)(eq - kv) >= sizeof(key))
		return (config_error(err, errlen, "command line",
		    "-o %s: expected key=value", kv));
	memcpy(key, kv, eq - kv);
	key[eq - kv] = '\0';
	if (config_set(cfg, key, eq + 1, "command line", err, errlen) == -1)
		return (-1);
	if ((k = config_find(key)) != NULL)
		cfg->lines[k - config_keys] = CONFIG_LINE_CMDLINE;
	return (0);
}

static unsigned long
config_line(const struct config *cfg, const char *key)
{
	const struct config_key	*k;

	if ((k = config_find(key)) == NULL)
		return (0);
	return (cfg->lines[k - config_keys]);
}

/* "file:line", "command line" or "default": where key got its value. */
static void
config_origin(const struct config *cfg, const char *key, char *buf,
    size_t len)
{
	unsigned long	line = config_line(cfg, key);

	if (line == CONFIG_LINE_CMDLINE)
		snprintf(buf, len, "command line");
	else if (line != 0)
		snprintf(buf, len, "%.1000s:%lu", cfg->source, line);
	else
		snprintf(buf, len, "default");
}

/*
 * An error between keys a and b: prefixed with where the later of the
 * two was set (the command line comes after the file), naming where the
 * other one was; `where' when both are defaults.
 */
static int
config_pair_error(const struct config *cfg, const char *where,
    const char *a, const char *b, char *err, size_t errlen, const char *msg)
{
	char		 la[CONFIG_PATH_MAX + 32], lb[CONFIG_PATH_MAX + 32];
	unsigned long	 na = config_line(cfg, a), nb = config_line(cfg, b);

	config_origin(cfg, a, la, sizeof(la));
	config_origin(cfg, b, lb, sizeof(lb));
	if (na == 0 && nb == 0)
		return (config_error(err, errlen, where, "%s", msg));
	if (na >= nb)
		return (config_error(err, errlen, la, "%s (%s: %s)", msg, b,
		    lb));
	return (config_error(err, errlen, lb, "%s (%s: %s)", msg, a, la));
}

/* Fleet mode: the endpoints parse, the prefix is /NAME/, pairs go
 * together (docs/fleet.md). */
static int
config_check_fleet(const struct config *cfg, const char *where, char *err,
    size_t errlen)
{
	const struct config_fleet	*f = &cfg->fleet;
	struct etcd_endpoint		 ep[ETCD_ENDPOINTS_MAX];
	const char			*p = f->etcd_prefix;
	size_t				 n;
	char				 msg[512];

	if (f->etcd_endpoints[0] == '\0')
		return (0);
	if (etcd_endpoints_parse(f->etcd_endpoints, ep, ETCD_ENDPOINTS_MAX,
	    &n, msg, sizeof(msg)) != 0)
		return (config_error(err, errlen, where, "etcd_endpoints: %s",
		    msg));
	if (p[0] != '/' || strlen(p) < 3 || p[strlen(p) - 1] != '/' ||
	    strstr(p, "//") != NULL || strlen(p) > FLEET_PREFIX_MAX - 64)
		return (config_error(err, errlen, where, "etcd_prefix: '%s': "
		    "expected /NAME/ (starts and ends with /, no //, at most "
		    "%d bytes)", p, FLEET_PREFIX_MAX - 64));
	if ((f->etcd_cert[0] == '\0') != (f->etcd_key[0] == '\0'))
		return (config_pair_error(cfg, where, "etcd_cert", "etcd_key",
		    err, errlen, "etcd_cert and etcd_key go together"));
	if ((f->etcd_user[0] == '\0') != (f->etcd_password_file[0] == '\0'))
		return (config_pair_error(cfg, where, "etcd_user",
		    "etcd_password_file", err, errlen,
		    "etcd_user and etcd_password_file go together"));
	return (0);
}

/* Checks that involve more than one key. */
int
config_check(const struct config *cfg, const char *where, char *err,
    size_t errlen)
{
	char	msg[256];

	if (strcmp(cfg->query_socket, cfg->admin_socket) == 0)
		return (config_pair_error(cfg, where, "query_socket",
		    "admin_socket", err, errlen,
		    "query_socket and admin_socket are the same path"));
	if (cfg->max_connections_per_uid > cfg->max_connections) {
		snprintf(msg, sizeof(msg), "max_connections_per_uid (%u) "
		    "exceeds max_connections (%u)",
		    cfg->max_connections_per_uid, cfg->max_connections);
		return (config_pair_error(cfg, where,
		    "max_connections_per_uid", "max_connections", err, errlen,
		    msg));
	}
	if (cfg->max_parked_checks_per_connection > cfg->max_parked_checks) {
		snprintf(msg, sizeof(msg), "max_parked_checks_per_connection "
		    "(%u) exceeds max_parked_checks (%u)",
		    cfg->max_parked_checks_per_connection,
		    cfg->max_parked_checks);
		return (config_pair_error(cfg, where,
		    "max_parked_checks_per_connection", "max_parked_checks",
		    err, errlen, msg));
	}
	return (config_check_fleet(cfg, where, err, errlen));
}

void
config_print(const struct config *cfg)
{
	printf("query_socket = %s\n", cfg->query_socket);
	printf("admin_socket = %s\n", cfg->admin_socket);
	printf("socket_group = %s\n", cfg->socket_group);
	printf("admin_group = %s\n", cfg->admin_group);
	printf("admin_config = %s\n", cfg->admin_config);
	printf("state_directory = %s\n", cfg->state_directory);
	printf("seed_bundle = %s\n", cfg->seed_bundle);
	printf("threads = %u\n", cfg->threads);
	printf("max_connections = %u\n", cfg->max_connections);
	printf("max_connections_per_uid = %u\n", cfg->max_connections_per_uid);
	printf("max_admin_connections = %u\n", cfg->max_admin_connections);
	printf("max_admin_connections_per_uid = %u\n",
	    cfg->max_admin_connections_per_uid);
	printf("max_queued_replies = %u\n", cfg->max_queued_replies);
	printf("idle_timeout = %u\n", cfg->idle_timeout);
	printf("slow_client_timeout = %u\n", cfg->slow_client_timeout);
	printf("request_timeout = %u\n", cfg->request_timeout);
	printf("min_generation_wait_ms = %u\n", cfg->min_generation_wait_ms);
	printf("max_parked_checks = %u\n", cfg->max_parked_checks);
	printf("max_parked_checks_per_connection = %u\n",
	    cfg->max_parked_checks_per_connection);
	printf("backlog = %u\n", cfg->backlog);
	printf("map_size_max = %" PRIu64 "\n", cfg->map_size_max);
	printf("log_verbose = %d\n", cfg->log_verbose);
	printf("metrics_listen = %s\n", cfg->metrics_listen);
	printf("decision_log = %s\n", cfg->decision_log);
	printf("decision_log_sample = %.6g\n", cfg->decision_log_sample);
	printf("decision_log_denies = %s\n", cfg->decision_log_denies);
	printf("decision_log_context = %s\n", cfg->decision_log_context);
	printf("decision_log_ring = %" PRIu64 "\n", cfg->decision_log_ring);
	printf("etcd_endpoints = %s\n", cfg->fleet.etcd_endpoints);
	printf("etcd_prefix = %s\n", cfg->fleet.etcd_prefix);
	printf("etcd_cacert = %s\n", cfg->fleet.etcd_cacert);
	printf("etcd_cert = %s\n", cfg->fleet.etcd_cert);
	printf("etcd_key = %s\n", cfg->fleet.etcd_key);
	printf("etcd_user = %s\n", cfg->fleet.etcd_user);
	printf("etcd_password_file = %s\n", cfg->fleet.etcd_password_file);
	printf("etcd_timeout = %u\n", cfg->fleet.etcd_timeout);
	printf("fleet_max_staleness = %u\n", cfg->fleet.fleet_max_staleness);
	printf("etcd_stage_ttl = %u\n", cfg->fleet.etcd_stage_ttl);
	printf("etcd_reclaim_interval = %u\n",
	    cfg->fleet.etcd_reclaim_interval);
}
