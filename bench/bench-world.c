/* SPDX-License-Identifier: ISC */
/*
 * bench-world: writes the daemon benchmark's world and requests
 * (make bench; bench/run-bench.sh; docs/benchmarks.md).
 *
 * The bundle (docs/bundle-format.md) is bench-engine's world: 10
 * accounts and instances, 10,000 keys in instances each with a key
 * policy (the owner account; one key in four also grants a user and a
 * role of another account, half of those under an IpAddress condition;
 * one in three denies ScheduleKeyDeletion/DisableKey without MFA), two
 * tags each, 1,000 aliases, 2,000 identity policies from five
 * templates, 1,000 principals (800 users in 100 groups, 200 roles) with
 * 1 to 5 attached policies.  The requests (one per line, tab-separated:
 * principal, action, resource, source address or "-") are drawn with a
 * fixed seed: 75 % a key of the caller's account, 15 % any key, 7 % an
 * alias, 3 % an unknown key; ten actions; three in four with an address.
 *
 *   bench-world [-n REQUESTS] [-s SEED] BUNDLE.json REQUESTS.tsv
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NACCT		10
#define NKEYS		10000
#define NALIASES	1000
#define NPOLICIES	2000
#define NUSERS		800
#define NROLES		200
#define NGROUPS		100

static uint64_t	bw_rng_state;
static char	bw_acct[NACCT][20];

static uint64_t	bw_rng(void);
static unsigned	bw_rnd(unsigned);
static void	bw_usage(void);
static void	bw_bundle(FILE *);
static void	bw_policies(FILE *, unsigned);
static void	bw_requests(FILE *, unsigned long);

/* splitmix64: the same generator as bench-engine. */
static uint64_t
bw_rng(void)
{
	uint64_t	z = (bw_rng_state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return (z ^ (z >> 31));
}

static unsigned
bw_rnd(unsigned n)
{
	return ((unsigned)(bw_rng() % n));
}

static void
bw_usage(void)
{
	fprintf(stderr, "usage: bench-world [-n REQUESTS] [-s SEED] "
	    "BUNDLE.json REQUESTS.tsv\n");
	exit(2);
}

/* n (at most 5) distinct policy names of the principal's account. */
static void
bw_policies(FILE *f, unsigned n)
{
	unsigned	j, x;

	x = bw_rnd(NPOLICIES / NACCT);
	fprintf(f, "\"Policies\":[");
	for (j = 0; j < n; j++)
		fprintf(f, "%s\"p%u\"", j ? "," : "",
		    (x + j * 37) % (NPOLICIES / NACCT));
	fprintf(f, "]");
}

static void
bw_bundle(FILE *f)
{
	unsigned	i, a, o;

	fprintf(f, "{\"FormatVersion\":1,\n\"Instances\":[");
	for (a = 0; a < NACCT; a++)
		fprintf(f, "%s\n{\"InstanceId\":\"kst-%u\",\"State\":\"Enabled\","
		    "\"ShareQuota\":100}", a ? "," : "", a);
	fprintf(f, "],\n\"Keys\":[");
	for (i = 0; i < NKEYS; i++) {
		a = i % NACCT;
		o = (a + 1 + bw_rnd(NACCT - 1)) % NACCT;
		fprintf(f, "%s\n{\"KeyId\":\"key-%08u\",\"Region\":\"cn-hangzhou\","
		    "\"Creator\":\"%s\",\"DKMSInstanceId\":\"kst-%u\","
		    "\"KeyState\":\"Enabled\",\"Tags\":{\"Project\":\"%s\","
		    "\"Env\":\"prod\"},\"KeyPolicy\":{\"Version\":\"1\","
		    "\"Statement\":[{\"Sid\":\"owner\",\"Effect\":\"Allow\","
		    "\"Principal\":{\"RAM\":[\"acs:ram::%s:*\"]},"
		    "\"Action\":[\"kms:*\"],\"Resource\":[\"*\"]}",
		    i ? "," : "", i, bw_acct[a], a, i % 2 ? "Apollo" : "Hermes",
		    bw_acct[a]);
		if (i % 4 == 0)
			fprintf(f, ",{\"Sid\":\"partner\",\"Effect\":\"Allow\","
			    "\"Principal\":{\"RAM\":[\"acs:ram::%s:user/u%u\","
			    "\"acs:ram::%s:role/r%u\"]},\"Action\":"
			    "[\"kms:Decrypt\",\"kms:Encrypt\",\"kms:Generate*\"],"
			    "\"Resource\":[\"*\"]%s}", bw_acct[o],
			    bw_rnd(NUSERS), bw_acct[o], bw_rnd(NROLES),
			    i % 8 == 0 ? ",\"Condition\":{\"IpAddress\":"
			    "{\"acs:SourceIp\":[\"10.0.0.0/8\","
			    "\"192.168.0.0/16\"]}}" : "");
		if (i % 3 == 0)
			fprintf(f, ",{\"Sid\":\"no-delete\",\"Effect\":\"Deny\","
			    "\"Principal\":{\"RAM\":[\"*\"]},\"Action\":"
			    "[\"kms:ScheduleKeyDeletion\",\"kms:DisableKey\"],"
			    "\"Resource\":[\"*\"],\"Condition\":{\"Bool\":"
			    "{\"acs:MFAPresent\":[\"false\"]}}}");
		fprintf(f, "]}}");
	}
	fprintf(f, "],\n\"Aliases\":[");
	for (i = 0; i < NALIASES; i++)
		fprintf(f, "%s\n{\"AliasName\":\"alias/a%u\","
		    "\"KeyId\":\"key-%08u\"}", i ? "," : "", i, i * 7 % NKEYS);
	fprintf(f, "],\n\"Policies\":[");
	for (i = 0; i < NPOLICIES; i++) {
		a = i % NACCT;
		fprintf(f, "%s\n{\"PolicyName\":\"p%u\",\"Account\":\"%s\","
		    "\"PolicyDocument\":", i ? "," : "", i / NACCT,
		    bw_acct[a]);
		switch (i % 5) {
		case 0:
			fprintf(f, "{\"Version\":\"1\",\"Statement\":[{\"Effect\":"
			    "\"Allow\",\"Action\":[\"kms:Encrypt\","
			    "\"kms:Decrypt\",\"kms:GenerateDataKey\"],"
			    "\"Resource\":[\"acs:kms:*:%s:key/*\"]}]}",
			    bw_acct[a]);
			break;
		case 1:
			fprintf(f, "{\"Version\":\"1\",\"Statement\":[{\"Effect\":"
			    "\"Allow\",\"Action\":\"kms:*\",\"Resource\":"
			    "[\"acs:kms:cn-hangzhou:%s:key/key-%08u\","
			    "\"acs:kms:cn-hangzhou:%s:alias/*\"],\"Condition\":"
			    "{\"IpAddress\":{\"acs:SourceIp\":\"10.0.0.0/8\"}}}]}",
			    bw_acct[a], bw_rnd(NKEYS), bw_acct[a]);
			break;
		case 2:
			fprintf(f, "{\"Version\":\"1\",\"Statement\":[{\"Sid\":"
			    "\"nodel\",\"Effect\":\"Deny\",\"Action\":"
			    "\"kms:ScheduleKeyDeletion\",\"Resource\":\"*\"},"
			    "{\"Effect\":\"Allow\",\"Action\":[\"kms:Describe*\","
			    "\"kms:List*\"],\"Resource\":\"*\"}]}");
			break;
		case 3:
			fprintf(f, "{\"Version\":\"1\",\"Statement\":[{\"Effect\":"
			    "\"Allow\",\"Action\":[\"kms:Get*\",\"kms:Decrypt\"],"
			    "\"Resource\":\"*\",\"Condition\":{\"Bool\":"
			    "{\"acs:SecureTransport\":true},\"StringEquals\":"
			    "{\"kms:tag/Project\":\"Apollo\"}}}]}");
			break;
		default:
			fprintf(f, "{\"Version\":\"1\",\"Statement\":[{\"Effect\":"
			    "\"Allow\",\"Action\":\"kms:Sign\",\"Resource\":"
			    "\"acs:kms:cn-hangzhou:%s:key/key-0000*\","
			    "\"Condition\":{\"DateLessThan\":{\"acs:CurrentTime\":"
			    "\"2030-01-01T00:00:00Z\"}}}]}", bw_acct[a]);
			break;
		}
		fprintf(f, "}");
	}
	fprintf(f, "],\n\"Groups\":[");
	for (i = 0; i < NGROUPS; i++) {
		fprintf(f, "%s\n{\"Account\":\"%s\",\"GroupName\":\"g%u\",",
		    i ? "," : "", bw_acct[i % NACCT], i);
		bw_policies(f, 1);
		fprintf(f, "}");
	}
	fprintf(f, "],\n\"Users\":[");
	for (i = 0; i < NUSERS; i++) {
		a = i % NACCT;
		/* A group of the same account: g(k * NACCT + a). */
		fprintf(f, "%s\n{\"Account\":\"%s\",\"UserName\":\"u%u\","
		    "\"Groups\":[\"g%u\"],", i ? "," : "", bw_acct[a], i,
		    bw_rnd(NGROUPS / NACCT) * NACCT + a);
		bw_policies(f, 1 + bw_rnd(5));
		fprintf(f, "}");
	}
	fprintf(f, "],\n\"Roles\":[");
	for (i = 0; i < NROLES; i++) {
		fprintf(f, "%s\n{\"Account\":\"%s\",\"RoleName\":\"r%u\",",
		    i ? "," : "", bw_acct[i % NACCT], i);
		bw_policies(f, 1 + bw_rnd(5));
		fprintf(f, "}");
	}
	fprintf(f, "]}\n");
}

static void
bw_requests(FILE *f, unsigned long n)
{
	static const char *actions[] = {
		"kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey",
		"kms:DescribeKey", "kms:ListKeys", "kms:GetPublicKey",
		"kms:Sign", "kms:ScheduleKeyDeletion", "kms:DisableKey",
		"kms:TagResource",
	};
	unsigned long	r;
	unsigned	p, a, k, pick;
	char		principal[96], resource[128], ip[32];

	for (r = 0; r < n; r++) {
		p = bw_rnd(NUSERS + NROLES);
		if (p < NUSERS) {
			a = p % NACCT;
			snprintf(principal, sizeof(principal),
			    "acs:ram::%s:user/u%u", bw_acct[a], p);
		} else {
			a = (p - NUSERS) % NACCT;
			snprintf(principal, sizeof(principal),
			    "acs:ram::%s:role/r%u", bw_acct[a], p - NUSERS);
		}
		if (bw_rnd(100) == 0)
			snprintf(principal, sizeof(principal),
			    "acs:ram::%s:root", bw_acct[a]);
		pick = bw_rnd(100);
		if (pick < 75) {
			k = bw_rnd(NKEYS / NACCT) * NACCT + a;
			snprintf(resource, sizeof(resource),
			    "acs:kms:cn-hangzhou:%s:key/key-%08u", bw_acct[a], k);
		} else if (pick < 90) {
			k = bw_rnd(NKEYS);
			snprintf(resource, sizeof(resource),
			    "acs:kms:cn-hangzhou:%s:key/key-%08u",
			    bw_acct[k % NACCT], k);
		} else if (pick < 97) {
			k = bw_rnd(NALIASES);
			snprintf(resource, sizeof(resource),
			    "acs:kms:cn-hangzhou:%s:alias/a%u",
			    bw_acct[(k * 7 % NKEYS) % NACCT], k);
		} else
			snprintf(resource, sizeof(resource),
			    "acs:kms:cn-hangzhou:%s:key/key-unknown%u",
			    bw_acct[a], bw_rnd(1000));
		if (bw_rnd(4) != 0)
			snprintf(ip, sizeof(ip), "%s.%u.%u.%u",
			    bw_rnd(2) ? "10" : "203", bw_rnd(256), bw_rnd(256),
			    1 + bw_rnd(254));
		else
			snprintf(ip, sizeof(ip), "-");
		fprintf(f, "%s\t%s\t%s\t%s\n", principal,
		    actions[bw_rnd(sizeof(actions) / sizeof(actions[0]))],
		    resource, ip);
	}
}

int
main(int argc, char **argv)
{
	FILE		*bf, *rf;
	unsigned long	 n = 100000;
	unsigned	 a;
	int		 ch;

	bw_rng_state = 42;
	while ((ch = getopt(argc, argv, "n:s:")) != -1) {
		switch (ch) {
		case 'n':
			n = strtoul(optarg, NULL, 10);
			break;
		case 's':
			bw_rng_state = strtoull(optarg, NULL, 10);
			break;
		default:
			bw_usage();
		}
	}
	if (argc - optind != 2 || n == 0 || n > 10000000)
		bw_usage();
	for (a = 0; a < NACCT; a++)
		snprintf(bw_acct[a], sizeof(bw_acct[a]), "11928530351%05u", a);
	if ((bf = fopen(argv[optind], "w")) == NULL) {
		perror(argv[optind]);
		return (1);
	}
	bw_bundle(bf);
	if (fclose(bf) != 0) {
		perror(argv[optind]);
		return (1);
	}
	if ((rf = fopen(argv[optind + 1], "w")) == NULL) {
		perror(argv[optind + 1]);
		return (1);
	}
	bw_requests(rf, n);
	if (fclose(rf) != 0) {
		perror(argv[optind + 1]);
		return (1);
	}
	return (0);
}
