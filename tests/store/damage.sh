#!/bin/sh
# SPDX-License-Identifier: ISC
# Seeded random damage to a store of 1,500 keys (tests/store/damage.c):
# the daemon's open and kmsauthzctl verify end by an exit status, never
# a signal, and name the table (and page) of what they refuse.
# KMSAUTHZ_DAMAGE_TRIALS (200) and KMSAUTHZ_DAMAGE_SEED change the run.
B=$(cd "${top_builddir:-.}" && pwd)
exec "$B/tests/store/damage" "$B/src/ctl/kmsauthzctl"
