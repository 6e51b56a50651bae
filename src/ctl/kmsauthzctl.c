/*
 * kmsauthzctl: the control tool.  A table of commands, one function each
 * (OpenSMTPD's smtpctl shape); every command parses its own options.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/xmalloc.h"
#include "ctl/ctl.h"

static int	ctl_version(int, char **);
static int	ctl_help(int, char **);

static const struct ctl_cmd ctl_cmds[] = {
	{ "help", ctl_help, "help" },
	{ "version", ctl_version, "version" },
};
#define CTL_NCMDS (sizeof(ctl_cmds) / sizeof(ctl_cmds[0]))

static void
ctl_usage(FILE *f)
{
	size_t	i;

	fprintf(f, "usage:\n");
	for (i = 0; i < CTL_NCMDS; i++)
		fprintf(f, "  kmsauthzctl %s\n", ctl_cmds[i].usage);
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
main(int argc, char **argv)
{
	size_t	i;

	log_init("kmsauthzctl", 0, 0);
	if (argc < 2) {
		ctl_usage(stderr);
		return (CTL_EXIT_ERROR);
	}
	for (i = 0; i < CTL_NCMDS; i++) {
		if (strcmp(argv[1], ctl_cmds[i].name) == 0)
			return (ctl_cmds[i].fn(argc - 1, argv + 1));
	}
	fprintf(stderr, "kmsauthzctl: unknown command: %s\n", argv[1]);
	ctl_usage(stderr);
	return (CTL_EXIT_ERROR);
}
