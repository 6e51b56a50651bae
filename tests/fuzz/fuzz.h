/* SPDX-License-Identifier: ISC */
/*
 * fuzz.h: the libFuzzer entry points every fuzz-NAME.c defines (and that
 * replay.c calls when it replays a corpus without libFuzzer).
 */
#ifndef KMSAUTHZ_FUZZ_H
#define KMSAUTHZ_FUZZ_H

#include <stddef.h>
#include <stdint.h>

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);
/* Optional: a target may define it; replay.c calls it when present. */
int	LLVMFuzzerInitialize(int *, char ***) __attribute__((__weak__));

#endif
