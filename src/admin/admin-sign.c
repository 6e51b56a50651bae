/*
 * admin-sign.c: Ed25519-signed admin requests.  A key pair made by
 * `kmsauthzctl keygen`; the config maps public keys to principals (the
 * way an AccessKey names a RAM user).  The signature covers the whole
 * request body, a timestamp and a random nonce; a request outside the
 * +/-300 s window, whose nonce was already seen inside it, whose
 * signature fails or from an unknown key is refused.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <sodium.h>

#include "admin/admin.h"

#define ADMIN_SIGN_DOMAIN	"kmsauthz-admin-v1"
#define ADMIN_ENVELOPE_MAX	(33 * 1024 * 1024)
#define ADMIN_REPLAY_WAYS	8	/* entries per bucket */

struct admin_keyring_entry {
	unsigned char	 pk[crypto_sign_PUBLICKEYBYTES];
	char		*principal;
};

struct admin_keyring {
	struct admin_keyring_entry	*v;
	size_t				 n;
};

struct admin_replay_entry {
	unsigned char	nonce[ADMIN_NONCE_BYTES];
	int64_t		expires;	/* 0: free */
};

struct admin_replay {
	struct admin_replay_entry	*v;
	size_t				 nbuckets;
	unsigned char			 hkey[crypto_shorthash_KEYBYTES];
};

static int	admin_b64_decode(const char *, size_t, unsigned char *,
		    size_t);
static int	admin_hex_decode(const char *, size_t, unsigned char *,
		    size_t);
static void	admin_sign_canon(crypto_sign_state *, const char *, size_t,
		    int64_t, const unsigned char *);
static enum admin_sign_status admin_replay_check(struct admin_replay *,
		    int64_t, int64_t, const unsigned char *);

static const char * const admin_sign_names[] = {
	"ok", "not signed", "malformed signed request", "unknown key",
	"timestamp outside the allowed window", "bad signature",
	"nonce already seen (replay)", "replay cache full"
};

const char *
admin_sign_status_name(enum admin_sign_status s)
{
	if ((unsigned)s >= sizeof(admin_sign_names) /
	    sizeof(admin_sign_names[0]))
		return ("unknown");
	return (admin_sign_names[s]);
}

struct admin_keyring *
admin_keyring_new(void)
{
	return (calloc(1, sizeof(struct admin_keyring)));
}

void
admin_keyring_free(struct admin_keyring *kr)
{
	size_t	i;

	if (kr == NULL)
		return;
	for (i = 0; i < kr->n; i++)
		free(kr->v[i].principal);
	free(kr->v);
	free(kr);
}

size_t
admin_keyring_count(const struct admin_keyring *kr)
{
	return (kr->n);
}

static int
admin_b64_decode(const char *s, size_t len, unsigned char *out,
    size_t outlen)
{
	size_t	bin_len;

	if (sodium_base642bin(out, outlen, s, len, NULL, &bin_len, NULL,
	    sodium_base64_VARIANT_ORIGINAL) != 0 || bin_len != outlen)
		return (-1);
	return (0);
}

static int
admin_hex_decode(const char *s, size_t len, unsigned char *out,
    size_t outlen)
{
	size_t	bin_len;

	if (len != outlen * 2 || sodium_hex2bin(out, outlen, s, len, NULL,
	    &bin_len, NULL) != 0 || bin_len != outlen)
		return (-1);
	return (0);
}

int
admin_keyring_add(struct admin_keyring *kr, const char *pk_b64,
    const char *principal)
{
	struct admin_keyring_entry	*nv;
	unsigned char			 pk[crypto_sign_PUBLICKEYBYTES];
	size_t				 i;

	if (admin_b64_decode(pk_b64, strlen(pk_b64), pk, sizeof(pk)) != 0)
		return (-1);
	for (i = 0; i < kr->n; i++)
		if (sodium_memcmp(kr->v[i].pk, pk, sizeof(pk)) == 0)
			return (-1);
	if ((nv = reallocarray(kr->v, kr->n + 1, sizeof(*nv))) == NULL)
		return (-1);
	kr->v = nv;
	memcpy(nv[kr->n].pk, pk, sizeof(pk));
	if ((nv[kr->n].principal = strdup(principal)) == NULL)
		return (-1);
	kr->n++;
	return (0);
}

struct admin_replay *
admin_replay_new(size_t capacity)
{
	struct admin_replay	*rc;

	if (sodium_init() < 0)
		return (NULL);
	if ((rc = calloc(1, sizeof(*rc))) == NULL)
		return (NULL);
	rc->nbuckets = (capacity + ADMIN_REPLAY_WAYS - 1) / ADMIN_REPLAY_WAYS;
	if (rc->nbuckets == 0)
		rc->nbuckets = 1;
	if ((rc->v = calloc(rc->nbuckets * ADMIN_REPLAY_WAYS,
	    sizeof(*rc->v))) == NULL) {
		free(rc);
		return (NULL);
	}
	crypto_shorthash_keygen(rc->hkey);
	return (rc);
}

void
admin_replay_free(struct admin_replay *rc)
{
	if (rc == NULL)
		return;
	free(rc->v);
	free(rc);
}

/*
 * One bucket per nonce (keyed hash, so bucket choice is not steerable);
 * a live equal nonce is a replay; else the nonce takes a free or expired
 * slot; a bucket of live entries refuses (fail closed, never forget a
 * nonce still inside the window).
 */
static enum admin_sign_status
admin_replay_check(struct admin_replay *rc, int64_t now, int64_t ts,
    const unsigned char *nonce)
{
	unsigned char			 h[crypto_shorthash_BYTES];
	struct admin_replay_entry	*b, *slot = NULL;
	uint64_t			 hv;
	size_t				 i;

	crypto_shorthash(h, nonce, ADMIN_NONCE_BYTES, rc->hkey);
	memcpy(&hv, h, sizeof(hv));
	b = &rc->v[(hv % rc->nbuckets) * ADMIN_REPLAY_WAYS];
	for (i = 0; i < ADMIN_REPLAY_WAYS; i++) {
		if (b[i].expires != 0 && b[i].expires < now)
			b[i].expires = 0;	/* out of the window */
		if (b[i].expires == 0) {
			if (slot == NULL)
				slot = &b[i];
			continue;
		}
		if (sodium_memcmp(b[i].nonce, nonce, ADMIN_NONCE_BYTES) == 0)
			return (ADMIN_SIGN_REPLAYED);
	}
	if (slot == NULL)
		return (ADMIN_SIGN_CACHE_FULL);
	memcpy(slot->nonce, nonce, ADMIN_NONCE_BYTES);
	/* Past ts + window the timestamp check refuses it anyway. */
	slot->expires = ts + ADMIN_SIGN_WINDOW;
	if (slot->expires <= 0)
		slot->expires = 1;
	return (ADMIN_SIGN_OK);
}

static void
admin_put_be64(unsigned char *p, uint64_t v)
{
	int	i;

	for (i = 7; i >= 0; i--) {
		p[i] = v & 0xff;
		v >>= 8;
	}
}

static void
admin_sign_canon(crypto_sign_state *st, const char *body, size_t len,
    int64_t ts, const unsigned char *nonce)
{
	unsigned char	b[8];

	crypto_sign_init(st);
	crypto_sign_update(st, (const unsigned char *)ADMIN_SIGN_DOMAIN,
	    sizeof(ADMIN_SIGN_DOMAIN));		/* with its NUL */
	admin_put_be64(b, len);
	crypto_sign_update(st, b, sizeof(b));
	crypto_sign_update(st, (const unsigned char *)body, len);
	admin_put_be64(b, (uint64_t)ts);
	crypto_sign_update(st, b, sizeof(b));
	crypto_sign_update(st, nonce, ADMIN_NONCE_BYTES);
}

enum admin_sign_status
admin_sign_verify(const struct admin_keyring *kr, struct admin_replay *rc,
    int64_t now, const char *env, size_t len, char **bodyp, size_t *lenp,
    const char **principalp, char *pk_b64)
{
	struct json_tokener	*tok;
	struct json_object	*root, *sig, *f[5];
	static const char * const names[5] = {
		"Body", "Timestamp", "Nonce", "PublicKey", "Signature"
	};
	unsigned char		 pk[crypto_sign_PUBLICKEYBYTES];
	unsigned char		 sigb[crypto_sign_BYTES];
	unsigned char		 nonce[ADMIN_NONCE_BYTES];
	crypto_sign_state	 st;
	const struct admin_keyring_entry *ke = NULL;
	enum admin_sign_status	 s;
	const char		*body;
	size_t			 blen, i;
	int64_t			 ts;

	*bodyp = NULL;
	/* Cheap test first: a plain request starts with another member. */
	for (i = 0; i < len && (env[i] == ' ' || env[i] == '\t' ||
	    env[i] == '\n' || env[i] == '\r'); i++)
		;
	if (i == len || env[i] != '{' || memmem(env, len, "\"Signed\"", 8) ==
	    NULL)
		return (ADMIN_SIGN_NOT_SIGNED);
	if (len > ADMIN_ENVELOPE_MAX ||
	    (tok = json_tokener_new_ex(8)) == NULL)
		return (ADMIN_SIGN_MALFORMED);
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT |
	    JSON_TOKENER_VALIDATE_UTF8);
	root = json_tokener_parse_ex(tok, env, (int)len);
	if (root == NULL || json_tokener_get_error(tok) !=
	    json_tokener_success || json_tokener_get_parse_end(tok) != len) {
		json_tokener_free(tok);
		json_object_put(root);
		return (ADMIN_SIGN_MALFORMED);
	}
	json_tokener_free(tok);
	if (!json_object_is_type(root, json_type_object) ||
	    !json_object_object_get_ex(root, "Signed", &sig)) {
		json_object_put(root);
		return (ADMIN_SIGN_NOT_SIGNED);
	}
	s = ADMIN_SIGN_MALFORMED;
	if (json_object_object_length(root) != 1 ||
	    !json_object_is_type(sig, json_type_object) ||
	    json_object_object_length(sig) != 5)
		goto out;
	for (i = 0; i < 5; i++)
		if (!json_object_object_get_ex(sig, names[i], &f[i]))
			goto out;
	if (!json_object_is_type(f[0], json_type_string) ||
	    !json_object_is_type(f[1], json_type_int) ||
	    !json_object_is_type(f[2], json_type_string) ||
	    !json_object_is_type(f[3], json_type_string) ||
	    !json_object_is_type(f[4], json_type_string))
		goto out;
	body = json_object_get_string(f[0]);
	blen = (size_t)json_object_get_string_len(f[0]);
	ts = json_object_get_int64(f[1]);
	if (admin_hex_decode(json_object_get_string(f[2]),
	    json_object_get_string_len(f[2]), nonce, sizeof(nonce)) != 0 ||
	    admin_b64_decode(json_object_get_string(f[3]),
	    json_object_get_string_len(f[3]), pk, sizeof(pk)) != 0 ||
	    admin_b64_decode(json_object_get_string(f[4]),
	    json_object_get_string_len(f[4]), sigb, sizeof(sigb)) != 0)
		goto out;

	/* Every configured key is compared, in constant time each. */
	for (i = 0; i < kr->n; i++)
		if (sodium_memcmp(kr->v[i].pk, pk, sizeof(pk)) == 0)
			ke = &kr->v[i];
	if (ke == NULL) {
		s = ADMIN_SIGN_UNKNOWN_KEY;
		goto out;
	}
	if (ts < now - ADMIN_SIGN_WINDOW || ts > now + ADMIN_SIGN_WINDOW) {
		s = ADMIN_SIGN_STALE;
		goto out;
	}
	admin_sign_canon(&st, body, blen, ts, nonce);
	if (crypto_sign_final_verify(&st, sigb, pk) != 0) {
		s = ADMIN_SIGN_BAD_SIGNATURE;
		goto out;
	}
	if ((s = admin_replay_check(rc, now, ts, nonce)) != ADMIN_SIGN_OK)
		goto out;
	if ((*bodyp = malloc(blen + 1)) == NULL) {
		s = ADMIN_SIGN_MALFORMED;
		goto out;
	}
	memcpy(*bodyp, body, blen);
	(*bodyp)[blen] = '\0';
	*lenp = blen;
	*principalp = ke->principal;
	sodium_bin2base64(pk_b64, ADMIN_PK_B64_LEN + 1, pk, sizeof(pk),
	    sodium_base64_VARIANT_ORIGINAL);
out:
	json_object_put(root);
	return (s);
}

int
admin_sign_keygen(char pk_b64[ADMIN_PK_B64_LEN + 1],
    char sk_b64[ADMIN_SK_B64_LEN + 1])
{
	unsigned char	pk[crypto_sign_PUBLICKEYBYTES];
	unsigned char	sk[crypto_sign_SECRETKEYBYTES];

	if (sodium_init() < 0 || crypto_sign_keypair(pk, sk) != 0)
		return (-1);
	sodium_bin2base64(pk_b64, ADMIN_PK_B64_LEN + 1, pk, sizeof(pk),
	    sodium_base64_VARIANT_ORIGINAL);
	sodium_bin2base64(sk_b64, ADMIN_SK_B64_LEN + 1, sk, sizeof(sk),
	    sodium_base64_VARIANT_ORIGINAL);
	sodium_memzero(sk, sizeof(sk));
	return (0);
}

char *
admin_sign_wrap(const char *sk_b64, int64_t now, const char *body,
    size_t len, size_t *outlenp)
{
	unsigned char		 sk[crypto_sign_SECRETKEYBYTES];
	unsigned char		 sigb[crypto_sign_BYTES];
	unsigned char		 nonce[ADMIN_NONCE_BYTES];
	char			 pk_b64[ADMIN_PK_B64_LEN + 1];
	char			 sig_b64[sodium_base64_ENCODED_LEN(
				    crypto_sign_BYTES,
				    sodium_base64_VARIANT_ORIGINAL)];
	char			 nonce_hex[ADMIN_NONCE_BYTES * 2 + 1];
	crypto_sign_state	 st;
	struct json_object	*root = NULL, *sig;
	const char		*txt;
	char			*out = NULL;
	size_t			 tlen;

	if (sodium_init() < 0 ||
	    admin_b64_decode(sk_b64, strlen(sk_b64), sk, sizeof(sk)) != 0)
		return (NULL);
	randombytes_buf(nonce, sizeof(nonce));
	admin_sign_canon(&st, body, len, now, nonce);
	crypto_sign_final_create(&st, sigb, NULL, sk);
	/* The public key is the second half of libsodium's secret key. */
	sodium_bin2base64(pk_b64, sizeof(pk_b64), sk + 32, 32,
	    sodium_base64_VARIANT_ORIGINAL);
	sodium_memzero(sk, sizeof(sk));
	sodium_bin2base64(sig_b64, sizeof(sig_b64), sigb, sizeof(sigb),
	    sodium_base64_VARIANT_ORIGINAL);
	sodium_bin2hex(nonce_hex, sizeof(nonce_hex), nonce, sizeof(nonce));

	if ((root = json_object_new_object()) == NULL ||
	    (sig = json_object_new_object()) == NULL)
		goto out;
	json_object_object_add(root, "Signed", sig);
	if (json_object_object_add(sig, "Body",
	    json_object_new_string_len(body, (int)len)) != 0 ||
	    json_object_object_add(sig, "Timestamp",
	    json_object_new_int64(now)) != 0 ||
	    json_object_object_add(sig, "Nonce",
	    json_object_new_string(nonce_hex)) != 0 ||
	    json_object_object_add(sig, "PublicKey",
	    json_object_new_string(pk_b64)) != 0 ||
	    json_object_object_add(sig, "Signature",
	    json_object_new_string(sig_b64)) != 0)
		goto out;
	txt = json_object_to_json_string_length(root,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &tlen);
	if (txt != NULL && (out = malloc(tlen + 1)) != NULL) {
		memcpy(out, txt, tlen + 1);
		*outlenp = tlen;
	}
out:
	json_object_put(root);
	return (out);
}
