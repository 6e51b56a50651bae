/* SPDX-License-Identifier: ISC */
/*
 * store-test.h: helpers the store's tests share: temporary directories,
 * their removal, and whole-file reads for before/after comparisons.
 */
#ifndef KMSAUTHZ_STORE_TEST_H
#define KMSAUTHZ_STORE_TEST_H

#include <dirent.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int
st_rm_cb(const char *path, const struct stat *sb, int flag, struct FTW *f)
{
	(void)sb;
	(void)flag;
	(void)f;
	return (remove(path));
}

static inline void
st_rmrf(const char *path)
{
	nftw(path, st_rm_cb, 16, FTW_DEPTH | FTW_PHYS);
}

/* A fresh temporary directory (caller frees); the store dir below it. */
static inline char *
st_tmpdir(void)
{
	char	*d = strdup("/tmp/kmsauthz-store-test.XXXXXX");

	if (d == NULL || mkdtemp(d) == NULL)
		abort();
	return (d);
}

static inline char *
st_join(const char *a, const char *b)
{
	char	*p;

	if (asprintf(&p, "%s/%s", a, b) == -1)
		abort();
	return (p);
}

/* Whole file, or NULL when absent. */
static inline char *
st_slurp(const char *path, size_t *lenp)
{
	FILE	*f;
	char	*buf;
	long	 n;

	if ((f = fopen(path, "rb")) == NULL)
		return (NULL);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)n + 1);
	if (buf == NULL || fread(buf, 1, (size_t)n, f) != (size_t)n)
		abort();
	buf[n] = '\0';
	fclose(f);
	*lenp = (size_t)n;
	return (buf);
}

static inline void
st_spew(const char *path, const void *p, size_t n)
{
	FILE	*f;

	if ((f = fopen(path, "wb")) == NULL || fwrite(p, 1, n, f) != n)
		abort();
	fclose(f);
}

static int
st_cmp_str(const void *a, const void *b)
{
	return (strcmp(*(char *const *)a, *(char *const *)b));
}

/* The names in dir, sorted, one per line (caller frees). */
static inline char *
st_listing(const char *dir)
{
	DIR		*d;
	struct dirent	*de;
	char		*names[256], *out;
	size_t		 n = 0, i, len = 1;

	if ((d = opendir(dir)) == NULL)
		abort();
	while ((de = readdir(d)) != NULL && n < 256) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if ((names[n] = strdup(de->d_name)) == NULL)
			abort();
		len += strlen(names[n++]) + 1;
	}
	closedir(d);
	qsort(names, n, sizeof(names[0]), st_cmp_str);
	if ((out = malloc(len)) == NULL)
		abort();
	out[0] = '\0';
	for (i = 0; i < n; i++) {
		strcat(out, names[i]);
		strcat(out, "\n");
		free(names[i]);
	}
	return (out);
}

#endif
