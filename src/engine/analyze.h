/* SPDX-License-Identifier: ISC */
/*
 * analyze.h: who may do what, over every context (docs/analysis.md).
 *
 * Pure C.  A request's decision depends on its principal, action and
 * resource, which the analysis fixes, and on its context (source IP,
 * time, context entries), which it does not.  The conditions that read
 * the context, in the statements that concern a (principal, resource)
 * pair, split each context key's values into finitely many regions;
 * analyze_space_new picks a witness in each (and "absent") and the
 * analysis decides with eval_decide in every combination of them, so a
 * verdict is the engine's own decision, exhaustively over the regions.
 */
#ifndef KMSAUTHZ_ANALYZE_H
#define KMSAUTHZ_ANALYZE_H

#include <stddef.h>
#include <stdint.h>

#include "engine/eval.h"

struct world;
struct cpolicy_image;

enum analyze_verdict {
	ANALYZE_NEVER = 0,	/* denied in every context */
	ANALYZE_CONDITIONAL,	/* allowed in some contexts, not all */
	ANALYZE_ALWAYS		/* allowed in every context */
};

/* More combinations than this for one action make its verdict inexact
 * (a key past the cap keeps its first witness; docs/analysis.md). */
#define ANALYZE_MAX_CONTEXTS	4096
#define ANALYZE_MAX_GRANTS	32

/* A statement that allowed (or, deny set, denied) in some context. */
struct analyze_grant {
	struct eval_match		 stmt;
	int				 deny;
	const struct cpolicy_image	*img;	/* for its conditions */
};

struct analyze_result {
	enum analyze_verdict	 verdict;
	int			 exact;		/* every region decided */
	size_t			 ncontexts;	/* decided */
	size_t			 ngrants;
	int			 grants_truncated;
	struct analyze_grant	 grant[ANALYZE_MAX_GRANTS];
};

/* The witness contexts of one (principal, resource) pair. */
struct analyze_space;

/*
 * The space of principal (an ARN eval_principal_valid accepts) and
 * resource (an ARN) in w: NULL when out of memory or when either is not
 * a valid request part (errno EINVAL).
 */
struct analyze_space *analyze_space_new(const struct world *,
	    const char *principal, const char *resource);
void	analyze_space_free(struct analyze_space *);
/* 1 when every witness was kept (no list full). */
int	analyze_space_exact(const struct analyze_space *);

/*
 * Decide action over the space.  key_half: judge only the key policy's
 * half (section 4.4; ALLOW in a context counts as allowed), for a
 * principal pattern the world does not hold.  Returns 0, -1 on error.
 */
int	analyze_decide(const struct world *, const struct analyze_space *,
	    const char *action, int key_half, struct analyze_result *);

/*
 * Every principal of the world, sorted and unique: its users and roles
 * and the root of every account it names (principals', groups',
 * policies', keys' creators' and the accounts key policies name).  0, or
 * -1 when out of memory.
 */
int	analyze_principals(const struct world *, char ***, size_t *);
void	analyze_principals_free(char **, size_t);

/*
 * Every principal of analyze_principals that may do some of actions on
 * resource: cb(principal, action index, verdict) for each verdict that
 * is not NEVER, principals in order.  0, or -1 when out of memory.
 */
typedef void (*analyze_who_cb)(const char *, size_t,
    const struct analyze_result *, void *);
int	analyze_who_can(const struct world *, const char *resource,
	    const char *const *actions, size_t nactions, analyze_who_cb,
	    void *);

/*
 * What a change does: for every principal of prin and resource of res
 * and every catalog action whose verdict differs between the worlds
 * before and after, cb(principal, action, resource, gained, conditional)
 * once for the grant lost (gained 0, unless it was never allowed) and
 * once for the one gained (unless it is never allowed now).  0, or -1
 * when out of memory.
 */
typedef void (*analyze_row_cb)(const char *, const char *, const char *,
    int, int, void *);
int	analyze_impact(const struct world *before, const struct world *after,
	    char *const *prin, size_t nprin, char *const *res, size_t nres,
	    analyze_row_cb, void *);

/* The known KMS actions, the analysis catalog (cpolicy_action_name). */
size_t		 analyze_action_count(void);
const char	*analyze_action(size_t);

#endif
