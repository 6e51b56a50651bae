/* SPDX-License-Identifier: ISC */
/*
 * crash-writer: the writer and the checker of the crash test
 * (tests/store/crash.sh).
 *
 *   crash-writer write DIR ACKS	commit numbered changes for ever,
 *					appending each acknowledged
 *					generation to ACKS
 *   crash-writer verify DIR ACKS	after a SIGKILL: every acknowledged
 *					change is there, every committed
 *					change is whole, nothing after the
 *					last commit is there, the store is
 *					consistent
 *
 * Change n (which commits generation n) is a function of n alone:
 *   1           create instance "i" (quota 1000000)
 *   n % 3 == 2  create key k<n> in "i": key record + default key policy
 *   n % 3 == 0  set k<n-1>'s key policy to one whose Sid is s<n>
 *   n % 3 == 1  tag k<n-2> with t=<n>
 */
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/world.h"
#include "store/store.h"

#define POL	"{\"Version\":\"1\",\"Statement\":[{\"Sid\":\"s%llu\"," \
		"\"Effect\":\"Allow\",\"Principal\":{\"RAM\":" \
		"[\"acs:ram::111:*\"]},\"Action\":[\"kms:*\"]," \
		"\"Resource\":[\"*\"]}]}"

static void	die(const char *, ...)
		    __attribute__((__format__(printf, 1, 2), __noreturn__));

static void
die(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	fprintf(stderr, "crash-writer: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	exit(1);
}

static struct store *
open_store(const char *dir)
{
	struct store_opts	 o;
	struct store		*st;
	char			*cause;

	memset(&o, 0, sizeof(o));
	o.create = 1;
	o.map_size = 256 * 1024;	/* grows while we are killed */
	if (store_open(dir, &o, &st, &cause) != 0)
		die("open: %s", cause);
	if (store_load(st) != 0)
		die("load: %s", store_errmsg(st));
	return (st);
}

static int
change(struct store *st, unsigned long long n, uint64_t *genp)
{
	char	 id[32], text[512], val[32];

	if (n == 1)
		return (store_instance_create(st, "i", 0, 1000000, NULL, genp));
	switch (n % 3) {
	case 2:
		snprintf(id, sizeof(id), "k%llu", n);
		return (store_key_create(st, id, "r", "111", "i", 0, genp));
	case 0:
		snprintf(id, sizeof(id), "k%llu", n - 1);
		snprintf(text, sizeof(text), POL, n);
		return (store_key_policy_set(st, id, text, strlen(text), NULL,
		    genp));
	default:
		snprintf(id, sizeof(id), "k%llu", n - 2);
		snprintf(val, sizeof(val), "%llu", n);
		return (store_tags_change(st, id, &(struct store_tag){ "t",
		    val }, 1, genp));
	}
}

static int
do_write(const char *dir, const char *acks)
{
	struct store		*st = open_store(dir);
	unsigned long long	 n;
	uint64_t		 gen;
	char			 line[32];
	int			 fd, len;

	if ((fd = open(acks, O_WRONLY | O_APPEND | O_CREAT, 0600)) == -1)
		die("%s: %s", acks, strerror(errno));
	for (n = store_generation(st) + 1;; n++) {
		if (change(st, n, &gen) != 0)
			die("change %llu: %s", n, store_errmsg(st));
		if (gen != n)
			die("change %llu committed generation %llu", n,
			    (unsigned long long)gen);
		/* Acknowledged only once the commit returned. */
		len = snprintf(line, sizeof(line), "%llu\n", n);
		if (write(fd, line, len) != len)
			die("%s: %s", acks, strerror(errno));
	}
}

/* 1 when change n is in the world w, 0 when not (a later change to
 * the same key can hide an earlier one only for policies/tags, which
 * the caller accounts for). */
static int
present(struct store *st, const struct world *w, unsigned long long n)
{
	struct store_key_policy	 kp;
	struct world_instance	 wi;
	struct world_key	 wk;
	char			 id[32], sid[32];
	size_t			 i;
	int			 r;

	if (n == 1)
		return (world_get_instance(w, "i", 1, &wi) == 0);
	snprintf(id, sizeof(id), "k%llu", n - (n % 3 == 2 ? 0 :
	    n % 3 == 0 ? 1 : 2));
	if (world_get_key(w, id, strlen(id), &wk) != 0)
		return (0);
	switch (n % 3) {
	case 2:
		return (1);
	case 0:
		if (store_key_policy_get(st, id, &kp) != 0)
			die("%s: no key policy: %s", id, store_errmsg(st));
		snprintf(sid, sizeof(sid), "\"s%llu\"", n);
		r = strstr(kp.text, sid) != NULL;
		if (r != (kp.version == 2))
			die("%s: policy text and version disagree", id);
		store_key_policy_free(&kp);
		return (r);
	default:
		snprintf(sid, sizeof(sid), "%llu", n);
		for (i = 0; i < wk.ntags; i++)
			if (strcmp(wk.tags[i].key, "t") == 0)
				return (strcmp(wk.tags[i].value, sid) == 0);
		return (0);
	}
}

static int
do_verify(const char *dir, const char *acks)
{
	struct store		*st;
	struct world		*w;
	unsigned long long	 g, n, last = 0, v;
	FILE			*f;

	if ((f = fopen(acks, "r")) != NULL) {
		while (fscanf(f, "%llu", &v) == 1)
			last = v;
		fclose(f);
	}
	st = open_store(dir);
	if (store_check(st) != 0)
		die("consistency check: %s", store_errmsg(st));
	g = store_generation(st);
	if (g < last)
		die("acknowledged generation %llu lost (store at %llu)",
		    last, g);
	w = world_holder_acquire(store_holder(st));
	if (world_generation(w) != g)
		die("world generation %llu != store %llu",
		    (unsigned long long)world_generation(w), g);
	for (n = 1; n <= g; n++)
		if (!present(st, w, n))
			die("change %llu (committed, store at %llu) missing",
			    n, g);
	/* Nothing of a change that was not committed. */
	for (n = g + 1; n <= g + 3; n++)
		if (present(st, w, n))
			die("change %llu present beyond generation %llu", n,
			    g);
	world_unref(w);
	store_close(st);
	printf("generation %llu, last acknowledged %llu\n", g, last);
	return (0);
}

int
main(int argc, char **argv)
{
	if (argc != 4)
		die("usage: crash-writer write|verify DIR ACKS");
	if (strcmp(argv[1], "write") == 0)
		return (do_write(argv[2], argv[3]));
	if (strcmp(argv[1], "verify") == 0)
		return (do_verify(argv[2], argv[3]));
	die("unknown mode %s", argv[1]);
}
