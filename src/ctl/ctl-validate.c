/* SPDX-License-Identifier: ISC */
/*
 * ctl-validate.c: kmsauthzctl validate --kind key|ram [--max-bytes N]
 * [--account ACCOUNT] [--strict] FILE
 *
 * Checks a policy document offline, with the daemon's own validator.
 * Prints one line per violation: CODE, PATH ("-" for the document as a
 * whole) and REASON, separated by tabs; or, for a valid document, one
 * WARNING<TAB>CODE<TAB>PATH<TAB>REASON line per warning (policy_lint)
 * and then "OK".  Exit 0 valid (warnings or not), 1 invalid (or, with
 * --strict, warned about), 2 usage or I/O error.
 */
#include <errno.h>
#include <getopt.h>

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl/ctl.h"
#include "policy/policy.h"

/* Far above any limit: larger input is an I/O error, not a document. */
#define CTL_VALIDATE_READ_MAX	(16 * 1024 * 1024)

static void
ctl_validate_usage(void)
{
	fprintf(stderr, "usage: kmsauthzctl validate --kind key|ram "
	    "[--max-bytes N] [--account ACCOUNT] [--strict] FILE|-\n");
}

int
ctl_validate(int argc, char **argv)
{
	static const struct option	 opts[] = {
		{ "kind", required_argument, NULL, 'k' },
		{ "max-bytes", required_argument, NULL, 'm' },
		{ "account", required_argument, NULL, 'a' },
		{ "strict", no_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 }
	};
	struct policy_diags	 diags, warns;
	struct json_object	*doc = NULL;
	const char		*account = NULL;
	int			 strict = 0;
	enum policy_kind	 kind = POLICY_KIND_KEY;
	const char		*kindarg = NULL;
	char			*text, *end;
	size_t			 len, i, max = 0;
	unsigned long long	 ull;
	int			 ch, rc;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "k:m:", opts, NULL)) != -1) {
		switch (ch) {
		case 'a':
			if (*optarg == '\0' || strspn(optarg, "0123456789") !=
			    strlen(optarg)) {
				fprintf(stderr, "kmsauthzctl: --account: "
				    "expected an account id (digits)\n");
				return (CTL_EXIT_ERROR);
			}
			account = optarg;
			break;
		case 's':
			strict = 1;
			break;
		case 'k':
			kindarg = optarg;
			break;
		case 'm':
			errno = 0;
			ull = strtoull(optarg, &end, 10);
			if (optarg[0] < '0' || optarg[0] > '9' ||
			    *end != '\0' || errno != 0 || ull == 0 ||
			    ull > CTL_VALIDATE_READ_MAX) {
				fprintf(stderr, "kmsauthzctl: --max-bytes: "
				    "expected 1 to %d\n",
				    CTL_VALIDATE_READ_MAX);
				return (CTL_EXIT_ERROR);
			}
			max = (size_t)ull;
			break;
		default:
			ctl_validate_usage();
			return (CTL_EXIT_ERROR);
		}
	}
	if (kindarg == NULL || argc - optind != 1) {
		ctl_validate_usage();
		return (CTL_EXIT_ERROR);
	}
	if (strcmp(kindarg, "key") == 0)
		kind = POLICY_KIND_KEY;
	else if (strcmp(kindarg, "ram") == 0)
		kind = POLICY_KIND_RAM;
	else {
		fprintf(stderr, "kmsauthzctl: --kind: expected key or ram\n");
		return (CTL_EXIT_ERROR);
	}
	if (kind == POLICY_KIND_KEY && max != 0 && max != POLICY_KEY_MAX_BYTES) {
		fprintf(stderr, "kmsauthzctl: --max-bytes applies to RAM "
		    "policies only (a key policy's limit is %d bytes)\n",
		    POLICY_KEY_MAX_BYTES);
		return (CTL_EXIT_ERROR);
	}
	if (max == 0)
		max = kind == POLICY_KIND_KEY ? POLICY_KEY_MAX_BYTES :
		    POLICY_RAM_MAX_BYTES_DEFAULT;
	if ((text = ctl_read_file(argv[optind], CTL_VALIDATE_READ_MAX,
	    &len)) == NULL)
		return (CTL_EXIT_ERROR);
	policy_diags_init(&diags);
	policy_diags_init(&warns);
	if (policy_validate(kind, text, len, max, "", &doc, &diags) == 0) {
		if (policy_lint(kind, doc, account, &warns) != 0) {
			fprintf(stderr, "kmsauthzctl: out of memory\n");
			rc = CTL_EXIT_ERROR;
		} else
			rc = strict && warns.n > 0 ? CTL_EXIT_NO : CTL_EXIT_OK;
		for (i = 0; i < warns.n; i++)
			printf("WARNING\t%s\t%s\t%s\n", warns.v[i].code,
			    warns.v[i].path[0] != '\0' ? warns.v[i].path : "-",
			    warns.v[i].reason);
		printf("OK\n");
		json_object_put(doc);
	} else {
		for (i = 0; i < diags.n; i++)
			printf("%s\t%s\t%s\n", diags.v[i].code,
			    diags.v[i].path[0] != '\0' ? diags.v[i].path : "-",
			    diags.v[i].reason);
		rc = CTL_EXIT_NO;
	}
	policy_diags_free(&diags);
	policy_diags_free(&warns);
	free(text);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "kmsauthzctl: standard output: %s\n",
		    strerror(errno));
		return (CTL_EXIT_ERROR);
	}
	return (rc);
}
