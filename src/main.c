/* SPDX-License-Identifier: BSD-2-Clause */
/* preforkd: command line, the -t and -s paths, then the master. */
#include "config.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "control.h"
#include "daemon.h"
#include "master.h"
#include "pidfile.h"
#include "upgrade.h"

#ifndef SYSCONFDIR
#define SYSCONFDIR "/etc"
#endif

static void
usage(FILE *out)
{
	fprintf(out,
		"usage: preforkd [-n] [-t] [-f FILE] [-p PIDFILE] [-s SIGNAL] [-V] [-h]\n"
		"  -f FILE     configuration file (default %s/preforkd.conf)\n"
		"  -n          stay in the foreground; errors go to stderr\n"
		"  -t          check the configuration and exit\n"
		"  -p PIDFILE  pidfile, overriding the configuration's\n"
		"              (default %s)\n"
		"  -s SIGNAL   send stop, quit, reload, reopen or upgrade to the master,\n"
		"              or print its status table (status)\n"
		"  -V          print the version and exit\n"
		"  -h          print this help and exit\n",
		SYSCONFDIR, PIDFILE_DEFAULT);
}

static void
print_error(void *arg, const char *message)
{
	char *first = arg;

	fprintf(stderr, "%s\n", message);
	/* The first error, for the old master of an upgrade to pass on. */
	if (first != NULL && first[0] == '\0')
		snprintf(first, 256, "%s", message);
}

/*
 * The daemon changes directory to /, and SIGHUP re-reads the file: keep
 * absolute paths (the config's and -p's), so they mean the same later.
 */
static char *
absolute_path(const char *path)
{
	char cwd[PATH_MAX];
	char *out;

	if (path[0] == '/' || getcwd(cwd, sizeof(cwd)) == NULL)
		return strdup(path);
	if ((out = malloc(strlen(cwd) + strlen(path) + 2)) != NULL)
		sprintf(out, "%s/%s", cwd, path);
	return out;
}

int
main(int argc, char **argv)
{
	static char start_dir[PATH_MAX], first_error[256];
	struct master_options opts = { .foreground = false };
	const char *conf_arg = SYSCONFDIR "/preforkd.conf";
	bool conf_named = false;
	const char *command = NULL;
	bool test_only = false;
	struct conf *conf;
	char *conf_path, *pidfile = NULL;
	int c, rc;

	/* Before anything is opened: see daemon_stdio_fill(). */
	if (daemon_stdio_fill() == -1) {
		perror("preforkd: opening /dev/null");
		return 1;
	}
	while ((c = getopt(argc, argv, "f:np:s:tVh")) != -1) {
		/* "-p $UNSET" is a mistake: the cwd, or a directory, is no file. */
		if ((c == 'f' || c == 'p' || c == 's') && optarg[0] == '\0') {
			fprintf(stderr, "preforkd: -%c needs a value, not an "
				"empty one\n", c);
			usage(stderr);
			return 2;
		}
		/* "-s status -s stop" would do the last: say, rather than stop. */
		if (c == 's' && command != NULL && strcmp(command, optarg) != 0) {
			fprintf(stderr, "preforkd: -s given twice: '%s' and '%s'\n",
				command, optarg);
			usage(stderr);
			return 2;
		}
		switch (c) {
		case 'f':
			conf_arg = optarg;
			conf_named = true;
			break;
		case 'n': opts.foreground = true; break;
		case 'p': opts.pidfile_override = optarg; break;
		case 's': command = optarg; break;
		case 't': test_only = true; break;
		case 'V':
			printf("preforkd %s\n", PACKAGE_VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "preforkd: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return 2;
	}
	/* "-t -s stop" would stop a master where a check was asked for. */
	if (test_only && command != NULL) {
		fprintf(stderr, "preforkd: -t and -s do not go together: -t "
			"checks, -s %s acts (-s reload checks first)\n", command);
		usage(stderr);
		return 2;
	}
	if ((conf_path = absolute_path(conf_arg)) == NULL ||
	    (opts.pidfile_override != NULL &&
	     (pidfile = absolute_path(opts.pidfile_override)) == NULL)) {
		perror("preforkd");
		return 1;
	}
	opts.pidfile_override = pidfile;
	if (command != NULL) {
		rc = control_command(command, conf_path, conf_named,
				     opts.pidfile_override);
		free(conf_path);
		free(pidfile);
		return rc;
	}
	/* -t also tries what the workers open: see conf_verify(). */
	conf = test_only ? conf_verify(conf_path, opts.pidfile_override == NULL,
				       print_error, first_error) :
		conf_load(conf_path, print_error, first_error);
	if (conf == NULL) {
		fprintf(stderr, "preforkd: configuration %s has errors\n",
			conf_path);
		upgrade_report_failure(first_error);
		free(conf_path);
		free(pidfile);
		return 1;
	}
	if (test_only) {
		printf("preforkd: configuration %s is ok\n", conf_path);
		conf_free(conf);
		free(conf_path);
		free(pidfile);
		return 0;
	}
	free(conf_path);
	/* A binary upgrade runs argv[0] again, from where we were started. */
	upgrade_init(argv[0], argv, getcwd(start_dir, sizeof(start_dir)));
	rc = master_run(conf, &opts);
	free(pidfile);
	return rc;
}
