/* SPDX-License-Identifier: ISC */
/*
 * kmsauthzctl: the control tool.  A table of commands, one function each
 * (OpenSMTPD's smtpctl shape); every command parses its own options.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "admin/admin.h"
#include "common/log.h"
#include "common/xmalloc.h"
#include "ctl/ctl.h"
#include "ctl/ctl-admin.h"

static int	ctl_version(int, char **);
static int	ctl_help(int, char **);

/*
 * The local commands.  The admin API calls (SetKeyPolicy, ...) are not
 * listed: they come from the admin table (admin_api_find), one source
 * for the daemon and the tool.
 */
static const struct ctl_cmd ctl_cmds[] = {
	{ "help", ctl_help, "help",
	    "Lists the commands." },
	{ "version", ctl_version, "version",
	    "Prints the version." },
	{ "check", ctl_check, "check --principal ARN --action A --resource ARN "
	    "[--source-ip IP] [--context KEY=VALUE]... [--time RFC3339] "
	    "[--explain[=full]] [--min-generation N] [--socket PATH] "
	    "[--timeout MS]",
	    "Asks the daemon for one decision and prints it as JSON.\n"
	    "--min-generation N: decided at store generation N or later "
	    "(the answer\nthen shows its Generation), else the error "
	    "STALE.\n"
	    "Exit 0 ALLOW, 1 IMPLICIT_DENY or EXPLICIT_DENY, 2 an error "
	    "(usage,\nconnection, STALE, or an invalid-request answer)." },
	{ "ping", ctl_ping, "ping [--socket PATH] [--timeout MS]",
	    "Checks that the daemon answers on its query socket." },
	{ "status", ctl_status, "status [--socket PATH] "
	    "[--admin-socket PATH] [--timeout MS]",
	    "Shows both sockets' status: the query socket's counters "
	    "(\"Query\")\nand, when the admin socket lets the caller in, "
	    "the admin Status\n(\"Admin\", or \"AdminError\" saying why "
	    "not).  Exit 0 when the\nquery socket answered, 2 otherwise." },
	{ "query-status", ctl_query_status,
	    "query-status [--socket PATH] [--timeout MS]",
	    "The query socket's STATUS answer alone (any client may ask)." },
	{ "keygen", ctl_keygen, "keygen --out FILE",
	    "Makes an Ed25519 key pair for signed admin requests." },
	{ "validate", ctl_validate,
	    "validate --kind key|ram [--max-bytes N] [--account ACCOUNT] "
	    "[--strict] FILE|-",
	    "Validates a policy document offline: one CODE<TAB>PATH<TAB>REASON "
	    "line per\nerror (exit 1); for a valid document, one "
	    "WARNING<TAB>CODE<TAB>PATH<TAB>REASON\nline per likely mistake, "
	    "then OK (exit 0; 1 with --strict if warned)." },
	{ "simulate", ctl_simulate, "simulate --bundle FILE (--principal ARN "
	    "--action A --resource ARN [--source-ip IP] [--context K=V]... "
	    "[--time T] | --requests FILE.jsonl|-) [--explain[=full]]",
	    "Decides offline against a bundle file, as the daemon would." },
	{ "test", ctl_test, "test (--bundle FILE | --socket PATH) "
	    "[--timeout MS] [--junit FILE] CASES...",
	    "Runs policy tests: JSON lines of simulate requests with "
	    "\"Expect\"\n(and \"ExpectReason\"); each failure with its "
	    "explanation, then\n\"N passed, N failed\".  Exit 0 all "
	    "passed, 1 a failure, 2 an error\n(a bad case line: "
	    "FILE:LINE)." },
	{ "analyze", ctl_analyze, "analyze (who-can --resource ARN "
	    "[--action A] | what-can --principal ARN | impact (--KeyId ID "
	    "--Policy file://F | --PolicyName N [--Account ID] "
	    "--PolicyDocument file://F)) --bundle FILE",
	    "Who may do what on a bundle, over every context: principals "
	    "by ARN,\nconditional or not, with the conditions and the "
	    "statements; the\ngrants a policy change gains and loses "
	    "(docs/analysis.md)." },
	{ "import", ctl_import, "import --db DIR [--replace] FILE|-",
	    "Loads a bundle into a store that no daemon holds." },
	{ "export", ctl_export, "export --db DIR",
	    "Prints a store's whole state as a bundle." },
	{ "backup", ctl_backup, "backup --db DIR DEST",
	    "Copies a store to DEST, consistent, while it is in use." },
	{ "verify", ctl_verify, "verify --db DIR",
	    "Checks a store offline (every page, every record): OK and exit "
	    "0,\nor the problem, naming the table and page, and exit 1." },
	{ "fleet", ctl_fleet, "fleet (status [--socket ADMIN_SOCKET] | push "
	    "--db DIR --endpoints URLS [--prefix /P/] [--cacert F] [--cert F "
	    "--key F] [--user U --password-file F] [--timeout S] [--force])",
	    "fleet status: where this host stands in its fleet (the Status "
	    "answer's Fleet object; exit 0 when serving, 1 otherwise). fleet "
	    "push: a standalone store's every record into an empty fleet, as "
	    "a new data set switched to in one transaction (docs/fleet.md)." },
};
#define CTL_NCMDS (sizeof(ctl_cmds) / sizeof(ctl_cmds[0]))

static void
ctl_usage(FILE *f)
{
	const struct admin_api	*t;
	size_t			 i, n;

	fprintf(f, "usage: kmsauthzctl COMMAND [OPTIONS]   "
	    "(kmsauthzctl COMMAND --help: its options)\n\n"
	    "Commands:\n");
	for (i = 0; i < CTL_NCMDS; i++)
		fprintf(f, "  kmsauthzctl %s\n", ctl_cmds[i].usage);
	fprintf(f, "\nAdmin API calls (admin socket, "
	    "$KMSAUTHZ_ADMIN_SOCKET):\n");
	t = admin_api_table(&n);
	for (i = 0; i < n; i++)
		fprintf(f, "  kmsauthzctl %s [--Name VALUE | --Name=VALUE]..."
		    "\n", t[i].name);
	fprintf(f, "\nEnvironment: KMSAUTHZ_SOCKET (query socket), "
	    "KMSAUTHZ_ADMIN_SOCKET,\nKMSAUTHZ_ADMIN_KEY (signing key "
	    "file).  See kmsauthzctl(1).\n");
}

static int
ctl_help(int argc, char **argv)
{
	ctl_usage(stdout);
	return (CTL_EXIT_OK);
}

static int
ctl_version(int argc, char **argv)
{
	printf("kmsauthzctl %s\n", PACKAGE_VERSION);
	return (CTL_EXIT_OK);
}

/* -h or --help among a local command's arguments (not as a value). */
static int
ctl_wants_help(int argc, char **argv)
{
	int	i;

	if (argc > 1 && strcmp(argv[1], "-h") == 0)
		return (1);
	for (i = 1; i < argc; i++)
		if (strcmp(argv[i], "--help") == 0)
			return (1);
	return (0);
}

void
ctl_connect_error(const char *path, int errnum)
{
	const char	*why;

	switch (errnum) {
	case ENOENT:
	case ECONNREFUSED:
		why = "no daemon is listening there (is kmsauthzd running? "
		    "is this its socket?)";
		break;
	case EACCES:
	case EPERM:
		why = "permission denied (the caller may not use this "
		    "socket: query clients must be members of its group, "
		    "admin callers of admin_group or root)";
		break;
	case ECONNRESET:
	case EPIPE:
		why = "the daemon closed the connection (refused or dropped "
		    "it; see its log)";
		break;
	case ETIMEDOUT:
		why = "no answer in time";
		break;
	default:
		why = strerror(errnum);
		break;
	}
	fprintf(stderr, "kmsauthzctl: cannot connect to kmsauthzd at %s: "
	    "%s\n", path, why);
}

char *
ctl_read_file(const char *path, size_t max, size_t *lenp)
{
	FILE	*f;
	char	*buf;
	size_t	 len = 0, cap = 8192, n;

	if (strcmp(path, "-") == 0)
		f = stdin;
	else if ((f = fopen(path, "rb")) == NULL) {
		fprintf(stderr, "kmsauthzctl: %s: %s\n", path, strerror(errno));
		return (NULL);
	}
	buf = xmalloc(cap);
	for (;;) {
		if (len + 1 >= cap)
			buf = xreallocarray(buf, 2, cap), cap *= 2;
		n = fread(buf + len, 1, cap - len - 1, f);
		len += n;
		if (len > max) {
			fprintf(stderr, "kmsauthzctl: %s: larger than %zu "
			    "bytes\n", path, max);
			goto fail;
		}
		if (n == 0)
			break;
	}
	if (ferror(f)) {
		fprintf(stderr, "kmsauthzctl: %s: read error\n", path);
		goto fail;
	}
	if (f != stdin)
		fclose(f);
	buf[len] = '\0';
	*lenp = len;
	return (buf);
fail:
	if (f != stdin)
		fclose(f);
	free(buf);
	return (NULL);
}

int
ctl_json_print(struct json_object *o)
{
	const char	*s;

	if (o == NULL || (s = json_object_to_json_string_ext(o,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)) == NULL) {
		fprintf(stderr, "kmsauthzctl: out of memory\n");
		json_object_put(o);
		return (-1);
	}
	if (puts(s) == EOF) {
		fprintf(stderr, "kmsauthzctl: stdout: %s\n", strerror(errno));
		json_object_put(o);
		return (-1);
	}
	json_object_put(o);
	return (0);
}

int
main(int argc, char **argv)
{
	size_t	i;

	log_init("kmsauthzctl", 0, 0);
	/* A closed socket is an error to report, never a silent death. */
	signal(SIGPIPE, SIG_IGN);
	if (argc < 2) {
		ctl_usage(stderr);
		return (CTL_EXIT_ERROR);
	}
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)
		return (ctl_help(argc - 1, argv + 1));
	if (strcmp(argv[1], "-V") == 0 || strcmp(argv[1], "--version") == 0)
		return (ctl_version(argc - 1, argv + 1));
	for (i = 0; i < CTL_NCMDS; i++) {
		if (strcmp(argv[1], ctl_cmds[i].name) != 0)
			continue;
		if (ctl_wants_help(argc - 1, argv + 1)) {
			printf("usage: kmsauthzctl %s\n\n%s\n",
			    ctl_cmds[i].usage, ctl_cmds[i].help);
			return (CTL_EXIT_OK);
		}
		return (ctl_cmds[i].fn(argc - 1, argv + 1));
	}
	if (admin_api_find(argv[1]) != NULL)
		return (ctl_admin_call(argc - 1, argv + 1));
	fprintf(stderr, "kmsauthzctl: unknown command: %s\n", argv[1]);
	ctl_usage(stderr);
	return (CTL_EXIT_ERROR);
}
