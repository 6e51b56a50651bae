/* SPDX-License-Identifier: ISC */
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

#include <sodium.h>

#include "admin/admin.h"

#define ADMIN_SIGN_DOMAIN	"kmsauthz-admin-v1"
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
	int64_t				 floor;	/* refuse ts <= floor */
	unsigned char			 hkey[crypto_shorthash_KEYBYTES];
};

static int	admin_b64_decode(const char *, size_t, unsigned char *,
		    size_t);
static void	admin_sign_canon(crypto_sign_state *, const char *, size_t,
		    int64_t, const unsigned char *);
static enum admin_sign_status admin_replay_check(struct admin_replay *,
		    int64_t, int64_t, const unsigned char *);

static const char * const admin_sign_names[] = {
	"ok", "malformed signature block", "unknown key",
	"timestamp outside the allowed window", "bad signature",
	"nonce already seen (replay)", "replay cache full",
	("signed before the daemon started (it may have been seen by the "
	    "previous instance): sign it again")
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
admin_replay_set_floor(struct admin_replay *rc, int64_t floor)
{
	rc->floor = floor;
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
    int64_t now, const char *body, size_t len, const void *block,
    size_t blocklen, const char **principalp, char *pk_b64)
{
	const unsigned char	*b = block;
	const unsigned char	*nonce, *pk, *sig;
	const struct admin_keyring_entry *ke = NULL;
	crypto_sign_state	 st;
	enum admin_sign_status	 s;
	uint64_t		 u = 0;
	int64_t			 ts;
	size_t			 i;

	if (b == NULL || blocklen != ADMIN_SIG_BLOCK_LEN)
		return (ADMIN_SIGN_MALFORMED);
	for (i = 0; i < 8; i++)
		u = (u << 8) | b[i];
	ts = (int64_t)u;
	nonce = b + 8;
	pk = nonce + ADMIN_NONCE_BYTES;
	sig = pk + crypto_sign_PUBLICKEYBYTES;

	/* Every configured key is compared, in constant time each. */
	for (i = 0; i < kr->n; i++)
		if (sodium_memcmp(kr->v[i].pk, pk,
		    crypto_sign_PUBLICKEYBYTES) == 0)
			ke = &kr->v[i];
	if (ke == NULL)
		return (ADMIN_SIGN_UNKNOWN_KEY);
	if (ts < now - ADMIN_SIGN_WINDOW || ts > now + ADMIN_SIGN_AHEAD)
		return (ADMIN_SIGN_STALE);
	admin_sign_canon(&st, body, len, ts, nonce);
	if (crypto_sign_final_verify(&st, sig, pk) != 0)
		return (ADMIN_SIGN_BAD_SIGNATURE);
	/*
	 * The nonce cache does not survive a restart; the previous
	 * instance accepted nothing dated after its last second +
	 * ADMIN_SIGN_AHEAD, which the floor covers (the clock not stepped
	 * back across the restart).
	 */
	if (rc->floor != 0 && ts <= rc->floor)
		return (ADMIN_SIGN_BEFORE_START);
	if ((s = admin_replay_check(rc, now, ts, nonce)) != ADMIN_SIGN_OK)
		return (s);
	*principalp = ke->principal;
	sodium_bin2base64(pk_b64, ADMIN_PK_B64_LEN + 1, pk,
	    crypto_sign_PUBLICKEYBYTES, sodium_base64_VARIANT_ORIGINAL);
	return (ADMIN_SIGN_OK);
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

int
admin_sign_block(const char *sk_b64, int64_t now, const char *body,
    size_t len, unsigned char block[ADMIN_SIG_BLOCK_LEN])
{
	unsigned char		 sk[crypto_sign_SECRETKEYBYTES];
	crypto_sign_state	 st;
	unsigned char		*nonce = block + 8;

	if (sodium_init() < 0 ||
	    admin_b64_decode(sk_b64, strlen(sk_b64), sk, sizeof(sk)) != 0)
		return (-1);
	admin_put_be64(block, (uint64_t)now);
	randombytes_buf(nonce, ADMIN_NONCE_BYTES);
	/* The public key is the second half of libsodium's secret key. */
	memcpy(nonce + ADMIN_NONCE_BYTES, sk + 32, crypto_sign_PUBLICKEYBYTES);
	admin_sign_canon(&st, body, len, now, nonce);
	crypto_sign_final_create(&st, nonce + ADMIN_NONCE_BYTES +
	    crypto_sign_PUBLICKEYBYTES, NULL, sk);
	sodium_memzero(sk, sizeof(sk));
	return (0);
}
