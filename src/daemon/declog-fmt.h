/* SPDX-License-Identifier: ISC */
/*
 * declog-fmt.h: a decision log record as it sits in a ring (written by
 * declog.c on the decision path) and its JSON line (declog-fmt.c, on
 * the writer thread).
 */
#ifndef KMSAUTHZ_DECLOG_FMT_H
#define KMSAUTHZ_DECLOG_FMT_H

#include <stddef.h>
#include <stdint.h>

#include "daemon/declog.h"
#include "engine/eval.h"

/* A line, at most: every record byte escapes to 6 bytes at most. */
#define DECLOG_LINE_MAX		(8 * DECLOG_REC_MAX)

/* Record flags. */
#define DL_CUT		0x01	/* a field or list was cut short */
#define DL_VALUES	0x02	/* context values follow each key */
#define DL_EXPLAIN	0x04	/* the check asked for an explanation */
#define DL_MCUT		0x08	/* the answer's statement list was cut */

/*
 * A record's fixed part; then principal, action, resource (plen, alen,
 * rlen bytes); nctx times a key (1-byte length, bytes) and with
 * DL_VALUES its value (2-byte length, bytes); nmatch times a statement
 * (1 byte: 1 for a key policy, 4-byte index, 2-byte name length, name,
 * 2-byte Sid length, Sid); then padding to 8.
 */
struct declog_hdr {
	uint32_t	len;		/* whole record, or DECLOG_WRAP */
	uint8_t		decision;
	uint8_t		reason;
	uint8_t		flags;
	uint8_t		ip_len;
	int64_t		sec;
	uint32_t	usec;
	uint32_t	reqid;
	uint64_t	generation;
	uint32_t	uid;
	int32_t		pid;
	int32_t		item;		/* batch index, -1: a lone CHECK */
	uint16_t	plen, alen, rlen;
	uint8_t		nctx, nmatch;
	uint8_t		ip[16];
};

/* The formatter's state: tables and the second last formatted. */
struct declog_fmt {
	int64_t		sec;		/* stamp is for this second */
	int		have_sec;
	size_t		stamplen;
	char		stamp[48];	/* {"time":"YYYY-MM-DDTHH:MM:SS. */
	/* Z","decision":"D","reason":"R","principal": by decision, reason */
	uint8_t		midlen[3][EVAL_R_COUNT + 1];
	char		mid[3][EVAL_R_COUNT + 1][112];
};

void	 declog_fmt_init(struct declog_fmt *);
/*
 * One record as a JSON line ending in a newline: its length.  out must
 * have DECLOG_LINE_MAX bytes of room; rec is a record of at most
 * DECLOG_REC_MAX bytes, as declog.c writes it.
 */
size_t	 declog_fmt_line(struct declog_fmt *, char *out, const uint8_t *rec);
/* The parts, for the tests: at most 6 * len, 46 and 20 bytes. */
size_t	 declog_fmt_str(char *out, const uint8_t *s, size_t len);
size_t	 declog_fmt_ip(char *out, const uint8_t *ip, size_t iplen);
size_t	 declog_fmt_u64(char *out, uint64_t v);

#endif
