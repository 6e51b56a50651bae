/* SPDX-License-Identifier: ISC */
/*
 * admin-run.h: the admin plane's private parts, shared by the pipeline
 * (admin-exec.c) and the handlers of each service (admin-kms.c,
 * admin-ram.c, admin-state.c) and the deletion scheduler
 * (admin-sched.c).  A call is a row of admin-calls.def: the pipeline
 * identifies the caller, parses the request, resolves what the row says
 * the call names, authorizes it, and runs the row's handlers: check
 * (before a change is audited), then the audit intent, then run.
 */
#ifndef KMSAUTHZ_ADMIN_RUN_H
#define KMSAUTHZ_ADMIN_RUN_H

#include <stddef.h>
#include <stdint.h>

#include "admin/admin-exec.h"
#include "admin/admin.h"
#include "engine/world.h"
#include "policy/policy.h"

struct json_object;
struct policy_diags;
struct store_policy_version;

#define ADMIN_SCHED_MAX	65536

struct admin_sched {
	char	key_id[129];
	int64_t	when;
};

struct admin_ctx {
	struct admin_conf	 conf;
	struct store		*store;
	struct audit		*audit;
	struct admin_keyring	*keys;
	struct admin_replay	*replay;
	/* A mirror of the store's scheduled deletions, for the timer. */
	struct admin_sched	*sched;
	size_t			 nsched;
	int			 resync;	/* reload it from the store */
	admin_status_hook	 status_hook;	/* the daemon's Status figures */
	void			*status_arg;
};

/* What one call works on, looked up in the world before it runs. */
struct admin_run {
	struct admin_ctx	*ctx;
	struct admin_caller	*caller;
	struct admin_req	*req;
	struct world		*w;
	const char		*account;	/* acting account */
	struct world_key	 key;
	int			 has_key;
	struct world_instance	 inst;
	int			 has_inst;
	struct world_alias	 alias;
	int			 has_alias;
	/* A change's store call fills them for admin_done(). */
	uint64_t		 gen;		/* the new generation */
	struct policy_diags	 diags;		/* why a document was refused */
	char			 detail[512];
};

/* A list call's gathering: the account a principal sees (NULL: all). */
struct admin_list {
	struct json_object	*arr;
	const char		*account;
};

/* A handler: the answer (an error answer included); NULL from a check
 * means "go on". */
typedef struct json_object *(*admin_handler)(struct admin_run *);

/* admin-dry.c: 1 when the request asks for a DryRun; its answer. */
int	admin_dry_run(const struct admin_run *);
struct json_object *admin_dry(struct admin_run *);

/* admin-exec.c: what handlers share. */
struct json_object *admin_answer(const struct admin_req *);
struct json_object *admin_fail(struct admin_run *, enum admin_err,
	    const char *, ...) __attribute__((__format__(printf, 3, 4)));
enum admin_err	admin_store_err(int, int);
/* After a change's store call (its status; r->gen, r->diags): the
 * outcome record and the answer. */
struct json_object *admin_done(struct admin_run *, int);
/* A store read that failed (or no store): the error with its reason. */
struct json_object *admin_read_fail(struct admin_run *, enum admin_err);
void		admin_date(int64_t, char *, size_t);
void		admin_key_arn(char *, size_t, const char *, const char *,
		    const char *);
void		admin_set_str(struct json_object *, const char *,
		    const char *);
/* A stored document's lint warnings as the answer's "Warnings". */
void		admin_warnings(struct json_object *, enum policy_kind,
		    const char *, size_t, const char *);
void		admin_list_init(struct admin_list *, const struct admin_run *);
/* A new row of the listing; NULL: the account's rows are not shown. */
struct json_object *admin_list_row(struct admin_list *, const char *);
/* The answer: the rows sorted, under {outer: {inner: [...]}}, one page
 * of them when paged. */
struct json_object *admin_list_answer(struct admin_run *,
		    struct admin_list *, const char *, const char *, int);

/* admin-kms.c */
struct json_object *admin_kms_key_policy_check(struct admin_run *);
struct json_object *admin_kms_set_key_policy(struct admin_run *);
struct json_object *admin_kms_get_key_policy(struct admin_run *);
struct json_object *admin_kms_create_instance(struct admin_run *);
struct json_object *admin_kms_update_instance_state(struct admin_run *);
struct json_object *admin_kms_create_key_check(struct admin_run *);
struct json_object *admin_kms_create_key(struct admin_run *);
struct json_object *admin_kms_describe_key(struct admin_run *);
struct json_object *admin_kms_list_keys(struct admin_run *);
struct json_object *admin_kms_key_state_check(struct admin_run *);
struct json_object *admin_kms_set_key_state(struct admin_run *);
struct json_object *admin_kms_schedule_check(struct admin_run *);
struct json_object *admin_kms_schedule_deletion(struct admin_run *);
struct json_object *admin_kms_cancel_check(struct admin_run *);
struct json_object *admin_kms_cancel_deletion(struct admin_run *);
struct json_object *admin_kms_tags_change(struct admin_run *);
struct json_object *admin_kms_list_tags(struct admin_run *);
struct json_object *admin_kms_create_alias(struct admin_run *);
struct json_object *admin_kms_update_alias(struct admin_run *);
struct json_object *admin_kms_delete_alias(struct admin_run *);
struct json_object *admin_kms_list_aliases(struct admin_run *);

/* admin-ram.c */
struct json_object *admin_ram_create_principal(struct admin_run *);
struct json_object *admin_ram_delete_principal(struct admin_run *);
struct json_object *admin_ram_add_user_to_group(struct admin_run *);
struct json_object *admin_ram_remove_user_from_group(struct admin_run *);
struct json_object *admin_ram_create_policy(struct admin_run *);
struct json_object *admin_ram_delete_policy(struct admin_run *);
struct json_object *admin_ram_list_policies(struct admin_run *);
struct json_object *admin_ram_get_policy(struct admin_run *);
struct json_object *admin_ram_get_policy_version(struct admin_run *);
struct json_object *admin_ram_list_policy_versions(struct admin_run *);
struct json_object *admin_ram_custom_check(struct admin_run *);
struct json_object *admin_ram_version_check(struct admin_run *);
struct json_object *admin_ram_create_version(struct admin_run *);
struct json_object *admin_ram_set_default_version(struct admin_run *);
struct json_object *admin_ram_delete_version(struct admin_run *);
struct json_object *admin_ram_attach(struct admin_run *);
struct json_object *admin_ram_detach(struct admin_run *);

/* admin-state.c */
struct json_object *admin_state_import(struct admin_run *);
struct json_object *admin_state_export(struct admin_run *);
struct json_object *admin_state_status(struct admin_run *);

/* admin-sched.c */
int	admin_sched_add(struct admin_ctx *, const char *, int64_t);
void	admin_sched_del(struct admin_ctx *, const char *);
int	admin_sched_load(struct admin_ctx *);

#endif
