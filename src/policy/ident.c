/* SPDX-License-Identifier: ISC */
/*
 * ident.c: the rules for identifiers (ident.h).  Byte rules only: ASCII
 * letters and digits, never a locale's idea of them.
 */
#include <string.h>

#include "policy/ident.h"

static int
ident_alnum(char c)
{
	return ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9'));
}

int
ident_chars(const char *s, size_t len, const char *extra)
{
	size_t	 i;

	if (len == 0)
		return (0);
	for (i = 0; i < len; i++)
		if (!ident_alnum(s[i]) && (s[i] == '\0' ||
		    strchr(extra, s[i]) == NULL))
			return (0);
	return (1);
}

int
ident_account(const char *s, size_t len)
{
	return (len > 0 && strspn(s, "0123456789") == len);
}

int
ident_bounded(const char *s, size_t max)
{
	size_t	 n;

	return (s != NULL && (n = strlen(s)) > 0 && n <= max);
}

int
ident_alias(const char *s, size_t len)
{
	return (len > 6 && memcmp(s, "alias/", 6) == 0);
}

int
ident_alias_name(const char *s, size_t len)
{
	return (ident_alias(s, len) && len <= IDENT_ALIAS_MAX &&
	    ident_chars(s + 6, len - 6, "-_/"));
}

int
ident_policy_name(const char *s, size_t len)
{
	return (len <= IDENT_POLICY_NAME_MAX && ident_chars(s, len, ".-"));
}

int
ident_key_id(const char *s, size_t len)
{
	return (ident_chars(s, len, "-_."));
}
