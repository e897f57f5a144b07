/* SPDX-License-Identifier: BSD-2-Clause */
/* Worker state in shared memory, created by the master before any fork. */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "scoreboard.h"

int
scoreboard_create(struct scoreboard *sb, size_t nslots)
{
	void *p;

	/* Anonymous shared pages are zeroed: every slot starts SLOT_FREE. */
	p = mmap(NULL, nslots * sizeof(struct slot), PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return -1;
	sb->slots = p;
	sb->nslots = nslots;
	return 0;
}

void
scoreboard_destroy(struct scoreboard *sb)
{
	if (sb->slots != NULL)
		munmap(sb->slots, sb->nslots * sizeof(struct slot));
	sb->slots = NULL;
	sb->nslots = 0;
}

struct slot *
scoreboard_slot_claim(struct scoreboard *sb)
{
	for (size_t i = 0; i < sb->nslots; i++) {
		struct slot *s = &sb->slots[i];

		if (s->state == SLOT_FREE && s->pid == 0) {
			memset(s, 0, sizeof(*s));
			s->state = SLOT_STARTING;
			s->started_ms = monotonic_ms();
			s->last_activity_ms = s->started_ms;
			return s;
		}
	}
	return NULL;
}

void
scoreboard_slot_release(struct slot *slot)
{
	slot->pid = 0;
	slot->state = SLOT_FREE;
}

const char *
slot_state_name(int state)
{
	switch (state) {
	case SLOT_FREE:     return "free";
	case SLOT_STARTING: return "starting";
	case SLOT_IDLE:     return "idle";
	case SLOT_BUSY:     return "busy";
	case SLOT_CLOSING:  return "closing";
	}
	return "?";
}

int64_t
monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
