/*
 * kmsauthzctl: the control tool.  A table of commands, one function each
 * (OpenSMTPD's smtpctl shape); every command parses its own options.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "common/log.h"
#include "common/xmalloc.h"
#include "ctl/ctl.h"
#include "ctl/ctl-admin.h"

static int	ctl_version(int, char **);
static int	ctl_help(int, char **);

static const struct ctl_cmd ctl_cmds[] = {
	{ "help", ctl_help, "help" },
	{ "version", ctl_version, "version" },
	{ "check", ctl_check, "check --principal ARN --action A --resource ARN "
	    "[--source-ip IP] [--context KEY=VALUE]... [--time RFC3339] "
	    "[--explain] [--socket PATH] [--timeout MS]" },
	{ "ping", ctl_ping, "ping [--socket PATH] [--timeout MS]" },
	{ "status", ctl_status, "status [--socket PATH] [--timeout MS]" },
	{ "keygen", ctl_keygen, "keygen --out FILE" },
	{ "SetKeyPolicy", ctl_admin_call, "SetKeyPolicy [--Param VALUE ...]" },
	{ "GetKeyPolicy", ctl_admin_call, "GetKeyPolicy [--Param VALUE ...]" },
	{ "CreateInstance", ctl_admin_call, "CreateInstance [--Param VALUE ...]" },
	{ "UpdateInstanceState", ctl_admin_call, "UpdateInstanceState [--Param VALUE ...]" },
	{ "CreateKey", ctl_admin_call, "CreateKey [--Param VALUE ...]" },
	{ "DescribeKey", ctl_admin_call, "DescribeKey [--Param VALUE ...]" },
	{ "ListKeys", ctl_admin_call, "ListKeys [--Param VALUE ...]" },
	{ "EnableKey", ctl_admin_call, "EnableKey [--Param VALUE ...]" },
	{ "DisableKey", ctl_admin_call, "DisableKey [--Param VALUE ...]" },
	{ "ScheduleKeyDeletion", ctl_admin_call, "ScheduleKeyDeletion [--Param VALUE ...]" },
	{ "CancelKeyDeletion", ctl_admin_call, "CancelKeyDeletion [--Param VALUE ...]" },
	{ "TagResource", ctl_admin_call, "TagResource [--Param VALUE ...]" },
	{ "UntagResource", ctl_admin_call, "UntagResource [--Param VALUE ...]" },
	{ "ListResourceTags", ctl_admin_call, "ListResourceTags [--Param VALUE ...]" },
	{ "CreateAlias", ctl_admin_call, "CreateAlias [--Param VALUE ...]" },
	{ "UpdateAlias", ctl_admin_call, "UpdateAlias [--Param VALUE ...]" },
	{ "DeleteAlias", ctl_admin_call, "DeleteAlias [--Param VALUE ...]" },
	{ "ListAliases", ctl_admin_call, "ListAliases [--Param VALUE ...]" },
	{ "CreateUser", ctl_admin_call, "CreateUser [--Param VALUE ...]" },
	{ "DeleteUser", ctl_admin_call, "DeleteUser [--Param VALUE ...]" },
	{ "CreateRole", ctl_admin_call, "CreateRole [--Param VALUE ...]" },
	{ "DeleteRole", ctl_admin_call, "DeleteRole [--Param VALUE ...]" },
	{ "CreateGroup", ctl_admin_call, "CreateGroup [--Param VALUE ...]" },
	{ "DeleteGroup", ctl_admin_call, "DeleteGroup [--Param VALUE ...]" },
	{ "AddUserToGroup", ctl_admin_call, "AddUserToGroup [--Param VALUE ...]" },
	{ "RemoveUserFromGroup", ctl_admin_call, "RemoveUserFromGroup [--Param VALUE ...]" },
	{ "CreatePolicy", ctl_admin_call, "CreatePolicy [--Param VALUE ...]" },
	{ "GetPolicy", ctl_admin_call, "GetPolicy [--Param VALUE ...]" },
	{ "DeletePolicy", ctl_admin_call, "DeletePolicy [--Param VALUE ...]" },
	{ "ListPolicies", ctl_admin_call, "ListPolicies [--Param VALUE ...]" },
	{ "CreatePolicyVersion", ctl_admin_call, "CreatePolicyVersion [--Param VALUE ...]" },
	{ "SetDefaultPolicyVersion", ctl_admin_call, "SetDefaultPolicyVersion [--Param VALUE ...]" },
	{ "DeletePolicyVersion", ctl_admin_call, "DeletePolicyVersion [--Param VALUE ...]" },
	{ "ListPolicyVersions", ctl_admin_call, "ListPolicyVersions [--Param VALUE ...]" },
	{ "GetPolicyVersion", ctl_admin_call, "GetPolicyVersion [--Param VALUE ...]" },
	{ "AttachPolicyToUser", ctl_admin_call, "AttachPolicyToUser [--Param VALUE ...]" },
	{ "AttachPolicyToRole", ctl_admin_call, "AttachPolicyToRole [--Param VALUE ...]" },
	{ "AttachPolicyToGroup", ctl_admin_call, "AttachPolicyToGroup [--Param VALUE ...]" },
	{ "DetachPolicyFromUser", ctl_admin_call, "DetachPolicyFromUser [--Param VALUE ...]" },
	{ "DetachPolicyFromRole", ctl_admin_call, "DetachPolicyFromRole [--Param VALUE ...]" },
	{ "DetachPolicyFromGroup", ctl_admin_call, "DetachPolicyFromGroup [--Param VALUE ...]" },
	{ "ImportBundle", ctl_admin_call, "ImportBundle [--Param VALUE ...]" },
	{ "ExportBundle", ctl_admin_call, "ExportBundle [--Param VALUE ...]" },
	{ "Status", ctl_admin_call, "Status [--Param VALUE ...]" },
	{ "validate", ctl_validate,
	    "validate --kind key|ram [--max-bytes N] FILE|-" },
	{ "simulate", ctl_simulate, "simulate --bundle FILE (--principal ARN "
	    "--action A --resource ARN [--source-ip IP] [--context K=V]... "
	    "[--time T] | --requests FILE.jsonl|-) [--explain]" },
	{ "import", ctl_import, "import --db DIR [--replace] FILE|-" },
	{ "export", ctl_export, "export --db DIR" },
	{ "backup", ctl_backup, "backup --db DIR DEST" },
	{ "verify", ctl_verify, "verify --db DIR" },
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
