/* SPDX-License-Identifier: BSD-2-Clause */
/* What the libFuzzer harnesses share: the entry point and their check. */
#ifndef PREFORKD_FUZZ_H
#define PREFORKD_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Names the invariant before the abort that libFuzzer reports. */
#define CHECK(cond)	do {						\
	if (!(cond)) {							\
		fprintf(stderr, "%s:%d: invariant broken: %s\n",	\
			__FILE__, __LINE__, #cond);			\
		abort();						\
	}								\
} while (0)

#endif
