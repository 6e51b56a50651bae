/* SPDX-License-Identifier: ISC */
/*
 * store-json.c: records as readable JSON and as paths, the form a fleet
 * keeps them in etcd (docs/fleet.md, "Layout").  A record's path is its
 * type's name and its key's parts, each percent-encoded where it holds
 * '/', '%' or a byte outside printable ASCII; a policy version's id is
 * "vN".  Its value is a JSON object with the record's fields by name;
 * decoding is strict (every field of the right type, nothing unknown)
 * and gives the store's binary value back, so that a record written by
 * hand is refused by name before anything is applied.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <sodium.h>

#include "common/xmalloc.h"
#include "engine/world.h"
#include "store/store-int.h"
#include "store/store-json.h"

/* --- paths -------------------------------------------------------- */

static int
sj_plain(unsigned char c)
{
	return (c > 0x20 && c < 0x7f && c != '/' && c != '%');
}

static void
sj_part(struct store_wbuf *w, const unsigned char *p, size_t n)
{
	static const char	 hex[] = "0123456789ABCDEF";
	unsigned char		 e[3];
	size_t			 i;

	for (i = 0; i < n; i++) {
		if (sj_plain(p[i])) {
			store_w_bytes(w, &p[i], 1);
			continue;
		}
		e[0] = '%';
		e[1] = hex[p[i] >> 4];
		e[2] = hex[p[i] & 15];
		store_w_bytes(w, e, 3);
	}
}

char *
store_json_path(int type, const void *key, size_t klen)
{
	const unsigned char	*k = key, *end = k + klen, *z;
	struct store_wbuf	 w;
	char			 v[16];
	int			 i, parts = store_rtype_parts(type);

	if (parts <= 0 || klen == 0)
		return (NULL);
	store_w_init(&w);
	store_w_bytes(&w, store_rtype_name(type),
	    strlen(store_rtype_name(type)));
	for (i = 0; i < parts; i++) {
		store_w_u8(&w, '/');
		if (type == DBI_POLICYVERSIONS && i == 2) {
			if (end - k != 4)
				goto bad;
			snprintf(v, sizeof(v), "v%u", (unsigned)k[0] << 24 |
			    (unsigned)k[1] << 16 | (unsigned)k[2] << 8 | k[3]);
			store_w_bytes(&w, v, strlen(v));
			k = end;
			break;
		}
		z = i == parts - 1 ? NULL : memchr(k, 0, (size_t)(end - k));
		if (z == NULL)
			z = i == parts - 1 ? end : NULL;
		if (z == NULL || z == k)
			goto bad;
		sj_part(&w, k, (size_t)(z - k));
		k = z == end ? end : z + 1;
	}
	if (k != end)
		goto bad;
	store_w_u8(&w, 0);
	return ((char *)w.p);
bad:
	store_w_free(&w);
	return (NULL);
}

/*
 * The path under which every record of type whose key starts with
 * prefix lies: the whole parts, each followed by '/', then a part's
 * start when the prefix ends inside one.  A policy version's id is
 * binary: a prefix into it is taken as the policy's (coarser, never
 * narrower).
 */
char *
store_json_prefix(int type, const void *prefix, size_t plen)
{
	const unsigned char	*k = prefix, *end = k + plen, *z;
	struct store_wbuf	 w;
	int			 i, parts = store_rtype_parts(type);

	if (parts <= 0)
		return (NULL);
	store_w_init(&w);
	store_w_bytes(&w, store_rtype_name(type),
	    strlen(store_rtype_name(type)));
	store_w_u8(&w, '/');
	for (i = 0; k < end; i++) {
		if (type == DBI_POLICYVERSIONS && i == 2)
			break;
		z = memchr(k, 0, (size_t)(end - k));
		if (i == parts || z == k || (z != NULL && i == parts - 1)) {
			store_w_free(&w);
			return (NULL);
		}
		sj_part(&w, k, (size_t)((z != NULL ? z : end) - k));
		if (z == NULL)
			break;
		store_w_u8(&w, '/');
		k = z + 1;
	}
	store_w_u8(&w, 0);
	return ((char *)w.p);
}

static int
sj_hex(int c)
{
	if (c >= '0' && c <= '9')
		return (c - '0');
	if (c >= 'A' && c <= 'F')
		return (c - 'A' + 10);
	if (c >= 'a' && c <= 'f')
		return (c - 'a' + 10);
	return (-1);
}

/* One percent-encoded part into w; -1 when malformed or empty. */
static int
sj_unpart(struct store_wbuf *w, const char *p, size_t n)
{
	size_t	 i;
	int	 hi, lo;
	uint8_t	 c;

	if (n == 0)
		return (-1);
	for (i = 0; i < n; i++) {
		if (p[i] != '%') {
			if (!sj_plain((unsigned char)p[i]))
				return (-1);
			store_w_bytes(w, &p[i], 1);
			continue;
		}
		if (i + 2 >= n)
			return (-1);
		if ((hi = sj_hex(p[i + 1])) < 0 || (lo = sj_hex(p[i + 2])) < 0)
			return (-1);
		c = (uint8_t)(hi << 4 | lo);
		if (c == 0 || sj_plain(c))
			return (-1);	/* one spelling per key */
		store_w_u8(w, c);
		i += 2;
	}
	return (0);
}

int
store_json_unpath(const char *path, int *typep, unsigned char **keyp,
    size_t *klenp)
{
	struct store_wbuf	 w;
	const char		*p, *s;
	char			 name[32], *end;
	unsigned long		 ver;
	int			 i, type, parts;

	if ((s = strchr(path, '/')) == NULL || (size_t)(s - path) >=
	    sizeof(name))
		return (-1);
	memcpy(name, path, (size_t)(s - path));
	name[s - path] = '\0';
	if ((type = store_rtype_find(name)) <= 0)
		return (-1);
	parts = store_rtype_parts(type);
	store_w_init(&w);
	for (i = 0, p = s + 1; i < parts; i++) {
		s = strchr(p, '/');
		if ((s == NULL) != (i == parts - 1))
			goto bad;
		if (s == NULL)
			s = p + strlen(p);
		if (i > 0)
			store_w_sep(&w);
		if (type == DBI_POLICYVERSIONS && i == 2) {
			if (p[0] != 'v' || p[1] < '1' || p[1] > '9')
				goto bad;
			ver = strtoul(p + 1, &end, 10);
			if (end != s || ver > UINT32_MAX)
				goto bad;
			store_w_u32(&w, (uint32_t)ver);
		} else if (sj_unpart(&w, p, (size_t)(s - p)) != 0)
			goto bad;
		p = s + 1;
	}
	*typep = type;
	*keyp = w.p;
	*klenp = w.len;
	return (0);
bad:
	store_w_free(&w);
	return (-1);
}

/* --- values ------------------------------------------------------- */

static void
sj_str(struct json_object *o, const char *name, const char *s, size_t n)
{
	json_object_object_add(o, name, json_object_new_string_len(s,
	    (int)n));
}

static void
sj_int(struct json_object *o, const char *name, int64_t v)
{
	json_object_object_add(o, name, json_object_new_int64(v));
}

static struct json_object *
sj_list(char **v, size_t n)
{
	struct json_object	*a = json_object_new_array();
	size_t			 i;

	for (i = 0; i < n; i++)
		json_object_array_add(a, json_object_new_string(v[i]));
	return (a);
}

static int
sj_value(struct json_object *o, int type, const MDB_val *v)
{
	struct store_instrec	 ir;
	struct store_keyrec	 kr;
	struct store_kprec	 kp;
	struct store_polrec	 pr;
	struct store_pvrec	 pv;
	struct store_prinrec	 r;
	struct store_rbuf	 b;
	const char		*s;
	char			 hex[65];

	switch (type) {
	case DBI_INSTANCES:
		if (store_instrec_decode(v, &ir) != 0 ||
		    (s = world_instance_state_name(ir.state)) == NULL)
			return (-1);
		sj_str(o, "State", s, strlen(s));
		sj_int(o, "ShareQuota", ir.quota);
		if (ir.account[0] != '\0')
			sj_str(o, "Account", ir.account, strlen(ir.account));
		return (0);
	case DBI_KEYS:
		if (store_keyrec_decode(v, &kr) != 0)
			return (-1);
		if ((s = world_key_state_name(kr.state)) == NULL) {
			store_keyrec_free(&kr);
			return (-1);
		}
		sj_str(o, "KeyState", s, strlen(s));
		sj_str(o, "Region", kr.region, strlen(kr.region));
		sj_str(o, "Creator", kr.creator, strlen(kr.creator));
		if (kr.instance != NULL)
			sj_str(o, "Instance", kr.instance, strlen(kr.instance));
		store_keyrec_free(&kr);
		return (0);
	case DBI_KEYPOLICIES:
		if (store_kprec_decode(v, &kp) != 0)
			return (-1);
		sj_int(o, "Version", (int64_t)kp.version);
		sj_int(o, "SetTime", kp.time_ms);
		sodium_bin2hex(hex, sizeof(hex), kp.digest, 32);
		sj_str(o, "Digest", hex, 64);
		sj_str(o, "Policy", kp.text, kp.len);
		return (0);
	case DBI_TAGS:
	case DBI_ALIASES:
		sj_str(o, type == DBI_TAGS ? "Value" : "KeyId", v->mv_data,
		    v->mv_size);
		return (0);
	case DBI_POLICIES:
		if (store_polrec_decode(v, &pr) != 0)
			return (-1);
		sj_int(o, "DefaultVersion", pr.def);
		sj_int(o, "LastVersion", pr.last);
		return (0);
	case DBI_POLICYVERSIONS:
		if (store_pvrec_decode(v, &pv) != 0)
			return (-1);
		sj_int(o, "CreateTime", pv.time_ms);
		sj_str(o, "Document", pv.text, pv.len);
		return (0);
	case DBI_USERS:
	case DBI_ROLES:
	case DBI_GROUPS:
		if (store_prinrec_decode(v, type == DBI_USERS, &r) != 0)
			return (-1);
		if (type == DBI_USERS)
			json_object_object_add(o, "Groups", sj_list(r.groups,
			    r.ngroups));
		json_object_object_add(o, "Policies", sj_list(r.policies,
		    r.npolicies));
		store_prinrec_free(&r);
		return (0);
	case DBI_DELETIONS:
		store_r_init(&b, v->mv_data, v->mv_size);
		sj_int(o, "DeletionTime", (int64_t)store_r_u64(&b));
		return (store_r_end(&b));
	default:
		return (-1);
	}
}

char *
store_json_value(int type, const void *val, size_t vlen)
{
	struct json_object	*o = json_object_new_object();
	MDB_val			 v;
	char			*s = NULL;

	v.mv_data = (void *)val;
	v.mv_size = vlen;
	if (sj_value(o, type, &v) == 0)
		s = xstrdup(json_object_to_json_string_ext(o,
		    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
	return (s);
}

/*
 * The fields of a value: each named field of the type must be there
 * (optional ones may not), with the JSON type given, and no other.
 */
struct sj_field {
	const char	*name;
	json_type	 type;
	int		 optional;
};

static const char *
sj_fields(struct json_object *o, const struct sj_field *f)
{
	struct json_object	*v;
	size_t			 n = 0, i;

	for (i = 0; f[i].name != NULL; i++) {
		if (!json_object_object_get_ex(o, f[i].name, &v)) {
			if (!f[i].optional)
				return (f[i].name);
			continue;
		}
		if (!json_object_is_type(v, f[i].type))
			return (f[i].name);
		n++;
	}
	return (n == (size_t)json_object_object_length(o) ? NULL :
	    "(an unknown field)");
}

static const char *
sj_get(struct json_object *o, const char *name, size_t *lenp)
{
	struct json_object	*v;

	if (!json_object_object_get_ex(o, name, &v))
		return (NULL);
	*lenp = (size_t)json_object_get_string_len(v);
	return (json_object_get_string(v));
}

static int64_t
sj_num(struct json_object *o, const char *name)
{
	struct json_object	*v;

	json_object_object_get_ex(o, name, &v);
	return (json_object_get_int64(v));
}

/* A JSON list of names as a malloc'd vector; -1 unless all strings. */
static int
sj_names(struct json_object *o, const char *name, char ***vp, size_t *np)
{
	struct json_object	*a, *e;
	size_t			 i, n;

	*vp = NULL;
	*np = 0;
	if (!json_object_object_get_ex(o, name, &a))
		return (0);
	n = json_object_array_length(a);
	if (n > STORE_LIST_MAX)
		return (-1);
	for (i = 0; i < n; i++) {
		e = json_object_array_get_idx(a, i);
		if (!json_object_is_type(e, json_type_string) ||
		    json_object_get_string_len(e) == 0)
			return (-1);
		store_list_add(vp, np, json_object_get_string(e));
	}
	return (0);
}

static const struct sj_field sj_f_inst[] = { { "State", json_type_string,
    0 }, { "ShareQuota", json_type_int, 0 }, { "Account", json_type_string,
    1 }, { NULL, 0, 0 } };
static const struct sj_field sj_f_key[] = { { "KeyState", json_type_string,
    0 }, { "Region", json_type_string, 0 }, { "Creator", json_type_string,
    0 }, { "Instance", json_type_string, 1 }, { NULL, 0, 0 } };
static const struct sj_field sj_f_kp[] = { { "Version", json_type_int, 0 },
    { "SetTime", json_type_int, 0 }, { "Digest", json_type_string, 1 },
    { "Policy", json_type_string, 0 }, { NULL, 0, 0 } };
static const struct sj_field sj_f_tag[] = { { "Value", json_type_string,
    0 }, { NULL, 0, 0 } };
static const struct sj_field sj_f_alias[] = { { "KeyId", json_type_string,
    0 }, { NULL, 0, 0 } };
static const struct sj_field sj_f_pol[] = { { "DefaultVersion",
    json_type_int, 0 }, { "LastVersion", json_type_int, 0 },
    { NULL, 0, 0 } };
static const struct sj_field sj_f_pv[] = { { "CreateTime", json_type_int,
    0 }, { "Document", json_type_string, 0 }, { NULL, 0, 0 } };
static const struct sj_field sj_f_user[] = { { "Groups", json_type_array,
    1 }, { "Policies", json_type_array, 1 }, { NULL, 0, 0 } };
static const struct sj_field sj_f_prin[] = { { "Policies", json_type_array,
    1 }, { NULL, 0, 0 } };
static const struct sj_field sj_f_del[] = { { "DeletionTime",
    json_type_int, 0 }, { NULL, 0, 0 } };

static const struct sj_field *const sj_f[DBI_COUNT] = {
	[DBI_INSTANCES] = sj_f_inst, [DBI_KEYS] = sj_f_key,
	[DBI_KEYPOLICIES] = sj_f_kp, [DBI_TAGS] = sj_f_tag,
	[DBI_ALIASES] = sj_f_alias, [DBI_POLICIES] = sj_f_pol,
	[DBI_POLICYVERSIONS] = sj_f_pv, [DBI_USERS] = sj_f_user,
	[DBI_ROLES] = sj_f_prin, [DBI_GROUPS] = sj_f_prin,
	[DBI_DELETIONS] = sj_f_del
};

static int
sj_instance(struct json_object *o, struct store_wbuf *w)
{
	struct store_instrec		 r;
	enum world_instance_state	 is;
	const char			*s, *a;
	size_t				 n = 0;
	int64_t				 q = sj_num(o, "ShareQuota");

	memset(&r, 0, sizeof(r));
	s = sj_get(o, "State", &n);
	if (world_instance_state_parse(s, strlen(s), &is) != 0 || q < 0 ||
	    q > UINT32_MAX)
		return (-1);
	r.state = is;
	r.quota = (uint32_t)q;
	if ((a = sj_get(o, "Account", &n)) != NULL) {
		if (n == 0 || n >= sizeof(r.account) ||
		    strspn(a, "0123456789") != n)
			return (-1);
		memcpy(r.account, a, n + 1);
	}
	store_instrec_encode(w, &r);
	return (0);
}

static int
sj_key(struct json_object *o, struct store_wbuf *w)
{
	struct store_keyrec	 r;
	enum world_key_state	 ks;
	const char		*s;
	size_t			 n = 0;

	s = sj_get(o, "KeyState", &n);
	if (world_key_state_parse(s, n, &ks) != 0)
		return (-1);
	r.state = ks;
	r.region = (char *)sj_get(o, "Region", &n);
	r.creator = (char *)sj_get(o, "Creator", &n);
	r.instance = (char *)sj_get(o, "Instance", &n);
	if (r.region[0] == '\0' || r.creator[0] == '\0' ||
	    (r.instance != NULL && r.instance[0] == '\0'))
		return (-1);
	store_keyrec_encode(w, &r);
	return (0);
}

static int
sj_keypolicy(struct json_object *o, struct store_wbuf *w)
{
	struct store_kprec	 r;
	const char		*d;
	size_t			 n = 0;
	unsigned char		 given[32];

	r.version = (uint64_t)sj_num(o, "Version");
	r.time_ms = sj_num(o, "SetTime");
	r.text = sj_get(o, "Policy", &r.len);
	store_digest(r.text, r.len, r.digest);
	/* A digest given by hand must be the text's. */
	if ((d = sj_get(o, "Digest", &n)) != NULL && (n != 64 ||
	    sodium_hex2bin(given, 32, d, n, NULL, NULL, NULL) != 0 ||
	    sodium_memcmp(given, r.digest, 32) != 0))
		return (-1);
	if (sj_num(o, "Version") < 1)
		return (-1);
	store_kprec_encode(w, &r);
	return (0);
}

static int
sj_principal(struct json_object *o, int type, struct store_wbuf *w)
{
	struct store_prinrec	 r;
	int			 rc;

	memset(&r, 0, sizeof(r));
	rc = sj_names(o, "Groups", &r.groups, &r.ngroups) != 0 ||
	    sj_names(o, "Policies", &r.policies, &r.npolicies) != 0 ? -1 : 0;
	if (rc == 0)
		store_prinrec_encode(w, type == DBI_USERS, &r);
	store_prinrec_free(&r);
	return (rc);
}

static int
sj_unvalue(struct json_object *o, int type, struct store_wbuf *w)
{
	struct store_polrec	 pr;
	struct store_pvrec	 pv;
	const char		*s;
	size_t			 n = 0;
	int64_t			 a, b;

	switch (type) {
	case DBI_INSTANCES:
		return (sj_instance(o, w));
	case DBI_KEYS:
		return (sj_key(o, w));
	case DBI_KEYPOLICIES:
		return (sj_keypolicy(o, w));
	case DBI_TAGS:
	case DBI_ALIASES:
		s = sj_get(o, type == DBI_TAGS ? "Value" : "KeyId", &n);
		if (memchr(s, 0, n) != NULL || (type == DBI_ALIASES &&
		    n == 0) || n > STORE_TAG_VALUE_MAX)
			return (-1);
		store_w_bytes(w, s, n);
		return (0);
	case DBI_POLICIES:
		a = sj_num(o, "DefaultVersion");
		b = sj_num(o, "LastVersion");
		if (a < 1 || b < a || b > UINT32_MAX)
			return (-1);
		pr.def = (uint32_t)a;
		pr.last = (uint32_t)b;
		store_polrec_encode(w, &pr);
		return (0);
	case DBI_POLICYVERSIONS:
		pv.time_ms = sj_num(o, "CreateTime");
		pv.text = sj_get(o, "Document", &pv.len);
		store_pvrec_encode(w, &pv);
		return (0);
	case DBI_DELETIONS:
		store_w_u64(w, (uint64_t)sj_num(o, "DeletionTime"));
		return (0);
	default:
		return (sj_principal(o, type, w));
	}
}

static _Thread_local char	 sj_why[128];

int
store_json_unvalue(int type, const char *json, size_t len,
    unsigned char **valp, size_t *vlenp, const char **whyp)
{
	struct json_tokener	*tok;
	struct json_object	*o;
	struct store_wbuf	 w;
	const char		*bad;

	*valp = NULL;
	*vlenp = 0;
	if (type <= DBI_META || type >= DBI_COUNT) {
		*whyp = "no such record type";
		return (-1);
	}
	if ((tok = json_tokener_new_ex(8)) == NULL) {
		*whyp = "out of memory";
		return (-1);
	}
	o = json_tokener_parse_ex(tok, json, (int)len);
	if (o == NULL || json_tokener_get_error(tok) != json_tokener_success ||
	    tok->char_offset != (int)len || !json_object_is_type(o,
	    json_type_object)) {
		*whyp = "not one JSON object";
		json_object_put(o);
		json_tokener_free(tok);
		return (-1);
	}
	json_tokener_free(tok);
	if ((bad = sj_fields(o, sj_f[type])) != NULL) {
		snprintf(sj_why, sizeof(sj_why), bad[0] == '(' ? "%s" :
		    "field %s: missing or of the wrong type", bad);
		*whyp = sj_why;
		json_object_put(o);
		return (-1);
	}
	store_w_init(&w);
	if (sj_unvalue(o, type, &w) != 0) {
		*whyp = "a field out of range";
		store_w_free(&w);
		json_object_put(o);
		return (-1);
	}
	json_object_put(o);
	*valp = w.p != NULL ? w.p : xmalloc(1);
	*vlenp = w.len;
	return (0);
}
