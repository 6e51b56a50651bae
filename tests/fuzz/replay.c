/* SPDX-License-Identifier: ISC */
/*
 * replay.c: runs a fuzz target's LLVMFuzzerTestOneInput over files and
 * directories of files, without libFuzzer, so that `make check` replays
 * every corpus with the normal (gcc or ASan) build.  Each input is given
 * in a buffer of exactly its length, so an overread shows under ASan.
 *
 * usage: replay-NAME FILE|DIR ...   Prints the number of inputs run;
 * exit 0 when every input ran (a crash or sanitizer report ends the
 * process), 1 on an unreadable input or no input at all.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"

#define REPLAY_MAX	(16 * 1024 * 1024)

static int	replay_file(const char *);
static int	replay_dir(const char *);
static int	replay_cmp(const void *, const void *);

static unsigned long	replay_count;

static int
replay_file(const char *path)
{
	FILE		*f;
	struct stat	 st;
	uint8_t		*buf;
	size_t		 len;

	if ((f = fopen(path, "rb")) == NULL || fstat(fileno(f), &st) == -1) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		if (f != NULL)
			fclose(f);
		return (-1);
	}
	if (st.st_size < 0 || st.st_size > REPLAY_MAX) {
		fprintf(stderr, "replay: %s: too large\n", path);
		fclose(f);
		return (-1);
	}
	len = (size_t)st.st_size;
	/* malloc(0) may return NULL; an empty input is still run. */
	if ((buf = malloc(len > 0 ? len : 1)) == NULL ||
	    fread(buf, 1, len, f) != len) {
		fprintf(stderr, "replay: %s: read failed\n", path);
		free(buf);
		fclose(f);
		return (-1);
	}
	fclose(f);
	(void)LLVMFuzzerTestOneInput(buf, len);
	free(buf);
	replay_count++;
	return (0);
}

static int
replay_cmp(const void *a, const void *b)
{
	return (strcmp(*(char *const *)a, *(char *const *)b));
}

static int
replay_dir(const char *path)
{
	DIR		*d;
	struct dirent	*de;
	char		**names = NULL, **nn, full[4096];
	size_t		 n = 0, i;
	int		 rc = 0;

	if ((d = opendir(path)) == NULL) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		return (-1);
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if ((nn = realloc(names, (n + 1) * sizeof(*names))) == NULL ||
		    (nn[n] = strdup(de->d_name)) == NULL) {
			fprintf(stderr, "replay: out of memory\n");
			exit(1);
		}
		names = nn;
		n++;
	}
	closedir(d);
	if (n > 0)
		qsort(names, n, sizeof(*names), replay_cmp);
	for (i = 0; i < n; i++) {
		if ((size_t)snprintf(full, sizeof(full), "%s/%s", path,
		    names[i]) >= sizeof(full)) {
			fprintf(stderr, "replay: %s/%s: path too long\n", path,
			    names[i]);
			rc = -1;
		} else if (replay_file(full) == -1)
			rc = -1;
		free(names[i]);
	}
	free(names);
	return (rc);
}

int
main(int argc, char **argv)
{
	struct stat	st;
	int		i, rc = 0;

	if (LLVMFuzzerInitialize != NULL)
		(void)LLVMFuzzerInitialize(&argc, &argv);
	if (argc < 2) {
		fprintf(stderr, "usage: %s FILE|DIR ...\n", argv[0]);
		return (1);
	}
	for (i = 1; i < argc; i++) {
		if (stat(argv[i], &st) == -1) {
			fprintf(stderr, "replay: %s: %s\n", argv[i],
			    strerror(errno));
			rc = 1;
		} else if (S_ISDIR(st.st_mode)) {
			if (replay_dir(argv[i]) == -1)
				rc = 1;
		} else if (replay_file(argv[i]) == -1)
			rc = 1;
	}
	printf("%lu inputs\n", replay_count);
	if (replay_count == 0)
		rc = 1;
	return (rc);
}
