/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Worker state in shared memory, created by the master before any fork.
 * The master owns slot allocation (pid, generation, server); a worker
 * writes only its own slot's state and counters.
 */
#ifndef PREFORKD_SCOREBOARD_H
#define PREFORKD_SCOREBOARD_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

enum slot_state {
	SLOT_FREE = 0,
	SLOT_STARTING,		/* forked, not yet in accept() */
	SLOT_IDLE,		/* blocked in accept() */
	SLOT_BUSY,		/* serving a connection */
	SLOT_CLOSING,		/* told to stop, finishing its connection */
};

#define SLOT_CLIENT_MAX 64
#define SLOT_REQUEST_MAX 128

struct slot {
	volatile pid_t pid;
	unsigned generation;
	int server;			/* index in its generation's conf */
	volatile sig_atomic_t state;	/* enum slot_state */
	/* Cleared by the worker's stop handler once it can accept no more. */
	volatile sig_atomic_t accepting;
	volatile int64_t started_ms;	/* CLOCK_MONOTONIC */
	volatile int64_t last_activity_ms;
	volatile uint64_t connections;
	volatile uint64_t requests;
	volatile uint64_t bytes_sent;
	char client[SLOT_CLIENT_MAX];
	char request[SLOT_REQUEST_MAX];
};

struct scoreboard {
	size_t nslots;
	struct slot *slots;
};

int scoreboard_create(struct scoreboard *sb, size_t nslots);
void scoreboard_destroy(struct scoreboard *sb);
/* A free slot, or NULL when all are taken. */
struct slot *scoreboard_slot_claim(struct scoreboard *sb);
void scoreboard_slot_release(struct slot *slot);
const char *slot_state_name(int state);

int64_t monotonic_ms(void);

#endif
