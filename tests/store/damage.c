/* SPDX-License-Identifier: ISC */
/*
 * damage: seeded random damage to a store of 1,500 keys, opened the
 * way the daemon opens it and checked with kmsauthzctl verify: every
 * trial must end by an exit status, never a signal; a refused store
 * must be refused with the database (table) named, and the page when
 * the page walk found it; a store that opens must load, pass
 * store_check and take changes.
 *
 *   damage CTL		TAP; KMSAUTHZ_DAMAGE_TRIALS (200) trials from
 *			KMSAUTHZ_DAMAGE_SEED (a fixed default)
 *   damage CTL SEED	one trial, kept in a directory it names
 *
 * Damage shapes, in turn: 200 random bytes in one run past the meta
 * pages (what the outside test did), 200 bytes at random offsets, a
 * zeroed page, two pages swapped, one random byte of a branch page,
 * one random byte of a leaf page's header or node offsets.
 */
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "policy/bundle.h"
#include "policy/policy.h"
#include "store/store.h"

#define NKEYS		1500
#define PSIZE		4096
#define NSHAPES		6

static const char *const shapes[NSHAPES] = {
	"200-byte run", "200 scattered bytes", "zeroed page",
	"swapped pages", "branch byte", "leaf header byte"
};

static const char *const tables[] = {
	"meta", "instances", "keys", "keypolicies", "tags", "aliases",
	"policies", "policyversions", "users", "roles", "groups",
	"deletions", "free-page", "main", "metadata"
};

/* The good store's export: what an opened damaged copy is compared to. */
static char	*good_export;
static size_t	 good_export_len;

static void	die(const char *, ...)
		    __attribute__((__format__(printf, 1, 2), __noreturn__));

static void
die(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	fprintf(stdout, "Bail out! ");
	vfprintf(stdout, fmt, ap);
	fprintf(stdout, "\n");
	va_end(ap);
	exit(1);
}

/* xorshift64*: the same damage for the same seed, everywhere. */
static uint64_t
dmg_rand(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return (*s * 2685821657736338717ULL);
}

static char *
dmg_bundle(size_t *lenp)
{
	FILE	*f;
	char	*text;
	size_t	 i;

	if ((f = open_memstream(&text, lenp)) == NULL)
		die("open_memstream");
	fprintf(f, "{\"FormatVersion\":1,\"Instances\":[{\"InstanceId\":"
	    "\"kst-dmg0000000000000001\",\"State\":\"Enabled\","
	    "\"ShareQuota\":100}],\"Keys\":[");
	for (i = 0; i < NKEYS; i++) {
		fprintf(f, "%s{\"KeyId\":\"key-dmg%016zu\",\"Region\":"
		    "\"cn-hangzhou\",\"Creator\":\"%zu\",\"DKMSInstanceId\":"
		    "\"kst-dmg0000000000000001\",\"KeyState\":\"Enabled\"",
		    i ? "," : "", i, 1000000000000000 + i % 7);
		if (i % 2 == 0)
			fprintf(f, ",\"KeyPolicy\":{\"Version\":\"1\","
			    "\"Statement\":[{\"Sid\":\"s%zu\",\"Effect\":"
			    "\"Allow\",\"Principal\":{\"RAM\":[\"acs:ram::%zu"
			    ":*\"]},\"Action\":[\"kms:*\"],\"Resource\":"
			    "[\"*\"]}]}", i, 1000000000000000 + i % 7);
		fprintf(f, "}");
	}
	fprintf(f, "],\"Aliases\":[");
	for (i = 0; i < NKEYS; i += 5)
		fprintf(f, "%s{\"AliasName\":\"alias/a%zu\",\"KeyId\":"
		    "\"key-dmg%016zu\"}", i ? "," : "", i, i);
	fprintf(f, "],\"Policies\":[");
	for (i = 0; i < 100; i++)
		fprintf(f, "%s{\"PolicyName\":\"p%zu\",\"Account\":\"%zu\","
		    "\"PolicyDocument\":{\"Version\":\"1\",\"Statement\":"
		    "[{\"Effect\":\"Allow\",\"Action\":[\"kms:Get*\"],"
		    "\"Resource\":[\"*\"]}]}}", i ? "," : "", i,
		    1000000000000000 + i % 7);
	fprintf(f, "],\"Users\":[");
	for (i = 0; i < 300; i++)
		fprintf(f, "%s{\"Account\":\"%zu\",\"UserName\":\"u%zu\","
		    "\"Groups\":[],\"Policies\":[\"p%zu\"]}", i ? "," : "",
		    1000000000000000 + i % 7, i, i % 7);
	fprintf(f, "],\"Roles\":[],\"Groups\":[]}");
	if (fclose(f) != 0)
		die("bundle");
	return (text);
}

/* The good store: the bundle, then tag changes (a free list). */
static void
dmg_build(const char *dir)
{
	struct policy_diags	 diags;
	struct store_opts	 o;
	struct bundle		*b;
	struct store		*st;
	char			*text, *cause, id[64], val[32];
	size_t			 len, i;

	text = dmg_bundle(&len);
	policy_diags_init(&diags);
	if (bundle_parse(text, len, 0, &b, &diags) != 0)
		die("bundle: %s: %s", diags.n ? diags.v[0].path : "-",
		    diags.n ? diags.v[0].reason : "?");
	policy_diags_free(&diags);
	free(text);
	memset(&o, 0, sizeof(o));
	o.create = 1;
	if (store_open(dir, &o, &st, &cause) != STORE_OK)
		die("%s", cause);
	if (store_replace_all(st, b, NULL) != STORE_OK ||
	    store_load(st) != STORE_OK)
		die("%s", store_errmsg(st));
	for (i = 0; i < 60; i++) {
		snprintf(id, sizeof(id), "key-dmg%016zu", i * 17 % NKEYS);
		snprintf(val, sizeof(val), "v%zu", i);
		if (store_tags_change(st, id, &(struct store_tag){ "t", val },
		    1, NULL) != STORE_OK)
			die("%s", store_errmsg(st));
	}
	bundle_free(b);
	if (store_to_bundle(st, &b) != STORE_OK ||
	    (good_export = bundle_export(b, &good_export_len)) == NULL)
		die("export: %s", store_errmsg(st));
	bundle_free(b);
	store_close(st);
}

/* 1 when the store's export differs from the good one. */
static int
dmg_changed(struct store *st)
{
	struct bundle	*b;
	char		*text;
	size_t		 len;
	int		 changed = 1;

	if (store_to_bundle(st, &b) != STORE_OK)
		return (1);
	if ((text = bundle_export(b, &len)) != NULL) {
		changed = len != good_export_len ||
		    memcmp(text, good_export, len) != 0;
		free(text);
	}
	bundle_free(b);
	return (changed);
}

static unsigned char *
dmg_slurp(const char *path, size_t *lenp)
{
	struct stat	 sb;
	unsigned char	*p;
	int		 fd;

	if ((fd = open(path, O_RDONLY)) == -1 || fstat(fd, &sb) == -1)
		die("%s: %s", path, strerror(errno));
	p = malloc((size_t)sb.st_size);
	if (p == NULL || read(fd, p, (size_t)sb.st_size) != sb.st_size)
		die("%s: read", path);
	close(fd);
	*lenp = (size_t)sb.st_size;
	return (p);
}

/* A random page whose header says it is page n with these flags. */
static size_t
dmg_page(const unsigned char *d, size_t npages, uint64_t *s, int flags)
{
	size_t	 i, n, start;
	uint64_t pg;

	start = 2 + dmg_rand(s) % (npages - 2);
	for (i = 0; i < npages - 2; i++) {
		n = 2 + (start - 2 + i) % (npages - 2);
		memcpy(&pg, d + n * PSIZE, 8);
		if (pg == n && (d[n * PSIZE + 10] & 0x3f) == flags)
			return (n);
	}
	return (start);
}

/* Damage of the given shape to a copy d of len bytes. */
static void
dmg_apply(unsigned char *d, size_t len, uint64_t seed, int shape)
{
	uint64_t	 s = seed | 1;
	unsigned char	 tmp[PSIZE];
	size_t		 npages = len / PSIZE, i, off, a, b;
	uint16_t	 lower;

	switch (shape) {
	case 0:
		off = 2 * PSIZE + dmg_rand(&s) % (len - 2 * PSIZE - 200);
		for (i = 0; i < 200; i++)
			d[off + i] = (unsigned char)dmg_rand(&s);
		break;
	case 1:
		for (i = 0; i < 200; i++)
			d[2 * PSIZE + dmg_rand(&s) % (len - 2 * PSIZE)] =
			    (unsigned char)dmg_rand(&s);
		break;
	case 2:
		memset(d + (2 + dmg_rand(&s) % (npages - 2)) * PSIZE, 0,
		    PSIZE);
		break;
	case 3:
		a = 2 + dmg_rand(&s) % (npages - 2);
		b = 2 + dmg_rand(&s) % (npages - 2);
		memcpy(tmp, d + a * PSIZE, PSIZE);
		memcpy(d + a * PSIZE, d + b * PSIZE, PSIZE);
		memcpy(d + b * PSIZE, tmp, PSIZE);
		break;
	case 4:
		a = dmg_page(d, npages, &s, 0x01);
		d[a * PSIZE + dmg_rand(&s) % PSIZE] ^= 1 + dmg_rand(&s) % 255;
		break;
	default:
		a = dmg_page(d, npages, &s, 0x02);
		memcpy(&lower, d + a * PSIZE + 12, 2);
		if (lower < 16 || lower > PSIZE)
			lower = 16;
		d[a * PSIZE + 8 + dmg_rand(&s) % (lower - 8)] ^=
		    1 + dmg_rand(&s) % 255;
		break;
	}
}

/* A refusal names a table; a walk's refusal the page too. */
static int
dmg_names_table(const char *msg)
{
	size_t	i;

	if (strstr(msg, "page ") != NULL && strstr(msg, "database") != NULL)
		return (1);
	if (strstr(msg, "data.mdb: corrupt") != NULL ||
	    strstr(msg, "data.mdb: truncated") != NULL)
		return (strstr(msg, "page ") != NULL);
	for (i = 0; i < sizeof(tables) / sizeof(tables[0]); i++)
		if (strstr(msg, tables[i]) != NULL)
			return (1);
	return (0);
}

/*
 * The daemon's open (a writer that may fall back to read-only), its
 * load, the check, then changes: 0 all worked, 3 all worked but the
 * records differ from the good store's (bytes no check covers), 1
 * refused as corrupt, 2 another error; the message in msg.
 */
static int
dmg_daemon_path(const char *dir, char *msg, size_t msglen)
{
	struct store_opts	 o;
	struct store		*st;
	char			*cause, name[16];
	int			 rc, i, changed = 0;

	memset(&o, 0, sizeof(o));
	o.create = 1;
	o.readonly_ok = 1;
	if ((rc = store_open(dir, &o, &st, &cause)) != STORE_OK) {
		snprintf(msg, msglen, "%s", cause);
		free(cause);
		return (rc == STORE_ECORRUPT ? 1 : 2);
	}
	if ((rc = store_load(st)) == STORE_OK &&
	    (rc = store_check(st)) == STORE_OK) {
		changed = dmg_changed(st);
		/* Changes: the free list is read and pages are reused. */
		for (i = 0; i < 40 && rc == STORE_OK; i++) {
			snprintf(name, sizeof(name), "x%d", i % 20);
			if (i < 20)
				rc = store_user_create(st, "1000000000000009",
				    name, NULL);
			else
				rc = store_principal_delete(st, STORE_USER,
				    "1000000000000009", name, NULL);
		}
		if (rc == STORE_OK)
			rc = store_check(st);
	}
	snprintf(msg, msglen, "%s", store_errmsg(st));
	store_close(st);
	if (rc == STORE_OK)
		return (changed ? 3 : 0);
	return (rc == STORE_ECORRUPT ? 1 : 2);
}

/* Runs fn-like work in a child: its status, and what it said. */
static int
dmg_child(const char *ctl, const char *dir, char *msg, size_t msglen)
{
	char	 sink[512];
	pid_t	 pid;
	ssize_t	 n;
	size_t	 got = 0;
	int	 p[2], status, rc;

	if (pipe(p) == -1 || (pid = fork()) == -1)
		die("fork: %s", strerror(errno));
	if (pid == 0) {
		close(p[0]);
		dup2(p[1], 2);
		if (ctl != NULL) {
			dup2(open("/dev/null", O_WRONLY), 1);
			execl(ctl, ctl, "verify", "--db", dir, (char *)NULL);
			_exit(127);
		}
		rc = dmg_daemon_path(dir, msg, msglen);
		(void)write(2, msg, strlen(msg));
		_exit(rc);
	}
	close(p[1]);
	/* Read it all (a child writing to a closed pipe would die). */
	while ((n = read(p[0], got + 1 < msglen ? msg + got : sink,
	    got + 1 < msglen ? msglen - 1 - got : sizeof(sink))) > 0)
		if (got + 1 < msglen)
			got += (size_t)n;
	msg[got] = '\0';
	close(p[0]);
	if (waitpid(pid, &status, 0) == -1)
		die("waitpid: %s", strerror(errno));
	return (status);
}

struct dmg_tally {
	size_t	trials, signals, badmsg, refused, opened, disagree, changed;
	size_t	by_shape[NSHAPES][2];	/* refused, opened */
};

/* One trial; 0 when it behaved, -1 (said why) when not. */
static int
dmg_trial(const char *ctl, const char *top, const unsigned char *good,
    size_t len, uint64_t seed, int shape, struct dmg_tally *t, int keep)
{
	unsigned char	*d;
	char		 dir[4096], path[4200], vmsg[2048], dmsg[2048];
	int		 fd, vs, ds, fail = 0;

	snprintf(dir, sizeof(dir), "%s/t%ju", top, (uintmax_t)seed);
	snprintf(path, sizeof(path), "%s/data.mdb", dir);
	if (mkdir(dir, 0700) == -1)
		die("%s: %s", dir, strerror(errno));
	d = malloc(len);
	memcpy(d, good, len);
	dmg_apply(d, len, seed, shape);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600)) == -1 ||
	    write(fd, d, len) != (ssize_t)len || close(fd) != 0)
		die("%s: %s", path, strerror(errno));
	free(d);
	/* verify first: the daemon's open writes to the copy. */
	vs = dmg_child(ctl, dir, vmsg, sizeof(vmsg));
	ds = dmg_child(NULL, dir, dmsg, sizeof(dmsg));
	t->trials++;
	if (!WIFEXITED(vs) || !WIFEXITED(ds)) {
		t->signals++;
		printf("# seed %ju (%s): ended by a signal: verify %d, daemon "
		    "open %d\n#   %s\n#   %s\n", (uintmax_t)seed, shapes[shape],
		    WIFSIGNALED(vs) ? WTERMSIG(vs) : 0,
		    WIFSIGNALED(ds) ? WTERMSIG(ds) : 0, vmsg, dmsg);
		fail = 1;
	} else if (WEXITSTATUS(vs) > 1 || (WEXITSTATUS(ds) > 1 &&
	    WEXITSTATUS(ds) != 3) ||
	    (WEXITSTATUS(vs) == 1 && !dmg_names_table(vmsg)) ||
	    (WEXITSTATUS(ds) == 1 && !dmg_names_table(dmsg))) {
		t->badmsg++;
		printf("# seed %ju (%s): verify %d, daemon open %d, without "
		    "the table named\n#   %s\n#   %s\n", (uintmax_t)seed,
		    shapes[shape], WEXITSTATUS(vs), WEXITSTATUS(ds), vmsg,
		    dmsg);
		fail = 1;
	} else if ((WEXITSTATUS(vs) == 0) != (WEXITSTATUS(ds) % 3 == 0)) {
		t->disagree++;
		printf("# seed %ju (%s): verify %d, daemon open %d disagree"
		    "\n#   %s\n#   %s\n", (uintmax_t)seed, shapes[shape],
		    WEXITSTATUS(vs), WEXITSTATUS(ds), vmsg, dmsg);
		fail = 1;
	} else if (WEXITSTATUS(ds) == 1) {
		t->refused++;
		t->by_shape[shape][0]++;
	} else {
		t->opened++;
		t->changed += WEXITSTATUS(ds) == 3;
		t->by_shape[shape][1]++;
	}
	if (keep)
		printf("# %s: verify %d: %s\n# daemon open %d: %s\n", dir,
		    WIFEXITED(vs) ? WEXITSTATUS(vs) : 128 + WTERMSIG(vs), vmsg,
		    WIFEXITED(ds) ? WEXITSTATUS(ds) : 128 + WTERMSIG(ds), dmsg);
	else {
		unlink(path);
		snprintf(path, sizeof(path), "%s/lock.mdb", dir);
		unlink(path);
		snprintf(path, sizeof(path), "%s/kmsauthz.lock", dir);
		unlink(path);
		rmdir(dir);
	}
	return (fail ? -1 : 0);
}

int
main(int argc, char **argv)
{
	struct dmg_tally t;
	unsigned char	*good;
	char		 top[] = "/tmp/kmsauthz-damage.XXXXXX", gdir[64];
	char		 path[128];
	const char	*e;
	uint64_t	 seed0 = 0x5eedf00d, seed;
	size_t		 len, n = 200, i;
	struct timespec	 a, b;
	int		 s;

	if (argc < 2 || argc > 3)
		die("usage: damage CTL [SEED]");
	if ((e = getenv("KMSAUTHZ_DAMAGE_TRIALS")) != NULL)
		n = strtoul(e, NULL, 10);
	if ((e = getenv("KMSAUTHZ_DAMAGE_SEED")) != NULL)
		seed0 = strtoull(e, NULL, 0);
	if (mkdtemp(top) == NULL)
		die("mkdtemp: %s", strerror(errno));
	snprintf(gdir, sizeof(gdir), "%s/good", top);
	clock_gettime(CLOCK_MONOTONIC, &a);
	dmg_build(gdir);
	snprintf(path, sizeof(path), "%s/data.mdb", gdir);
	good = dmg_slurp(path, &len);
	memset(&t, 0, sizeof(t));
	if (argc == 3) {
		seed = strtoull(argv[2], NULL, 0);
		s = dmg_trial(argv[1], top, good, len, seed, (int)(seed %
		    NSHAPES), &t, 1);
		free(good);
		return (s == 0 ? 0 : 1);
	}
	printf("1..4\n");
	printf("ok 1 - a store of %d keys (%zu bytes), %zu trials from seed "
	    "0x%jx\n", NKEYS, len, n, (uintmax_t)seed0);
	for (i = 0; i < n; i++) {
		seed = seed0 + i;
		(void)dmg_trial(argv[1], top, good, len, seed,
		    (int)(seed % NSHAPES), &t, 0);
	}
	clock_gettime(CLOCK_MONOTONIC, &b);
	printf("%s 2 - no trial ended by a signal (%zu of %zu did)\n",
	    t.signals ? "not ok" : "ok", t.signals, t.trials);
	printf("%s 3 - every refusal names the table (and the page when the "
	    "walk found it): %zu did not\n", t.badmsg ? "not ok" : "ok",
	    t.badmsg);
	printf("%s 4 - verify and the daemon's open agree on every trial "
	    "(%zu did not)\n", t.disagree ? "not ok" : "ok", t.disagree);
	for (s = 0; s < NSHAPES; s++)
		printf("# %-20s refused %zu, opened and checked %zu\n",
		    shapes[s], t.by_shape[s][0], t.by_shape[s][1]);
	printf("# %zu refused, %zu opened: %zu with every record as it was "
	    "(damage in unused space), %zu with records changed in bytes no "
	    "check covers; %.1f s\n", t.refused, t.opened,
	    t.opened - t.changed, t.changed, (double)(b.tv_sec - a.tv_sec) +
	    (b.tv_nsec - a.tv_nsec) / 1e9);
	if (t.signals || t.badmsg || t.disagree)
		printf("# rerun one: damage CTL SEED (the seeds above)\n");
	free(good);
	snprintf(path, sizeof(path), "rm -rf '%s'", top);
	(void)system(path);
	return (0);
}
