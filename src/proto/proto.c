/* SPDX-License-Identifier: ISC */
/*
 * proto.c: cursors, the frame header and every message of protocol v1.
 * Pure: no I/O, no allocation.  Reads use memcpy and be*toh, never a
 * cast of an unaligned pointer.
 */
#include <endian.h>
#include <string.h>

#include "proto/proto.h"

static void	proto_rd_fail(struct proto_rd *, int);
static void	proto_wr_fail(struct proto_wr *, int);
static uint8_t	*proto_wr_take(struct proto_wr *, size_t);
static void	proto_match_read(struct proto_rd *, struct proto_match *);
static void	proto_match_encode(struct proto_wr *,
		    const struct proto_match *);
static int	proto_str_ok(const struct proto_str *, size_t);
static int	proto_batch_prefix(struct proto_batch_rd *, const void *,
		    size_t);
static void	proto_mingen_read(struct proto_rd *, struct proto_check *);

/* Cursors. */

void
proto_rd_init(struct proto_rd *rd, const void *p, size_t len)
{
	rd->p = p;
	rd->len = len;
	rd->off = 0;
	rd->err = 0;
	rd->msg = NULL;
}

static void
proto_rd_fail(struct proto_rd *rd, int err)
{
	if (rd->err == 0)
		rd->err = err;
}

void
proto_rd_bytes(struct proto_rd *rd, void *dst, size_t n)
{
	if (rd->err != 0 || n > rd->len - rd->off) {
		proto_rd_fail(rd, KMSAUTHZ_EPROTO);
		memset(dst, 0, n);
		return;
	}
	if (n > 0)
		memcpy(dst, rd->p + rd->off, n);
	rd->off += n;
}

uint8_t
proto_rd_u8(struct proto_rd *rd)
{
	uint8_t	v;

	proto_rd_bytes(rd, &v, sizeof(v));
	return (v);
}

uint16_t
proto_rd_u16(struct proto_rd *rd)
{
	uint16_t	v;

	proto_rd_bytes(rd, &v, sizeof(v));
	return (be16toh(v));
}

uint32_t
proto_rd_u32(struct proto_rd *rd)
{
	uint32_t	v;

	proto_rd_bytes(rd, &v, sizeof(v));
	return (be32toh(v));
}

uint64_t
proto_rd_u64(struct proto_rd *rd)
{
	uint64_t	v;

	proto_rd_bytes(rd, &v, sizeof(v));
	return (be64toh(v));
}

void
proto_rd_str(struct proto_rd *rd, size_t max, struct proto_str *s)
{
	size_t	n;

	s->ptr = NULL;
	s->len = 0;
	n = proto_rd_u16(rd);
	if (rd->err != 0)
		return;
	/* The limit is checked before the length is trusted. */
	if (n > max || n > rd->len - rd->off) {
		proto_rd_fail(rd, KMSAUTHZ_EPROTO);
		return;
	}
	if (n > 0 && memchr(rd->p + rd->off, '\0', n) != NULL) {
		proto_rd_fail(rd, KMSAUTHZ_EPROTO);
		return;
	}
	s->ptr = (const char *)rd->p + rd->off;
	s->len = n;
	rd->off += n;
}

int
proto_rd_end(struct proto_rd *rd)
{
	if (rd->err != 0)
		return (rd->err);
	if (rd->off != rd->len)
		return (KMSAUTHZ_EPROTO);	/* must consume exactly */
	return (0);
}

void
proto_wr_init(struct proto_wr *wr, void *p, size_t cap)
{
	wr->p = p;
	wr->cap = p == NULL ? SIZE_MAX : cap;
	wr->off = 0;
	wr->err = 0;
	wr->ftype = 0;
}

static void
proto_wr_fail(struct proto_wr *wr, int err)
{
	if (wr->err == 0)
		wr->err = err;
}

/* Room for n bytes, or NULL (counting mode, or an error). */
static uint8_t *
proto_wr_take(struct proto_wr *wr, size_t n)
{
	uint8_t	*q;

	if (wr->err != 0)
		return (NULL);
	if (n > wr->cap - wr->off) {
		proto_wr_fail(wr, KMSAUTHZ_ETOOBIG);
		return (NULL);
	}
	q = wr->p == NULL ? NULL : wr->p + wr->off;
	wr->off += n;
	return (q);
}

void
proto_wr_bytes(struct proto_wr *wr, const void *src, size_t n)
{
	uint8_t	*q;

	if ((q = proto_wr_take(wr, n)) != NULL && n > 0)
		memcpy(q, src, n);
}

void
proto_wr_u8(struct proto_wr *wr, uint8_t v)
{
	proto_wr_bytes(wr, &v, sizeof(v));
}

void
proto_wr_u16(struct proto_wr *wr, uint16_t v)
{
	v = htobe16(v);
	proto_wr_bytes(wr, &v, sizeof(v));
}

void
proto_wr_u32(struct proto_wr *wr, uint32_t v)
{
	v = htobe32(v);
	proto_wr_bytes(wr, &v, sizeof(v));
}

void
proto_wr_u64(struct proto_wr *wr, uint64_t v)
{
	v = htobe64(v);
	proto_wr_bytes(wr, &v, sizeof(v));
}

static int
proto_str_ok(const struct proto_str *s, size_t max)
{
	if (s->len > max || (s->len > 0 && s->ptr == NULL))
		return (0);
	if (s->len > 0 && memchr(s->ptr, '\0', s->len) != NULL)
		return (0);
	return (1);
}

void
proto_wr_str(struct proto_wr *wr, size_t max, const struct proto_str *s)
{
	/* An encoder never emits what a decoder would reject. */
	if (!proto_str_ok(s, max) || max > UINT16_MAX) {
		proto_wr_fail(wr, KMSAUTHZ_EINVAL);
		return;
	}
	proto_wr_u16(wr, (uint16_t)s->len);
	proto_wr_bytes(wr, s->ptr, s->len);
}

/* Frame header. */

size_t
proto_body_max(uint16_t type)
{
	switch (type) {
	case KMSAUTHZ_MSG_ADMIN_REQUEST:
		return (KMSAUTHZ_MAX_ADMIN_BODY);
	case KMSAUTHZ_MSG_ADMIN_RESPONSE:
		return (KMSAUTHZ_MAX_ADMIN_REPLY_BODY);
	case KMSAUTHZ_MSG_ANSWER:
	case KMSAUTHZ_MSG_BATCH_ANSWER:
		return (KMSAUTHZ_MAX_REPLY_BODY);
	default:
		return (KMSAUTHZ_MAX_QUERY_BODY);
	}
}

int
proto_type_is_query(uint16_t type)
{
	switch (type) {
	case KMSAUTHZ_MSG_HELLO:
	case KMSAUTHZ_MSG_PING:
	case KMSAUTHZ_MSG_STATUS:
	case KMSAUTHZ_MSG_CHECK:
	case KMSAUTHZ_MSG_CHECK_BATCH:
		return (1);
	default:
		return (0);
	}
}

int
proto_type_is_admin(uint16_t type)
{
	switch (type) {
	case KMSAUTHZ_MSG_HELLO:
	case KMSAUTHZ_MSG_PING:
	case KMSAUTHZ_MSG_STATUS:
	case KMSAUTHZ_MSG_ADMIN_REQUEST:
		return (1);
	default:
		return (0);
	}
}

const char *
proto_type_name(uint16_t type)
{
	switch (type) {
	case KMSAUTHZ_MSG_HELLO:
		return ("HELLO");
	case KMSAUTHZ_MSG_PING:
		return ("PING");
	case KMSAUTHZ_MSG_STATUS:
		return ("STATUS");
	case KMSAUTHZ_MSG_CHECK:
		return ("CHECK");
	case KMSAUTHZ_MSG_CHECK_BATCH:
		return ("CHECK_BATCH");
	case KMSAUTHZ_MSG_ADMIN_REQUEST:
		return ("ADMIN_REQUEST");
	case KMSAUTHZ_MSG_HELLO_REPLY:
		return ("HELLO_REPLY");
	case KMSAUTHZ_MSG_PONG:
		return ("PONG");
	case KMSAUTHZ_MSG_STATUS_REPLY:
		return ("STATUS_REPLY");
	case KMSAUTHZ_MSG_ANSWER:
		return ("ANSWER");
	case KMSAUTHZ_MSG_BATCH_ANSWER:
		return ("BATCH_ANSWER");
	case KMSAUTHZ_MSG_ERROR:
		return ("ERROR");
	case KMSAUTHZ_MSG_ADMIN_RESPONSE:
		return ("ADMIN_RESPONSE");
	default:
		return (NULL);
	}
}

uint16_t
proto_wire_error(int err)
{
	switch (err) {
	case KMSAUTHZ_EVERSION:
		return (KMSAUTHZ_WERR_VERSION);
	case KMSAUTHZ_ETOOBIG:
		return (KMSAUTHZ_WERR_TOOBIG);
	case KMSAUTHZ_EBUSY:
		return (KMSAUTHZ_WERR_BUSY);
	case KMSAUTHZ_ENOMEM:
		return (KMSAUTHZ_WERR_INTERNAL);
	default:
		return (KMSAUTHZ_WERR_PROTO);
	}
}

int
proto_hdr_decode(const void *buf, size_t len, struct proto_hdr *hdr)
{
	struct proto_rd	rd;
	uint16_t	magic, reserved;

	memset(hdr, 0, sizeof(*hdr));
	if (len < KMSAUTHZ_HDR_SIZE)
		return (KMSAUTHZ_EPROTO);
	proto_rd_init(&rd, buf, KMSAUTHZ_HDR_SIZE);
	magic = proto_rd_u16(&rd);
	hdr->version = proto_rd_u8(&rd);
	hdr->flags = proto_rd_u8(&rd);
	hdr->type = proto_rd_u16(&rd);
	reserved = proto_rd_u16(&rd);
	hdr->id = proto_rd_u32(&rd);
	hdr->len = proto_rd_u32(&rd);
	if (magic != KMSAUTHZ_PROTO_MAGIC)
		return (KMSAUTHZ_EPROTO);
	if (hdr->version != KMSAUTHZ_PROTO_VERSION)
		return (KMSAUTHZ_EVERSION);
	if (hdr->flags != 0 || reserved != 0)
		return (KMSAUTHZ_EPROTO);
	if (hdr->len > proto_body_max(hdr->type))
		return (KMSAUTHZ_ETOOBIG);
	return (proto_rd_end(&rd));
}

void
proto_hdr_encode(void *buf, const struct proto_hdr *hdr)
{
	struct proto_wr	wr;

	proto_wr_init(&wr, buf, KMSAUTHZ_HDR_SIZE);
	proto_wr_u16(&wr, KMSAUTHZ_PROTO_MAGIC);
	proto_wr_u8(&wr, hdr->version);
	proto_wr_u8(&wr, hdr->flags);
	proto_wr_u16(&wr, hdr->type);
	proto_wr_u16(&wr, 0);
	proto_wr_u32(&wr, hdr->id);
	proto_wr_u32(&wr, hdr->len);
}

size_t
proto_frame_begin(struct proto_wr *wr, uint16_t type, uint32_t id)
{
	struct proto_hdr	 hdr;
	size_t			 start = wr->off;
	uint8_t			*q;

	memset(&hdr, 0, sizeof(hdr));
	hdr.version = KMSAUTHZ_PROTO_VERSION;
	hdr.type = type;
	hdr.id = id;
	wr->ftype = type;
	if ((q = proto_wr_take(wr, KMSAUTHZ_HDR_SIZE)) != NULL)
		proto_hdr_encode(q, &hdr);
	return (start);
}

void
proto_frame_end(struct proto_wr *wr, size_t start)
{
	uint32_t	len;
	size_t		body;

	if (wr->err != 0 || start + KMSAUTHZ_HDR_SIZE > wr->off)
		return;
	body = wr->off - start - KMSAUTHZ_HDR_SIZE;
	/* When counting too: a sender learns it before it builds one. */
	if (body > proto_body_max(wr->ftype)) {
		proto_wr_fail(wr, KMSAUTHZ_ETOOBIG);
		return;
	}
	if (wr->p == NULL)
		return;
	len = htobe32((uint32_t)body);
	memcpy(wr->p + start + 12, &len, sizeof(len));
}

/* HELLO, HELLO_REPLY, empty bodies. */

int
proto_hello_decode(const void *buf, size_t len, struct proto_hello *m)
{
	struct proto_rd	rd;

	proto_rd_init(&rd, buf, len);
	m->min_version = proto_rd_u8(&rd);
	m->max_version = proto_rd_u8(&rd);
	if (proto_rd_u16(&rd) != 0)
		proto_rd_fail(&rd, KMSAUTHZ_EPROTO);
	if (rd.err == 0 && (m->min_version == 0 ||
	    m->min_version > m->max_version))
		proto_rd_fail(&rd, KMSAUTHZ_EPROTO);
	return (proto_rd_end(&rd));
}

void
proto_hello_encode(struct proto_wr *wr, const struct proto_hello *m)
{
	proto_wr_u8(wr, m->min_version);
	proto_wr_u8(wr, m->max_version);
	proto_wr_u16(wr, 0);
}

int
proto_hello_reply_decode(const void *buf, size_t len,
    struct proto_hello_reply *m)
{
	struct proto_rd	rd;

	proto_rd_init(&rd, buf, len);
	m->version = proto_rd_u8(&rd);
	if (proto_rd_u8(&rd) != 0)
		proto_rd_fail(&rd, KMSAUTHZ_EPROTO);
	proto_rd_str(&rd, KMSAUTHZ_MAX_VERSION_STRING, &m->software);
	if (rd.err == 0 && m->version == 0)
		proto_rd_fail(&rd, KMSAUTHZ_EPROTO);
	return (proto_rd_end(&rd));
}

void
proto_hello_reply_encode(struct proto_wr *wr,
    const struct proto_hello_reply *m)
{
	proto_wr_u8(wr, m->version);
	proto_wr_u8(wr, 0);
	proto_wr_str(wr, KMSAUTHZ_MAX_VERSION_STRING, &m->software);
}

int
proto_empty_decode(const void *buf, size_t len)
{
	return (len == 0 ? 0 : KMSAUTHZ_EPROTO);
}

/* STATUS_REPLY. */

int
proto_status_decode(const void *buf, size_t len, struct proto_status *m)
{
	struct proto_rd	rd;

	proto_rd_init(&rd, buf, len);
	m->generation = proto_rd_u64(&rd);
	m->uptime_sec = proto_rd_u64(&rd);
	m->checks = proto_rd_u64(&rd);
	m->errors = proto_rd_u64(&rd);
	m->keys = proto_rd_u32(&rd);
	m->aliases = proto_rd_u32(&rd);
	m->policies = proto_rd_u32(&rd);
	m->users = proto_rd_u32(&rd);
	m->groups = proto_rd_u32(&rd);
	m->roles = proto_rd_u32(&rd);
	m->connections = proto_rd_u32(&rd);
	m->proto_version = proto_rd_u8(&rd);
	if (proto_rd_u8(&rd) != 0)
		proto_rd_fail(&rd, KMSAUTHZ_EPROTO);
	proto_rd_str(&rd, KMSAUTHZ_MAX_VERSION_STRING, &m->software);
	return (proto_rd_end(&rd));
}

void
proto_status_encode(struct proto_wr *wr, const struct proto_status *m)
{
	proto_wr_u64(wr, m->generation);
	proto_wr_u64(wr, m->uptime_sec);
	proto_wr_u64(wr, m->checks);
	proto_wr_u64(wr, m->errors);
	proto_wr_u32(wr, m->keys);
	proto_wr_u32(wr, m->aliases);
	proto_wr_u32(wr, m->policies);
	proto_wr_u32(wr, m->users);
	proto_wr_u32(wr, m->groups);
	proto_wr_u32(wr, m->roles);
	proto_wr_u32(wr, m->connections);
	proto_wr_u8(wr, m->proto_version);
	proto_wr_u8(wr, 0);
	proto_wr_str(wr, KMSAUTHZ_MAX_VERSION_STRING, &m->software);
}

/* CHECK. */

void
proto_check_read(struct proto_rd *rd, struct proto_check *m)
{
	static const uint8_t	zero[16];
	uint16_t		i;

	m->flags = proto_rd_u8(rd);
	m->ip_len = proto_rd_u8(rd);
	m->nctx = proto_rd_u16(rd);
	m->time_nsec = proto_rd_u32(rd);
	m->time_sec = (int64_t)proto_rd_u64(rd);
	proto_rd_bytes(rd, m->ip, sizeof(m->ip));
	if (rd->err != 0)
		goto fail;
	/* Every count and flag is checked before it is used. */
	if ((m->flags & ~KMSAUTHZ_CHECK_FLAGS) != 0 ||
	    (m->ip_len != 0 && m->ip_len != 4 && m->ip_len != 16) ||
	    memcmp(m->ip + m->ip_len, zero, sizeof(m->ip) - m->ip_len) != 0 ||
	    m->nctx > KMSAUTHZ_MAX_CONTEXT ||
	    m->time_nsec >= 1000000000U ||
	    ((m->flags & KMSAUTHZ_CHECK_TIME) == 0 &&
	    (m->time_sec != 0 || m->time_nsec != 0)) ||
	    !proto_check_why_ok(m->flags)) {
		proto_rd_fail(rd, KMSAUTHZ_EPROTO);
		goto fail;
	}
	proto_rd_str(rd, KMSAUTHZ_MAX_PRINCIPAL, &m->principal);
	proto_rd_str(rd, KMSAUTHZ_MAX_ACTION, &m->action);
	proto_rd_str(rd, KMSAUTHZ_MAX_RESOURCE, &m->resource);
	for (i = 0; i < m->nctx && rd->err == 0; i++) {
		proto_rd_str(rd, KMSAUTHZ_MAX_CONTEXT_KEY, &m->ctx[i].key);
		proto_rd_str(rd, KMSAUTHZ_MAX_CONTEXT_VALUE, &m->ctx[i].value);
	}
	m->min_generation = 0;
	if (rd->err == 0 && (m->flags & KMSAUTHZ_CHECK_MIN_GEN))
		proto_mingen_read(rd, m);
	if (rd->err == 0)
		return;
fail:
	m->nctx = 0;
	m->min_generation = 0;
}

/*
 * The minimum-generation extension: its own version byte, so that a
 * later revision is told apart from garbage; 0 is no minimum, which is
 * said by leaving the flag out (one encoding per meaning).
 */
static void
proto_mingen_read(struct proto_rd *rd, struct proto_check *m)
{
	uint8_t		version, flags;
	uint16_t	reserved;

	if (rd->len - rd->off < KMSAUTHZ_MINGEN_SIZE) {
		proto_rd_fail(rd, KMSAUTHZ_EPROTO);
		rd->msg = "minimum generation extension cut short";
		return;
	}
	version = proto_rd_u8(rd);
	flags = proto_rd_u8(rd);
	reserved = proto_rd_u16(rd);
	m->min_generation = proto_rd_u64(rd);
	if (version != KMSAUTHZ_MINGEN_VERSION)
		rd->msg = "minimum generation extension: unknown version";
	else if (flags != 0 || reserved != 0)
		rd->msg = "minimum generation extension: non-zero flags or "
		    "reserved bytes";
	else if (m->min_generation == 0)
		rd->msg = "minimum generation extension: generation 0";
	else
		return;
	proto_rd_fail(rd, KMSAUTHZ_EPROTO);
	m->min_generation = 0;
}

/* WHY needs EXPLAIN, WHY_FULL needs WHY: one meaning per bit pattern. */
int
proto_check_why_ok(uint8_t flags)
{
	if ((flags & KMSAUTHZ_CHECK_WHY_FULL) &&
	    (flags & KMSAUTHZ_CHECK_WHY) == 0)
		return (0);
	if ((flags & KMSAUTHZ_CHECK_WHY) &&
	    (flags & KMSAUTHZ_CHECK_EXPLAIN) == 0)
		return (0);
	return (1);
}

int
proto_check_decode(const void *buf, size_t len, struct proto_check *m)
{
	struct proto_rd	rd;

	proto_rd_init(&rd, buf, len);
	proto_check_read(&rd, m);
	return (proto_rd_end(&rd));
}

void
proto_check_encode(struct proto_wr *wr, const struct proto_check *m)
{
	static const uint8_t	zero[16];
	uint16_t		i;

	if ((m->flags & ~KMSAUTHZ_CHECK_FLAGS) != 0 ||
	    !proto_check_why_ok(m->flags) ||
	    (m->ip_len != 0 && m->ip_len != 4 && m->ip_len != 16) ||
	    m->nctx > KMSAUTHZ_MAX_CONTEXT || m->time_nsec >= 1000000000U ||
	    ((m->flags & KMSAUTHZ_CHECK_MIN_GEN) != 0) !=
	    (m->min_generation != 0)) {
		proto_wr_fail(wr, KMSAUTHZ_EINVAL);
		return;
	}
	proto_wr_u8(wr, m->flags);
	proto_wr_u8(wr, m->ip_len);
	proto_wr_u16(wr, m->nctx);
	if (m->flags & KMSAUTHZ_CHECK_TIME) {
		proto_wr_u32(wr, m->time_nsec);
		proto_wr_u64(wr, (uint64_t)m->time_sec);
	} else {
		proto_wr_u32(wr, 0);
		proto_wr_u64(wr, 0);
	}
	proto_wr_bytes(wr, m->ip, m->ip_len);
	proto_wr_bytes(wr, zero, sizeof(zero) - m->ip_len);
	proto_wr_str(wr, KMSAUTHZ_MAX_PRINCIPAL, &m->principal);
	proto_wr_str(wr, KMSAUTHZ_MAX_ACTION, &m->action);
	proto_wr_str(wr, KMSAUTHZ_MAX_RESOURCE, &m->resource);
	for (i = 0; i < m->nctx; i++) {
		proto_wr_str(wr, KMSAUTHZ_MAX_CONTEXT_KEY, &m->ctx[i].key);
		proto_wr_str(wr, KMSAUTHZ_MAX_CONTEXT_VALUE, &m->ctx[i].value);
	}
	if (m->flags & KMSAUTHZ_CHECK_MIN_GEN) {
		proto_wr_u8(wr, KMSAUTHZ_MINGEN_VERSION);
		proto_wr_u8(wr, 0);
		proto_wr_u16(wr, 0);
		proto_wr_u64(wr, m->min_generation);
	}
}

/* CHECK_BATCH and BATCH_ANSWER share the prefix and the iterator. */

static int
proto_batch_prefix(struct proto_batch_rd *it, const void *buf, size_t len)
{
	proto_rd_init(&it->rd, buf, len);
	it->done = 0;
	it->count = proto_rd_u16(&it->rd);
	if (proto_rd_u16(&it->rd) != 0)
		proto_rd_fail(&it->rd, KMSAUTHZ_EPROTO);
	if (it->rd.err == 0 &&
	    (it->count == 0 || it->count > KMSAUTHZ_MAX_BATCH))
		proto_rd_fail(&it->rd, KMSAUTHZ_EPROTO);
	if (it->rd.err != 0)
		it->count = 0;
	return (it->rd.err);
}

int
proto_batch_begin(struct proto_batch_rd *it, const void *buf, size_t len)
{
	return (proto_batch_prefix(it, buf, len));
}

int
proto_batch_next(struct proto_batch_rd *it, struct proto_check *m)
{
	if (it->rd.err == 0 && it->done >= it->count)
		proto_rd_fail(&it->rd, KMSAUTHZ_EPROTO);
	if (it->rd.err != 0) {
		memset(m, 0, sizeof(*m));
		return (it->rd.err);
	}
	proto_check_read(&it->rd, m);
	/* Explanations one check at a time: a batch of them could not be
	 * bounded by the reply limit. */
	if (it->rd.err == 0 && (m->flags & KMSAUTHZ_CHECK_WHY))
		proto_rd_fail(&it->rd, KMSAUTHZ_EPROTO);
	it->done++;
	return (it->rd.err);
}

int
proto_batch_end(struct proto_batch_rd *it)
{
	if (it->rd.err == 0 && it->done != it->count)
		return (KMSAUTHZ_EPROTO);
	return (proto_rd_end(&it->rd));
}

void
proto_batch_encode_begin(struct proto_wr *wr, uint16_t count)
{
	if (count == 0 || count > KMSAUTHZ_MAX_BATCH) {
		proto_wr_fail(wr, KMSAUTHZ_EINVAL);
		return;
	}
	proto_wr_u16(wr, count);
	proto_wr_u16(wr, 0);
}

int
proto_batch_answer_begin(struct proto_batch_rd *it, const void *buf,
    size_t len)
{
	return (proto_batch_prefix(it, buf, len));
}

int
proto_batch_answer_next(struct proto_batch_rd *it, struct proto_answer *m)
{
	if (it->rd.err == 0 && it->done >= it->count)
		proto_rd_fail(&it->rd, KMSAUTHZ_EPROTO);
	if (it->rd.err != 0) {
		memset(m, 0, sizeof(*m));
		return (it->rd.err);
	}
	proto_answer_read(&it->rd, m);
	if (it->rd.err == 0 && (m->flags & KMSAUTHZ_ANSWER_WHY)) {
		proto_rd_fail(&it->rd, KMSAUTHZ_EPROTO);
		m->decision = KMSAUTHZ_IMPLICIT_DENY;
		m->reason = KMSAUTHZ_REASON_NONE;
		m->nmatch = 0;
	}
	it->done++;
	return (it->rd.err);
}

/* ANSWER. */

int
proto_decision_reason_ok(uint8_t decision, uint8_t reason)
{
	switch (decision) {
	case KMSAUTHZ_ALLOW:
		return (reason >= KMSAUTHZ_REASON_ALLOWED_BY_IDENTITY_POLICY &&
		    reason <= KMSAUTHZ_REASON_ALLOWED_AS_ACCOUNT_ROOT);
	case KMSAUTHZ_EXPLICIT_DENY:
		return (reason == KMSAUTHZ_REASON_EXPLICIT_DENY);
	case KMSAUTHZ_IMPLICIT_DENY:
		return (reason >= KMSAUTHZ_REASON_NO_MATCHING_ALLOW &&
		    reason <= KMSAUTHZ_REASON_MAX);
	default:
		return (0);
	}
}

static void	proto_match_encode(struct proto_wr *, const struct proto_match *);

static void
proto_match_read(struct proto_rd *rd, struct proto_match *m)
{
	m->kind = proto_rd_u8(rd);
	m->flags = proto_rd_u8(rd);
	m->index = proto_rd_u32(rd);
	if (rd->err == 0 && ((m->kind != KMSAUTHZ_SOURCE_KEY &&
	    m->kind != KMSAUTHZ_SOURCE_POLICY) ||
	    (m->flags & ~KMSAUTHZ_MATCH_FLAGS) != 0))
		proto_rd_fail(rd, KMSAUTHZ_EPROTO);
	proto_rd_str(rd, KMSAUTHZ_MAX_SOURCE_NAME, &m->name);
	proto_rd_str(rd, KMSAUTHZ_MAX_SID, &m->sid);
	/* A source always has a name; no Sid means an empty one. */
	if (rd->err == 0 && (m->name.len == 0 ||
	    ((m->flags & KMSAUTHZ_MATCH_HAS_SID) == 0 && m->sid.len != 0)))
		proto_rd_fail(rd, KMSAUTHZ_EPROTO);
}

/* The explanation extension: version, rule, two halves, near misses. */
static void
proto_why_read(struct proto_rd *rd, struct proto_why *w)
{
	struct proto_half	*h;
	struct proto_miss	*ms;
	unsigned		 i, j;

	if (proto_rd_u8(rd) != KMSAUTHZ_WHY_VERSION)
		proto_rd_fail(rd, KMSAUTHZ_EPROTO);
	w->rule = proto_rd_u8(rd);
	if (rd->err == 0 && (w->rule == 0 || w->rule > KMSAUTHZ_WHY_RULE_MAX))
		proto_rd_fail(rd, KMSAUTHZ_EPROTO);
	for (i = 0; i < 2 && rd->err == 0; i++) {
		h = &w->half[i];
		h->result = proto_rd_u8(rd);
		h->flags = proto_rd_u8(rd);
		h->n = proto_rd_u8(rd);
		if (rd->err == 0 && (h->result > KMSAUTHZ_WHY_RESULT_MAX ||
		    (h->flags & ~KMSAUTHZ_WHY_TRUNCATED) != 0 ||
		    h->n > KMSAUTHZ_MAX_MATCHED))
			proto_rd_fail(rd, KMSAUTHZ_EPROTO);
		for (j = 0; j < h->n && rd->err == 0; j++)
			proto_match_read(rd, &h->stmt[j]);
	}
	w->flags = proto_rd_u8(rd);
	w->nmiss = proto_rd_u8(rd);
	if (rd->err == 0 && ((w->flags & ~KMSAUTHZ_WHY_TRUNCATED) != 0 ||
	    w->nmiss > KMSAUTHZ_MAX_MISSES))
		proto_rd_fail(rd, KMSAUTHZ_EPROTO);
	for (i = 0; i < w->nmiss && rd->err == 0; i++) {
		ms = &w->miss[i];
		ms->half = proto_rd_u8(rd);
		ms->deny = proto_rd_u8(rd);
		if (rd->err == 0 && (ms->half > 1 || ms->deny > 1))
			proto_rd_fail(rd, KMSAUTHZ_EPROTO);
		proto_match_read(rd, &ms->stmt);
		proto_rd_str(rd, KMSAUTHZ_MAX_WHY_TEXT, &ms->why);
		if (rd->err == 0 && ms->why.len == 0)
			proto_rd_fail(rd, KMSAUTHZ_EPROTO);
	}
}

static int
proto_why_encode(struct proto_wr *wr, const struct proto_why *w)
{
	const struct proto_half	*h;
	const struct proto_miss	*ms;
	unsigned		 i, j;

	if (w->rule == 0 || w->rule > KMSAUTHZ_WHY_RULE_MAX ||
	    (w->flags & ~KMSAUTHZ_WHY_TRUNCATED) != 0 ||
	    w->nmiss > KMSAUTHZ_MAX_MISSES)
		return (-1);
	for (i = 0; i < 2; i++)
		if (w->half[i].result > KMSAUTHZ_WHY_RESULT_MAX ||
		    (w->half[i].flags & ~KMSAUTHZ_WHY_TRUNCATED) != 0 ||
		    w->half[i].n > KMSAUTHZ_MAX_MATCHED)
			return (-1);
	for (i = 0; i < w->nmiss; i++)
		if (w->miss[i].half > 1 || w->miss[i].deny > 1 ||
		    w->miss[i].why.len == 0)
			return (-1);
	proto_wr_u8(wr, KMSAUTHZ_WHY_VERSION);
	proto_wr_u8(wr, w->rule);
	for (i = 0; i < 2; i++) {
		h = &w->half[i];
		proto_wr_u8(wr, h->result);
		proto_wr_u8(wr, h->flags);
		proto_wr_u8(wr, h->n);
		for (j = 0; j < h->n; j++)
			proto_match_encode(wr, &h->stmt[j]);
	}
	proto_wr_u8(wr, w->flags);
	proto_wr_u8(wr, w->nmiss);
	for (i = 0; i < w->nmiss; i++) {
		ms = &w->miss[i];
		proto_wr_u8(wr, ms->half);
		proto_wr_u8(wr, ms->deny);
		proto_match_encode(wr, &ms->stmt);
		proto_wr_str(wr, KMSAUTHZ_MAX_WHY_TEXT, &ms->why);
	}
	return (0);
}

void
proto_answer_read(struct proto_rd *rd, struct proto_answer *m)
{
	uint8_t	i;

	m->decision = proto_rd_u8(rd);
	m->reason = proto_rd_u8(rd);
	m->flags = proto_rd_u8(rd);
	m->nmatch = proto_rd_u8(rd);
	m->generation = proto_rd_u64(rd);
	if (rd->err == 0 &&
	    (!proto_decision_reason_ok(m->decision, m->reason) ||
	    (m->flags & ~KMSAUTHZ_ANSWER_FLAGS) != 0 ||
	    m->nmatch > KMSAUTHZ_MAX_MATCHED))
		proto_rd_fail(rd, KMSAUTHZ_EPROTO);
	for (i = 0; i < m->nmatch && rd->err == 0; i++)
		proto_match_read(rd, &m->match[i]);
	if (rd->err == 0 && (m->flags & KMSAUTHZ_ANSWER_WHY))
		proto_why_read(rd, &m->why);
	if (rd->err != 0) {
		/* Fail closed: whatever was read reads as a deny. */
		m->decision = KMSAUTHZ_IMPLICIT_DENY;
		m->reason = KMSAUTHZ_REASON_NONE;
		m->nmatch = 0;
	}
}

int
proto_answer_decode(const void *buf, size_t len, struct proto_answer *m)
{
	struct proto_rd	rd;
	int		err;

	proto_rd_init(&rd, buf, len);
	proto_answer_read(&rd, m);
	if ((err = proto_rd_end(&rd)) != 0) {
		m->decision = KMSAUTHZ_IMPLICIT_DENY;
		m->reason = KMSAUTHZ_REASON_NONE;
		m->nmatch = 0;
	}
	return (err);
}

static void
proto_match_encode(struct proto_wr *wr, const struct proto_match *m)
{
	if ((m->kind != KMSAUTHZ_SOURCE_KEY &&
	    m->kind != KMSAUTHZ_SOURCE_POLICY) ||
	    (m->flags & ~KMSAUTHZ_MATCH_FLAGS) != 0 || m->name.len == 0 ||
	    ((m->flags & KMSAUTHZ_MATCH_HAS_SID) == 0 && m->sid.len != 0)) {
		proto_wr_fail(wr, KMSAUTHZ_EINVAL);
		return;
	}
	proto_wr_u8(wr, m->kind);
	proto_wr_u8(wr, m->flags);
	proto_wr_u32(wr, m->index);
	proto_wr_str(wr, KMSAUTHZ_MAX_SOURCE_NAME, &m->name);
	proto_wr_str(wr, KMSAUTHZ_MAX_SID, &m->sid);
}

void
proto_answer_encode(struct proto_wr *wr, const struct proto_answer *m)
{
	uint8_t	i;

	if (!proto_decision_reason_ok(m->decision, m->reason) ||
	    (m->flags & ~KMSAUTHZ_ANSWER_FLAGS) != 0 ||
	    m->nmatch > KMSAUTHZ_MAX_MATCHED) {
		proto_wr_fail(wr, KMSAUTHZ_EINVAL);
		return;
	}
	proto_wr_u8(wr, m->decision);
	proto_wr_u8(wr, m->reason);
	proto_wr_u8(wr, m->flags);
	proto_wr_u8(wr, m->nmatch);
	proto_wr_u64(wr, m->generation);
	for (i = 0; i < m->nmatch; i++)
		proto_match_encode(wr, &m->match[i]);
	if ((m->flags & KMSAUTHZ_ANSWER_WHY) &&
	    proto_why_encode(wr, &m->why) == -1)
		proto_wr_fail(wr, KMSAUTHZ_EINVAL);
}

/* ERROR. */

int
proto_error_decode(const void *buf, size_t len, struct proto_error *m)
{
	struct proto_rd	rd;

	proto_rd_init(&rd, buf, len);
	m->code = proto_rd_u16(&rd);
	if (proto_rd_u16(&rd) != 0)
		proto_rd_fail(&rd, KMSAUTHZ_EPROTO);
	proto_rd_str(&rd, KMSAUTHZ_MAX_ERROR_MESSAGE, &m->message);
	if (rd.err == 0 && (m->code == 0 || m->code > KMSAUTHZ_WERR_MAX))
		proto_rd_fail(&rd, KMSAUTHZ_EPROTO);
	return (proto_rd_end(&rd));
}

void
proto_error_encode(struct proto_wr *wr, const struct proto_error *m)
{
	if (m->code == 0 || m->code > KMSAUTHZ_WERR_MAX) {
		proto_wr_fail(wr, KMSAUTHZ_EINVAL);
		return;
	}
	proto_wr_u16(wr, m->code);
	proto_wr_u16(wr, 0);
	proto_wr_str(wr, KMSAUTHZ_MAX_ERROR_MESSAGE, &m->message);
}

/* ADMIN_REQUEST / ADMIN_RESPONSE. */

int
proto_admin_decode(const void *buf, size_t len, size_t max,
    struct proto_admin *m)
{
	struct proto_rd	rd;
	uint32_t	jlen;
	uint16_t	slen;

	memset(m, 0, sizeof(*m));
	if (len > max)
		return (KMSAUTHZ_ETOOBIG);
	proto_rd_init(&rd, buf, len);
	m->flags = proto_rd_u8(&rd);
	if (proto_rd_u8(&rd) != 0 || proto_rd_u16(&rd) != 0)
		proto_rd_fail(&rd, KMSAUTHZ_EPROTO);
	jlen = proto_rd_u32(&rd);
	if (rd.err == 0 && ((m->flags & ~KMSAUTHZ_ADMIN_FLAGS) != 0 ||
	    jlen == 0 || jlen > rd.len - rd.off ||
	    memchr(rd.p + rd.off, '\0', jlen) != NULL))
		proto_rd_fail(&rd, KMSAUTHZ_EPROTO);
	if (rd.err != 0)
		return (rd.err);
	m->json.ptr = (const char *)rd.p + rd.off;
	m->json.len = jlen;
	rd.off += jlen;
	if (m->flags & KMSAUTHZ_ADMIN_SIGNED) {
		slen = proto_rd_u16(&rd);
		if (rd.err == 0 && (slen == 0 ||
		    slen > KMSAUTHZ_MAX_ADMIN_SIGNATURE ||
		    slen > rd.len - rd.off))
			proto_rd_fail(&rd, KMSAUTHZ_EPROTO);
		if (rd.err == 0) {
			m->signature.ptr = (const char *)rd.p + rd.off;
			m->signature.len = slen;
			rd.off += slen;
		}
	}
	return (proto_rd_end(&rd));
}

void
proto_admin_encode(struct proto_wr *wr, const struct proto_admin *m)
{
	int	 signed_ = (m->flags & KMSAUTHZ_ADMIN_SIGNED) != 0;

	if ((m->flags & ~KMSAUTHZ_ADMIN_FLAGS) != 0 || m->json.len == 0 ||
	    m->json.len > UINT32_MAX || m->json.ptr == NULL ||
	    memchr(m->json.ptr, '\0', m->json.len) != NULL ||
	    (signed_ && (m->signature.len == 0 || m->signature.ptr == NULL ||
	    m->signature.len > KMSAUTHZ_MAX_ADMIN_SIGNATURE)) ||
	    (!signed_ && m->signature.len != 0)) {
		proto_wr_fail(wr, KMSAUTHZ_EINVAL);
		return;
	}
	proto_wr_u8(wr, m->flags);
	proto_wr_u8(wr, 0);
	proto_wr_u16(wr, 0);
	proto_wr_u32(wr, (uint32_t)m->json.len);
	proto_wr_bytes(wr, m->json.ptr, m->json.len);
	if (signed_) {
		proto_wr_u16(wr, (uint16_t)m->signature.len);
		proto_wr_bytes(wr, m->signature.ptr, m->signature.len);
	}
}
