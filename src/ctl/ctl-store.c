/* SPDX-License-Identifier: ISC */
/*
 * ctl-store.c: kmsauthzctl import, export, backup and verify, working
 * on a store directory directly (--db DIR).  import takes the owner lock
 * like the daemon does, so it refuses a store a daemon holds; export,
 * backup and verify only read (one read transaction each) and work
 * beside a running daemon.  Every open walks and checks the whole of
 * data.mdb first (docs/storage.md), so a damaged store is refused, with
 * the database and the page named, before LMDB reads it.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl/ctl.h"
#include "policy/bundle.h"
#include "policy/policy.h"
#include "store/store.h"

static int	ctl_store_open(const char *, int, struct store **);

static int
ctl_store_open(const char *dir, int readonly, struct store **stp)
{
	struct store_opts	 o;
	char			*cause;

	memset(&o, 0, sizeof(o));
	o.readonly = readonly;
	o.create = !readonly;
	if (store_open(dir, &o, stp, &cause) != STORE_OK) {
		fprintf(stderr, "kmsauthzctl: %s\n", cause);
		free(cause);
		return (-1);
	}
	return (0);
}

/* Parses "--db DIR" (and --replace when replacep); optind at the rest. */
static int
ctl_store_args(int argc, char **argv, const char **dirp, int *replacep)
{
	static const struct option	 longopts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "replace", no_argument, NULL, 'r' },
		{ NULL, 0, NULL, 0 }
	};
	int				 ch;

	*dirp = NULL;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 'd':
			*dirp = optarg;
			break;
		case 'r':
			if (replacep == NULL)
				return (-1);
			*replacep = 1;
			break;
		default:
			return (-1);
		}
	}
	return (*dirp == NULL ? -1 : 0);
}

int
ctl_import(int argc, char **argv)
{
	struct policy_diags	 diags;
	struct bundle		*b = NULL;
	struct store		*st = NULL;
	const char		*dir;
	char			*text;
	size_t			 len, i;
	uint64_t		 gen;
	int			 replace = 0, rc;

	if (ctl_store_args(argc, argv, &dir, &replace) != 0 ||
	    argc - optind != 1) {
		fprintf(stderr, "usage: kmsauthzctl import --db DIR "
		    "[--replace] FILE|-\n");
		return (CTL_EXIT_ERROR);
	}
	if ((text = ctl_read_file(argv[optind], BUNDLE_MAX_BYTES,
	    &len)) == NULL)
		return (CTL_EXIT_ERROR);
	/* Validate everything before touching the store. */
	policy_diags_init(&diags);
	if (bundle_parse(text, len, 0, &b, &diags) != 0) {
		for (i = 0; i < diags.n; i++)
			fprintf(stderr, "%s: %s: %s (%s)\n", argv[optind],
			    diags.v[i].path[0] != '\0' ? diags.v[i].path :
			    "-", diags.v[i].reason, diags.v[i].code);
		if (diags.n == 0)
			fprintf(stderr, "%s: rejected\n", argv[optind]);
		policy_diags_free(&diags);
		free(text);
		return (CTL_EXIT_NO);
	}
	policy_diags_free(&diags);
	free(text);
	if (ctl_store_open(dir, 0, &st) != 0) {
		bundle_free(b);
		return (CTL_EXIT_ERROR);
	}
	if (!replace && !store_is_empty(st)) {
		fprintf(stderr, "kmsauthzctl: %s: the store is not empty; "
		    "use --replace to replace its whole state\n", dir);
		rc = CTL_EXIT_ERROR;
	} else if ((rc = store_replace_all(st, b, &gen)) != STORE_OK) {
		fprintf(stderr, "kmsauthzctl: %s: import failed: %s\n",
		    argv[optind], store_errmsg(st));
		rc = rc == STORE_EINVAL || rc == STORE_ELIMIT ||
		    rc == STORE_EEXIST ? CTL_EXIT_NO : CTL_EXIT_ERROR;
	} else {
		printf("imported %s into %s: generation %llu\n", argv[optind],
		    dir, (unsigned long long)gen);
		rc = CTL_EXIT_OK;
	}
	/* A failed import leaves no directory or file it created. */
	if (rc == CTL_EXIT_OK)
		store_close(st);
	else
		store_close_discard(st);
	bundle_free(b);
	return (rc);
}

int
ctl_export(int argc, char **argv)
{
	struct bundle	*b;
	struct store	*st;
	const char	*dir;
	char		*text;
	size_t		 len;
	int		 rc = CTL_EXIT_OK;

	if (ctl_store_args(argc, argv, &dir, NULL) != 0 || optind != argc) {
		fprintf(stderr, "usage: kmsauthzctl export --db DIR\n");
		return (CTL_EXIT_ERROR);
	}
	if (ctl_store_open(dir, 1, &st) != 0)
		return (CTL_EXIT_ERROR);
	if (store_to_bundle(st, &b) != STORE_OK) {
		fprintf(stderr, "kmsauthzctl: %s\n", store_errmsg(st));
		store_close(st);
		return (CTL_EXIT_ERROR);
	}
	store_close(st);
	if ((text = bundle_export(b, &len)) == NULL) {
		fprintf(stderr, "kmsauthzctl: out of memory\n");
		bundle_free(b);
		return (CTL_EXIT_ERROR);
	}
	bundle_free(b);
	if (fwrite(text, 1, len, stdout) != len || fflush(stdout) != 0) {
		fprintf(stderr, "kmsauthzctl: standard output: %s\n",
		    strerror(errno));
		rc = CTL_EXIT_ERROR;
	}
	free(text);
	return (rc);
}

int
ctl_backup(int argc, char **argv)
{
	struct store	*st;
	const char	*dir;
	int		 rc = CTL_EXIT_OK;

	if (ctl_store_args(argc, argv, &dir, NULL) != 0 ||
	    argc - optind != 1) {
		fprintf(stderr, "usage: kmsauthzctl backup --db DIR DEST\n");
		return (CTL_EXIT_ERROR);
	}
	if (ctl_store_open(dir, 1, &st) != 0)
		return (CTL_EXIT_ERROR);
	if (store_backup(st, argv[optind]) != STORE_OK) {
		fprintf(stderr, "kmsauthzctl: %s\n", store_errmsg(st));
		rc = CTL_EXIT_ERROR;
	} else
		printf("backed up %s to %s (generation %llu)\n", dir,
		    argv[optind], (unsigned long long)store_generation(st));
	store_close(st);
	return (rc);
}

/*
 * The whole check, like SQLite's integrity_check: the open's page walk
 * (every tree, every page), then store_check (every record decodes,
 * every policy compiles and matches its digest, every reference
 * resolves).  0 and "OK"; 1 and the problem when the store is damaged
 * or inconsistent; 2 when it cannot be opened at all.
 */
int
ctl_verify(int argc, char **argv)
{
	struct store_opts	 o;
	struct store		*st;
	const char		*dir;
	char			*cause;
	int			 rc;

	if (ctl_store_args(argc, argv, &dir, NULL) != 0 || optind != argc) {
		fprintf(stderr, "usage: kmsauthzctl verify --db DIR\n");
		return (CTL_EXIT_ERROR);
	}
	memset(&o, 0, sizeof(o));
	o.readonly = 1;
	if ((rc = store_open(dir, &o, &st, &cause)) != STORE_OK) {
		fprintf(stderr, "kmsauthzctl: %s\n", cause);
		free(cause);
		return (rc == STORE_ECORRUPT ? CTL_EXIT_NO : CTL_EXIT_ERROR);
	}
	if ((rc = store_check(st)) != STORE_OK) {
		fprintf(stderr, "kmsauthzctl: %s\n", store_errmsg(st));
		store_close(st);
		return (rc == STORE_ECORRUPT ? CTL_EXIT_NO : CTL_EXIT_ERROR);
	}
	store_close(st);
	if (puts("OK") == EOF || fflush(stdout) != 0) {
		fprintf(stderr, "kmsauthzctl: standard output: %s\n",
		    strerror(errno));
		return (CTL_EXIT_ERROR);
	}
	return (CTL_EXIT_OK);
}
