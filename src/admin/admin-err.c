/* SPDX-License-Identifier: ISC */
/*
 * admin-err.c: the API errors of docs/semantics.md section 6 (codes,
 * messages and HTTP statuses as on the SetKeyPolicy/GetKeyPolicy pages)
 * and RequestIds.
 */
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>
#include <sodium.h>

#include "admin/admin.h"

struct admin_err_entry {
	const char	*code;
	int		 http;
	const char	*message;
};

static const struct admin_err_entry admin_errs[ADMIN_E_COUNT] = {
	[ADMIN_OK] = { NULL, 200, NULL },
	[ADMIN_E_MISSING_PARAMETER] = { "MissingParameter", 400,
	    "The parameter needed but no provided." },
	[ADMIN_E_INVALID_PARAMETER] = { "InvalidParameter", 400,
	    "The specified parameter is not valid." },
	[ADMIN_E_NO_PERMISSION] = { "Forbidden.NoPermission", 400,
	    "This operation is forbidden by permission system." },
	[ADMIN_E_KEY_POLICY_UNSUPPORTED] = { "Forbidden.KeyPolicyUnSupported",
	    400, "The specified key does not support key policy." },
	[ADMIN_E_SHARE_QUOTA] = { "Rejected.ShareQuotaExceedLimit", 400,
	    "Instance Share Quota Exceed Limit." },
	[ADMIN_E_INSTANCE_STATE] = { "Forbidden.DKMSInstanceStateInvalid",
	    403, "The DKMS instance state is invalid." },
	[ADMIN_E_KEY_NOT_FOUND] = { "Forbidden.KeyNotFound", 404,
	    "The specified Key is not found." },
	[ADMIN_E_RESOURCE_NOT_FOUND] = { "Forbidden.ResourceNotFound", 404,
	    "Policy not found." },
	[ADMIN_E_INTERNAL] = { "InternalFailure", 500, "Internal Failure" },
	[ADMIN_E_UNAVAILABLE] = { "ServiceUnavailable", 503,
	    "The request has failed due to a temporary failure of the "
	    "server." },
};

const char *
admin_err_code(enum admin_err e)
{
	if ((unsigned)e >= ADMIN_E_COUNT)
		return (NULL);
	return (admin_errs[e].code);
}

const char *
admin_err_message(enum admin_err e)
{
	if ((unsigned)e >= ADMIN_E_COUNT)
		return (NULL);
	return (admin_errs[e].message);
}

int
admin_err_http(enum admin_err e)
{
	if ((unsigned)e >= ADMIN_E_COUNT)
		return (500);
	return (admin_errs[e].http);
}

int
admin_err_parse(const char *code, enum admin_err *ep)
{
	int	i;

	for (i = 1; i < ADMIN_E_COUNT; i++) {
		if (strcmp(code, admin_errs[i].code) == 0) {
			*ep = (enum admin_err)i;
			return (0);
		}
	}
	return (-1);
}

void
admin_request_id(char buf[ADMIN_REQUEST_ID_LEN + 1])
{
	static const char	hex[] = "0123456789ABCDEF";
	unsigned char		r[16];
	size_t			i, o = 0;

	randombytes_buf(r, sizeof(r));
	/* The shape of a version-4 UUID: 8-4-4-4-12. */
	r[6] = (r[6] & 0x0f) | 0x40;
	r[8] = (r[8] & 0x3f) | 0x80;
	for (i = 0; i < sizeof(r); i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			buf[o++] = '-';
		buf[o++] = hex[r[i] >> 4];
		buf[o++] = hex[r[i] & 0x0f];
	}
	buf[o] = '\0';
}

struct json_object *
admin_err_json(enum admin_err e, const char *request_id, const char *detail)
{
	struct json_object	*o;

	if ((unsigned)e >= ADMIN_E_COUNT || e == ADMIN_OK)
		e = ADMIN_E_INTERNAL;
	if ((o = json_object_new_object()) == NULL)
		return (NULL);
	if (json_object_object_add(o, "RequestId",
	    json_object_new_string(request_id)) != 0 ||
	    json_object_object_add(o, "Code",
	    json_object_new_string(admin_errs[e].code)) != 0 ||
	    json_object_object_add(o, "Message",
	    json_object_new_string(admin_errs[e].message)) != 0 ||
	    json_object_object_add(o, "HttpStatus",
	    json_object_new_int(admin_errs[e].http)) != 0)
		goto fail;
	if (detail != NULL && *detail != '\0' &&
	    json_object_object_add(o, "Detail",
	    json_object_new_string(detail)) != 0)
		goto fail;
	return (o);
fail:
	json_object_put(o);
	return (NULL);
}
