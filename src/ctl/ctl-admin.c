/* SPDX-License-Identifier: ISC */
/*
 * ctl-admin.c: kmsauthzctl's admin commands.  One command per admin API
 * call, named like it and taking its parameters by their API names, as
 * the cloud CLI does:
 *
 *	kmsauthzctl SetKeyPolicy --KeyId key-... --PolicyName default \
 *	    --Policy file://policy.json
 *
 * A value "file://PATH" is read from PATH ("file://-": standard input);
 * anything else is taken as given.  The answer (the API's JSON) goes to
 * standard output.  Also `keygen`, which makes an Ed25519 key pair for
 * signed requests.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "admin/admin.h"
#include "common/xmalloc.h"
#include "ctl/ctl-admin.h"
#include "ctl/ctl.h"
#include "proto/proto.h"

#define CTL_ADMIN_TIMEOUT_MS	30000
#define CTL_VALUE_MAX		(16 * 1024 * 1024)

static void	ctl_admin_help(FILE *, const struct admin_api *);
static int	ctl_admin_connect(const char *);
static int	ctl_write_all(int, const uint8_t *, size_t);
static int	ctl_read_all(int, uint8_t *, size_t);
static char	*ctl_admin_value(const char *, size_t *);

const char *
ctl_admin_socket_path(const char *opt)
{
	const char	*s;

	if (opt != NULL)
		return (opt);
	if ((s = getenv("KMSAUTHZ_ADMIN_SOCKET")) != NULL && *s != '\0')
		return (s);
	return (KMSAUTHZ_RUNDIR "/admin.sock");
}

static void
ctl_admin_help(FILE *f, const struct admin_api *api)
{
	const struct admin_param	*p;
	size_t				 i;

	fprintf(f, "usage: kmsauthzctl %s", api->name);
	for (p = api->params; p->name != NULL; p++)
		fprintf(f, p->required ? " --%s VALUE" : " [--%s VALUE]",
		    p->name);
	fprintf(f, "\n\n%s.%s\n\n", api->summary,
	    (api->flags & ADMIN_F_SUPERUSER) ? "" :
	    (api->flags & ADMIN_F_KMS) ? " Authorized as kms:<call>." :
	    (api->flags & ADMIN_F_RAM) ? " Authorized as ram:<call>." : "");
	for (p = api->params; p->name != NULL; p++) {
		fprintf(f, "  --%-22s %s%s", p->name, p->required ?
		    "(required) " : "", p->help);
		if (p->type == ADMIN_P_INT)
			fprintf(f, " [%lld-%lld]", (long long)p->min,
			    (long long)p->max);
		if (p->values != NULL) {
			fprintf(f, " [");
			for (i = 0; p->values[i] != NULL; i++)
				fprintf(f, "%s%s", i ? "|" : "",
				    p->values[i]);
			fprintf(f, "]");
		}
		fprintf(f, "\n");
	}
	fprintf(f, "\nCommon options:\n"
	    "  --socket PATH            the admin socket "
	    "($KMSAUTHZ_ADMIN_SOCKET)\n"
	    "  --sign-key FILE          sign the request with this secret key "
	    "($KMSAUTHZ_ADMIN_KEY)\n"
	    "  --help, -h               this text\n"
	    "--Name=VALUE is --Name VALUE; a parameter may be given once.\n"
	    "A VALUE of file://PATH is read from PATH (file://- : standard "
	    "input).\nExit status: 0 success, 1 the call failed (the "
	    "answer has a Code), 2 usage,\nI/O or connection error.\n");
}

/* The value of an option: file://PATH or the text itself. */
static char *
ctl_admin_value(const char *arg, size_t *lenp)
{
	if (strncmp(arg, "file://", 7) == 0)
		return (ctl_read_file(arg + 7, CTL_VALUE_MAX, lenp));
	*lenp = strlen(arg);
	return (xstrdup(arg));
}

static int
ctl_admin_connect(const char *path)
{
	struct sockaddr_un	sun;
	int			fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		fprintf(stderr, "kmsauthzctl: %s: path too long\n", path);
		return (-1);
	}
	memcpy(sun.sun_path, path, strlen(path) + 1);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1 ||
	    connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		ctl_connect_error(path, errno);
		if (fd != -1)
			close(fd);
		return (-1);
	}
	return (fd);
}

static int
ctl_write_all(int fd, const uint8_t *p, size_t len)
{
	ssize_t	n;

	while (len > 0) {
		if ((n = send(fd, p, len, MSG_NOSIGNAL)) == -1) {
			if (errno == EINTR)
				continue;
			return (-1);
		}
		p += n;
		len -= (size_t)n;
	}
	return (0);
}

static int
ctl_read_all(int fd, uint8_t *p, size_t len)
{
	struct pollfd	pfd;
	ssize_t		n;

	while (len > 0) {
		pfd.fd = fd;
		pfd.events = POLLIN;
		if ((n = poll(&pfd, 1, CTL_ADMIN_TIMEOUT_MS)) == -1 &&
		    errno == EINTR)
			continue;
		if (n <= 0) {
			errno = n == 0 ? ETIMEDOUT : errno;
			return (-1);
		}
		if ((n = read(fd, p, len)) == -1) {
			if (errno == EINTR)
				continue;
			return (-1);
		}
		if (n == 0) {
			errno = ECONNRESET;
			return (-1);
		}
		p += n;
		len -= (size_t)n;
	}
	return (0);
}

/*
 * Send one ADMIN_REQUEST with body (signed when sk_b64 is not NULL) and
 * return the answer's JSON text (malloc'd) or NULL after a message.
 */
char *
ctl_admin_send(const char *sockpath, const char *sk_b64, const char *body,
    size_t len, size_t *outlenp)
{
	unsigned char		 blk[ADMIN_SIG_BLOCK_LEN];
	uint8_t			 hb[KMSAUTHZ_HDR_SIZE], *buf = NULL;
	struct proto_admin	 a;
	struct proto_error	 pe;
	struct proto_hdr	 h;
	struct proto_wr		 wr;
	size_t			 start, n;
	char			*out = NULL;
	int			 fd, r, werr;

	memset(&a, 0, sizeof(a));
	a.json.ptr = body;
	a.json.len = len;
	if (sk_b64 != NULL) {
		if (admin_sign_block(sk_b64, (int64_t)time(NULL), body, len,
		    blk) != 0) {
			fprintf(stderr, "kmsauthzctl: the signing key is not "
			    "a base64 Ed25519 secret key\n");
			return (NULL);
		}
		a.flags = KMSAUTHZ_ADMIN_SIGNED;
		a.signature.ptr = (const char *)blk;
		a.signature.len = sizeof(blk);
	}
	proto_wr_init(&wr, NULL, 0);
	start = proto_frame_begin(&wr, KMSAUTHZ_MSG_ADMIN_REQUEST, 1);
	proto_admin_encode(&wr, &a);
	proto_frame_end(&wr, start);
	if (wr.err != 0) {
		fprintf(stderr, "kmsauthzctl: request too large: %zu bytes of "
		    "JSON, and one admin frame carries at most %d bytes; a "
		    "larger bundle goes in with kmsauthzctl import --db DIR "
		    "(the daemon stopped), or fleet push --db DIR\n", len,
		    KMSAUTHZ_MAX_ADMIN_BODY);
		return (NULL);
	}
	n = wr.off;
	buf = xmalloc(n);
	proto_wr_init(&wr, buf, n);
	start = proto_frame_begin(&wr, KMSAUTHZ_MSG_ADMIN_REQUEST, 1);
	proto_admin_encode(&wr, &a);
	proto_frame_end(&wr, start);

	if ((fd = ctl_admin_connect(sockpath)) == -1) {
		free(buf);
		return (NULL);
	}
	/*
	 * A refused connection (BUSY at accept) was sent an ERROR frame and
	 * closed: the write may fail, yet that frame says why.
	 */
	werr = ctl_write_all(fd, buf, n) != 0 ? errno : 0;
	if (ctl_read_all(fd, hb, sizeof(hb)) != 0) {
		ctl_connect_error(sockpath, werr != 0 ? werr : errno);
		goto out;
	}
	free(buf);
	buf = NULL;
	if ((r = proto_hdr_decode(hb, sizeof(hb), &h)) != 0) {
		fprintf(stderr, "kmsauthzctl: bad answer header (%d)\n", r);
		goto out;
	}
	buf = xmalloc(h.len + 1);
	if (ctl_read_all(fd, buf, h.len) != 0) {
		ctl_connect_error(sockpath, errno);
		goto out;
	}
	if (h.type == KMSAUTHZ_MSG_ERROR &&
	    proto_error_decode(buf, h.len, &pe) == 0) {
		fprintf(stderr, "kmsauthzctl: kmsauthzd at %s refused the "
		    "request: %.*s (error %u)\n", sockpath,
		    (int)pe.message.len, pe.message.ptr, (unsigned)pe.code);
		goto out;
	}
	if (h.type != KMSAUTHZ_MSG_ADMIN_RESPONSE ||
	    proto_admin_decode(buf, h.len, KMSAUTHZ_MAX_ADMIN_REPLY_BODY,
	    &a) != 0) {
		fprintf(stderr, "kmsauthzctl: malformed answer\n");
		goto out;
	}
	out = xmalloc(a.json.len + 1);
	memcpy(out, a.json.ptr, a.json.len);
	out[a.json.len] = '\0';
	*outlenp = a.json.len;
out:
	free(buf);
	close(fd);
	return (out);
}

int
ctl_admin_call(int argc, char **argv)
{
	const struct admin_api	*api;
	struct json_object	*req, *params, *ans, *code;
	const char		*sock = NULL, *keyfile, *body, *opt, *arg;
	char			*val, *sk = NULL, *answer, *eq;
	char			 name[128];
	unsigned char		 seen[ADMIN_MAX_PARAMS];
	size_t			 len, i;
	int			 idx, ret = CTL_EXIT_ERROR, k;

	if ((api = admin_api_find(argv[0])) == NULL) {
		fprintf(stderr, "kmsauthzctl: unknown call %s\n", argv[0]);
		return (CTL_EXIT_ERROR);
	}
	memset(seen, 0, sizeof(seen));
	keyfile = getenv("KMSAUTHZ_ADMIN_KEY");
	req = json_object_new_object();
	params = json_object_new_object();
	json_object_object_add(req, "Action", json_object_new_string(
	    api->name));
	for (k = 1; k < argc; k++) {
		if (strcmp(argv[k], "--help") == 0 ||
		    strcmp(argv[k], "-h") == 0) {
			ctl_admin_help(stdout, api);
			ret = CTL_EXIT_OK;
			goto out;
		}
		/* --Name VALUE or --Name=VALUE */
		if (strncmp(argv[k], "--", 2) != 0) {
			fprintf(stderr, "kmsauthzctl %s: expected --NAME "
			    "VALUE at '%s'\n", api->name, argv[k]);
			ctl_admin_help(stderr, api);
			goto out;
		}
		snprintf(name, sizeof(name), "%s", argv[k] + 2);
		if ((eq = strchr(name, '=')) != NULL) {
			*eq = '\0';
			arg = argv[k] + 2 + (eq - name) + 1;
		} else if (k + 1 < argc)
			arg = argv[++k];
		else {
			fprintf(stderr, "kmsauthzctl %s: --%s needs a value\n",
			    api->name, name);
			ctl_admin_help(stderr, api);
			goto out;
		}
		opt = name;
		if (strcmp(opt, "socket") == 0) {
			sock = arg;
			continue;
		}
		if (strcmp(opt, "sign-key") == 0) {
			keyfile = arg;
			continue;
		}
		if ((idx = admin_api_param_index(api, opt)) < 0) {
			fprintf(stderr, "kmsauthzctl %s: unknown parameter "
			    "--%s\n", api->name, opt);
			ctl_admin_help(stderr, api);
			goto out;
		}
		if (seen[idx]++) {
			fprintf(stderr, "kmsauthzctl %s: --%s given twice\n",
			    api->name, api->params[idx].name);
			goto out;
		}
		if ((val = ctl_admin_value(arg, &len)) == NULL)
			goto out;
		json_object_object_add(params, api->params[idx].name,
		    json_object_new_string_len(val, (int)len));
		free(val);
	}
	json_object_object_add(req, "Parameters", json_object_get(params));
	if (keyfile != NULL && *keyfile != '\0') {
		if ((sk = ctl_read_file(keyfile, 4096, &len)) == NULL)
			goto out;
		for (i = len; i > 0 && (sk[i - 1] == '\n' ||
		    sk[i - 1] == '\r' || sk[i - 1] == ' '); i--)
			sk[i - 1] = '\0';
	}
	body = json_object_to_json_string_length(req,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);
	answer = ctl_admin_send(ctl_admin_socket_path(sock), sk, body, len,
	    &len);
	if (answer == NULL)
		goto out;
	printf("%s\n", answer);
	ans = json_tokener_parse(answer);
	ret = ans != NULL && !json_object_object_get_ex(ans, "Code", &code) ?
	    CTL_EXIT_OK : CTL_EXIT_NO;
	json_object_put(ans);
	free(answer);
out:
	if (sk != NULL) {
		memset(sk, 0, strlen(sk));
		free(sk);
	}
	json_object_put(params);
	json_object_put(req);
	return (ret);
}

int
ctl_keygen(int argc, char **argv)
{
	char	pk[ADMIN_PK_B64_LEN + 1], sk[ADMIN_SK_B64_LEN + 1];
	FILE	*f;
	int	 fd;

	if (argc != 3 || strcmp(argv[1], "--out") != 0) {
		fprintf(argc == 2 && strcmp(argv[1], "--help") == 0 ?
		    stdout : stderr, "usage: kmsauthzctl keygen --out FILE\n"
		    "Makes an Ed25519 key pair: the secret key goes to FILE "
		    "(mode 0600, never\noverwritten), the public key to "
		    "standard output, as an admin.conf line.\n");
		return (argc == 2 && strcmp(argv[1], "--help") == 0 ?
		    CTL_EXIT_OK : CTL_EXIT_ERROR);
	}
	if (admin_sign_keygen(pk, sk) != 0) {
		fprintf(stderr, "kmsauthzctl: cannot make a key pair\n");
		return (CTL_EXIT_ERROR);
	}
	if ((fd = open(argv[2], O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
	    0600)) == -1 || (f = fdopen(fd, "w")) == NULL) {
		fprintf(stderr, "kmsauthzctl: %s: %s\n", argv[2],
		    strerror(errno));
		if (fd != -1)
			close(fd);
		memset(sk, 0, sizeof(sk));
		return (CTL_EXIT_ERROR);
	}
	fprintf(f, "%s\n", sk);
	memset(sk, 0, sizeof(sk));
	if (fclose(f) != 0) {
		fprintf(stderr, "kmsauthzctl: %s: %s\n", argv[2],
		    strerror(errno));
		return (CTL_EXIT_ERROR);
	}
	printf("key = %s PRINCIPAL-ARN-OR-superuser\n", pk);
	return (CTL_EXIT_OK);
}
