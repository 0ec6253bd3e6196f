// SPDX-License-Identifier: GPL-2.0
/*
 * optdump.so - preloaded (LD_PRELOAD) into plumwall's programs by the
 * manual and completion tests: every option table handed to
 * getopt_long(3) is appended to the file $PW_OPTDUMP, then the real
 * getopt_long parses as usual. So the tests compare plumwall(8) and the
 * completion with the tables the code really parses, not with a list kept
 * by hand beside them.
 *
 * Output, one block per table in the order the program first uses them:
 *
 *   table
 *   short OPTSTRING
 *   long NAME HAS_ARG
 *   ...
 *   end
 */
#include <dlfcn.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef int (*optdump_fn)(int, char *const *, const char *,
			  const struct option *, int *);

#define OPTDUMP_MAX_TABLES 16

static void optdump_table(const char *optstring, const struct option *longopts)
{
	static const struct option *seen[OPTDUMP_MAX_TABLES];
	static const char *seen_short[OPTDUMP_MAX_TABLES];
	static unsigned int n_seen;
	const char *path = getenv("PW_OPTDUMP");
	const struct option *o;
	unsigned int i;
	FILE *f;

	if (!path)
		return;
	for (i = 0; i < n_seen; i++)
		if (seen[i] == longopts && seen_short[i] == optstring)
			return;
	if (n_seen < OPTDUMP_MAX_TABLES) {
		seen[n_seen] = longopts;
		seen_short[n_seen++] = optstring;
	}
	f = fopen(path, "a");
	if (!f)
		return;
	fprintf(f, "table\nshort %s\n", optstring);
	for (o = longopts; o && o->name; o++)
		fprintf(f, "long %s %d\n", o->name, o->has_arg);
	fputs("end\n", f);
	fclose(f);
}

/* Interposes the C library's getopt_long; the name is not ours to choose. */
int getopt_long(int argc, char *const argv[], const char *optstring,
		const struct option *longopts, int *longindex)
{
	static optdump_fn real;

	if (!real)
		real = (optdump_fn)dlsym(RTLD_NEXT, "getopt_long");
	if (!real)
		abort();
	optdump_table(optstring, longopts);
	return real(argc, argv, optstring, longopts, longindex);
}
