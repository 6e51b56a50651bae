/* SPDX-License-Identifier: ISC */
/*
 * fuzz-admin.c: the admin socket's request path on arbitrary bytes,
 * through the real admin plane (admin_handle) over a real store seeded
 * with the example bundle, in a temporary directory (/dev/shm when
 * there is one: fsync is cheap there).
 *
 * Byte 0 picks the caller and the form:
 *   bits 0-1  the peer: 0 root (superuser), 1 uid 1000 (mapped to a
 *             RAM user the example key policy lets administer one key),
 *             2 uid 4242 (not an administrator), 3 uid 1001 (mapped
 *             superuser);
 *   bit 2     the rest is an ADMIN_REQUEST frame body (flags, JSON,
 *             signature block when flagged), decoded the way the daemon
 *             does; otherwise the rest is the JSON body itself;
 *   bit 3     sign the JSON validly with the configured key (uid 4242's
 *             peer then counts for nothing), and send it twice: the
 *             second must be refused as a replay.
 * Invariants:
 *   - every request gets a JSON answer with a 36-character RequestId;
 *   - an error answer has a known Code and its HttpStatus;
 *   - an error changes nothing (the store's generation stays), and after
 *     any change the store passes its consistency check;
 *   - an unmapped peer's unsigned request is refused;
 *   - nothing leaks (ASan).
 * The store is put back to the seed whenever a request changed it, so
 * every input starts from the same state.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>
#include <sodium.h>

#include "admin/admin-exec.h"
#include "admin/admin.h"
#include "policy/bundle.h"
#include "policy/policy.h"
#include "proto/proto.h"
#include "store/store.h"
#include "fuzz.h"
#include "fuzz-world.h"

#define FUZZ_ADMIN_MAX	(256 * 1024)
#define FUZZ_ADMIN_USER	"acs:ram::1192853035118888:user/for_test_policy"

static struct store	*fuzz_st;
static struct admin_ctx	*fuzz_ctx;
static struct bundle	*fuzz_seed;
static uint64_t		 fuzz_gen;
static char		 fuzz_dir[256];
static char		 fuzz_sk[ADMIN_SK_B64_LEN + 1];

static void	fuzz_cleanup(void);
static void	fuzz_setup(void);
static void	fuzz_reset(void);
static int	fuzz_answer(struct json_object *);

static void
fuzz_cleanup(void)
{
	DIR		*d;
	struct dirent	*de;
	char		 p[512];

	admin_ctx_free(fuzz_ctx);
	store_close(fuzz_st);
	bundle_free(fuzz_seed);
	if (fuzz_dir[0] == '\0' || (d = opendir(fuzz_dir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "%s/%s", fuzz_dir, de->d_name);
		unlink(p);
	}
	closedir(d);
	rmdir(fuzz_dir);
}

static void
fuzz_setup(void)
{
	struct admin_conf	 ac;
	struct store_opts	 so;
	struct policy_diags	 d;
	unsigned char		 seed[crypto_sign_SEEDBYTES];
	unsigned char		 pk[crypto_sign_PUBLICKEYBYTES];
	unsigned char		 sk[crypto_sign_SECRETKEYBYTES];
	char			 pkb[ADMIN_PK_B64_LEN + 1], line[512];
	char			 err[1024], *cause = NULL, *text;
	const char		*path, *base;
	size_t			 len;
	struct stat		 sb;

	if (sodium_init() < 0)
		abort();
	base = stat("/dev/shm", &sb) == 0 && access("/dev/shm", W_OK) == 0 ?
	    "/dev/shm" : "/tmp";
	snprintf(fuzz_dir, sizeof(fuzz_dir), "%s/kz-fuzz-admin.XXXXXX", base);
	if (mkdtemp(fuzz_dir) == NULL)
		abort();
	atexit(fuzz_cleanup);

	if ((path = getenv("KMSAUTHZ_FUZZ_BUNDLE")) == NULL)
		path = FUZZ_BUNDLE;
	policy_diags_init(&d);
	if ((text = fuzz_read_file(path, &len)) == NULL ||
	    bundle_parse(text, len, 0, &fuzz_seed, &d) != 0)
		abort();
	free(text);
	policy_diags_free(&d);

	memset(&so, 0, sizeof(so));
	so.create = 1;
	so.map_size = 4u << 20;
	so.map_max = 256u << 20;
	if (store_open(fuzz_dir, &so, &fuzz_st, &cause) != STORE_OK) {
		fprintf(stderr, "fuzz-admin: %s\n", cause);
		abort();
	}
	if (store_replace_all(fuzz_st, fuzz_seed, NULL) != STORE_OK ||
	    store_load(fuzz_st) != STORE_OK)
		abort();
	fuzz_gen = store_generation(fuzz_st);

	/* A fixed key pair, so that a crash input replays. */
	memset(seed, 0x5a, sizeof(seed));
	crypto_sign_seed_keypair(pk, sk, seed);
	sodium_bin2base64(pkb, sizeof(pkb), pk, sizeof(pk),
	    sodium_base64_VARIANT_ORIGINAL);
	sodium_bin2base64(fuzz_sk, sizeof(fuzz_sk), sk, sizeof(sk),
	    sodium_base64_VARIANT_ORIGINAL);

	admin_conf_defaults(&ac);
	ac.audit_file[0] = '\0';	/* audit records go to the log */
	if (admin_conf_set(&ac, "account", "1192853035118888", err,
	    sizeof(err)) != 0 ||
	    admin_conf_set(&ac, "uid", "1000 " FUZZ_ADMIN_USER, err,
	    sizeof(err)) != 0 ||
	    admin_conf_set(&ac, "uid", "1001 superuser", err,
	    sizeof(err)) != 0)
		abort();
	snprintf(line, sizeof(line), "%s %s", pkb, FUZZ_ADMIN_USER);
	if (admin_conf_set(&ac, "key", line, err, sizeof(err)) != 0)
		abort();
	if ((fuzz_ctx = admin_ctx_new(&ac, fuzz_st, err, sizeof(err))) ==
	    NULL) {
		fprintf(stderr, "fuzz-admin: %s\n", err);
		abort();
	}
}

static void
fuzz_reset(void)
{
	if (store_generation(fuzz_st) == fuzz_gen)
		return;
	if (store_check(fuzz_st) != STORE_OK) {
		fprintf(stderr, "fuzz-admin: %s\n", store_errmsg(fuzz_st));
		abort();
	}
	if (store_replace_all(fuzz_st, fuzz_seed, &fuzz_gen) != STORE_OK)
		abort();
}

/* 1 when the answer is an error, 0 when not; aborts when malformed. */
static int
fuzz_answer(struct json_object *o)
{
	struct json_object	*v;
	enum admin_err		 e;

	if (o == NULL || !json_object_is_type(o, json_type_object) ||
	    !json_object_object_get_ex(o, "RequestId", &v) ||
	    json_object_get_string_len(v) != ADMIN_REQUEST_ID_LEN)
		abort();
	if (!json_object_object_get_ex(o, "Code", &v))
		return (0);
	if (admin_err_parse(json_object_get_string(v), &e) != 0 ||
	    e == ADMIN_OK ||
	    !json_object_object_get_ex(o, "HttpStatus", &v) ||
	    json_object_get_int(v) != admin_err_http(e) ||
	    json_object_to_json_string(o) == NULL)
		abort();
	return (1);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const long	 uids[] = { 0, 1000, 4242, 1001 };
	struct admin_peer	 peer;
	struct proto_admin	 frame;
	struct json_object	*o;
	unsigned char		 block[ADMIN_SIG_BLOCK_LEN];
	const char		*json;
	const void		*sig = NULL;
	size_t			 jlen, siglen = 0;
	uint64_t		 gen;
	int			 err;

	if (size < 2 || size > FUZZ_ADMIN_MAX)
		return (0);
	if (fuzz_ctx == NULL)
		fuzz_setup();
	peer.uid = uids[data[0] & 3];
	peer.gid = peer.uid;
	peer.pid = 1;
	if (data[0] & 4) {
		if (proto_admin_decode(data + 1, size - 1,
		    KMSAUTHZ_MAX_ADMIN_BODY, &frame) != 0)
			return (0);
		json = frame.json.ptr;
		jlen = frame.json.len;
		if (frame.flags & KMSAUTHZ_ADMIN_SIGNED) {
			sig = frame.signature.ptr;
			siglen = frame.signature.len;
		}
	} else {
		json = (const char *)data + 1;
		jlen = size - 1;
	}
	if (data[0] & 8) {
		if (admin_sign_block(fuzz_sk, (int64_t)time(NULL), json, jlen,
		    block) != 0)
			abort();
		sig = block;
		siglen = sizeof(block);
	}

	gen = store_generation(fuzz_st);
	o = admin_handle(fuzz_ctx, &peer, json, jlen, sig, siglen);
	err = fuzz_answer(o);
	json_object_put(o);
	if (err && store_generation(fuzz_st) != gen)
		abort();		/* refused or failed, yet changed */
	if (peer.uid == 4242 && sig == NULL && !err)
		abort();		/* an unmapped peer got through */
	if (data[0] & 8) {
		/* The same signed request again: a replay. */
		gen = store_generation(fuzz_st);
		o = admin_handle(fuzz_ctx, &peer, json, jlen, sig, siglen);
		err = fuzz_answer(o);
		json_object_put(o);
		if (!err || store_generation(fuzz_st) != gen)
			abort();
	}
	fuzz_reset();
	return (0);
}
