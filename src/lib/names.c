/* SPDX-License-Identifier: ISC */
/*
 * names.c: static texts for error codes, decisions and reasons.
 */
#include <stddef.h>

#include "kmsauthz.h"

const char *
kmsauthz_strerror(int err)
{
	switch (err) {
	case KMSAUTHZ_OK:
		return ("success");
	case KMSAUTHZ_EINVAL:
		return ("invalid argument");
	case KMSAUTHZ_ENOMEM:
		return ("out of memory");
	case KMSAUTHZ_ECONNECT:
		return ("cannot connect to kmsauthzd");
	case KMSAUTHZ_ETIMEDOUT:
		return ("timed out");
	case KMSAUTHZ_EIO:
		return ("I/O error");
	case KMSAUTHZ_ECLOSED:
		return ("connection closed by kmsauthzd");
	case KMSAUTHZ_EPROTO:
		return ("protocol error (malformed frame)");
	case KMSAUTHZ_EVERSION:
		return ("no common protocol version");
	case KMSAUTHZ_ETOOBIG:
		return ("frame too large");
	case KMSAUTHZ_ESERVER:
		return ("kmsauthzd answered with an error");
	case KMSAUTHZ_EAGAIN:
		return ("try again later");
	case KMSAUTHZ_EBUSY:
		return ("too many requests in flight");
	case KMSAUTHZ_EBROKEN:
		return ("connection unusable after an earlier error");
	case KMSAUTHZ_ESTALE:
		return ("kmsauthzd did not reach the minimum generation in "
		    "time");
	default:
		return ("unknown error");
	}
}

const char *
kmsauthz_decision_name(int decision)
{
	switch (decision) {
	case KMSAUTHZ_ALLOW:
		return ("ALLOW");
	case KMSAUTHZ_EXPLICIT_DENY:
		return ("EXPLICIT_DENY");
	case KMSAUTHZ_IMPLICIT_DENY:
		return ("IMPLICIT_DENY");
	default:
		return (NULL);
	}
}

const char *
kmsauthz_reason_name(int reason)
{
	static const char *const names[] = {
		NULL,
		"allowed-by-identity-policy",
		"allowed-by-key-policy",
		"allowed-by-both",
		"allowed-as-account-root",
		"explicit-deny",
		"no-matching-allow",
		"cross-account-needs-identity-allow",
		"cross-account-needs-key-policy-allow",
		"key-not-found",
		"invalid-request",
	};

	if (reason < 0 || reason > KMSAUTHZ_REASON_MAX)
		return (NULL);
	return (names[reason]);
}
