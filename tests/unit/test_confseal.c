/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Unit tests for src/confseal.c: what the master publishes reads back,
 * cannot be written, and a memfd not sealed or not holding one absolute
 * path is not taken.
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "confseal.h"

#define NROWS(a) (sizeof(a) / sizeof((a)[0]))
#define ALL_SEALS (F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL)

static void
test_published_reads_back(void **state)
{
	static const char path[] = "/etc/preforkd/preforkd.conf";
	char out[PATH_MAX];
	int fd = confseal_publish(path);

	(void)state;
	assert_int_not_equal(fd, -1);
	assert_int_equal(confseal_read(fd, out, sizeof(out)), 0);
	assert_string_equal(out, path);
	/* Exactly its own size fits; one byte less does not. */
	assert_int_equal(confseal_read(fd, out, sizeof(path)), 0);
	errno = 0;
	assert_int_equal(confseal_read(fd, out, sizeof(path) - 1), -1);
	assert_int_equal(errno, ENAMETOOLONG);
	close(fd);
}

static void
test_published_cannot_change(void **state)
{
	int fd = confseal_publish("/etc/preforkd.conf");

	(void)state;
	assert_int_not_equal(fd, -1);
	errno = 0;
	assert_int_equal(pwrite(fd, "/tmp/x", 7, 0), -1);
	assert_int_equal(errno, EPERM);
	errno = 0;
	assert_int_equal(ftruncate(fd, 0), -1);
	assert_int_equal(errno, EPERM);
	assert_ptr_equal(mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED,
			      fd, 0), MAP_FAILED);
	errno = 0;
	assert_int_equal(fcntl(fd, F_ADD_SEALS, 0), -1);
	assert_int_equal(errno, EPERM);
	close(fd);
}

/* A memfd holding len bytes of data, then given seals. */
struct confseal_row {
	const char *name;
	const char *data;
	size_t len;
	int seals;
	int expected_errno;		/* 0: read as data */
};

static int
memfd_made(const struct confseal_row *r)
{
	int fd = memfd_create("test-confseal", MFD_CLOEXEC | MFD_ALLOW_SEALING);

	if (fd == -1 || write(fd, r->data, r->len) != (ssize_t)r->len ||
	    (r->seals != 0 && fcntl(fd, F_ADD_SEALS, r->seals) == -1))
		fail_msg("row %s: setting up the memfd: %s", r->name,
			 strerror(errno));
	return fd;
}

static void
test_read(void **state)
{
	static const struct confseal_row rows[] = {
		{ "sealed", "/a.conf", 8, ALL_SEALS, 0 },
		{ "not sealed", "/a.conf", 8, 0, EPERM },
		{ "sealed against writes only", "/a.conf", 8, F_SEAL_WRITE,
		  EPERM },
		{ "all but F_SEAL_WRITE", "/a.conf", 8,
		  F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL, EPERM },
		{ "empty", "", 0, ALL_SEALS, EPROTO },
		{ "a lone NUL", "", 1, ALL_SEALS, EPROTO },
		{ "relative", "a.conf", 7, ALL_SEALS, EPROTO },
		{ "no NUL", "/a.conf", 7, ALL_SEALS, EPROTO },
		{ "a NUL inside", "/a\0/b.conf", 11, ALL_SEALS, EPROTO },
	};

	(void)state;
	for (size_t i = 0; i < NROWS(rows); i++) {
		const struct confseal_row *r = &rows[i];
		char out[PATH_MAX] = "untouched";
		int fd = memfd_made(r), rc;

		errno = 0;
		rc = confseal_read(fd, out, sizeof(out));
		if (r->expected_errno == 0 ?
		    rc != 0 || strcmp(out, r->data) != 0 :
		    rc != -1 || errno != r->expected_errno)
			fail_msg("row %zu (%s): %d, errno %s, \"%s\"; expected "
				 "%s", i, r->name, rc, strerror(errno), out,
				 r->expected_errno ?
				 strerror(r->expected_errno) : r->data);
		close(fd);
	}
}

static void
test_not_a_memfd(void **state)
{
	char out[PATH_MAX];
	int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);

	(void)state;
	assert_int_not_equal(fd, -1);
	assert_int_equal(confseal_read(fd, out, sizeof(out)), -1);
	close(fd);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_published_reads_back),
		cmocka_unit_test(test_published_cannot_change),
		cmocka_unit_test(test_read),
		cmocka_unit_test(test_not_a_memfd),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
