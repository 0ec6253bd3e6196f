// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer harness: the configuration file of plumwalld and
 * plumwall-logd (pw_config_load_buffer), and the names it reports back.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <plumwall/config.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static FILE *fuzz_null;
static volatile size_t fuzz_sink; /* keeps the reads */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pw_config *cfg = NULL;
	struct pw_diags diags;
	size_t i, n = 0;
	int k;

	if (!fuzz_null)
		fuzz_null = fopen("/dev/null", "w");
	pw_diags_init(&diags);
	if (pw_config_load_buffer("/etc/plumwall/plumwall.yaml",
				  (const char *)data, size, &diags, &cfg))
		goto out;
	/* Every string the loader handed out is a string: read it whole. */
	n += strlen(cfg->policy) + strlen(cfg->pin_path) +
	     strlen(pw_config_mode_name(cfg->mode));
	if (cfg->logging.hostname)
		n += strlen(cfg->logging.hostname);
	n += strlen(pw_syslog_facility_name(cfg->logging.facility));
	for (k = 0; k < PW_LOG_KIND_COUNT; k++)
		n += strlen(pw_syslog_severity_name(cfg->logging.severity[k]));
	for (i = 0; i < cfg->logging.n_sinks; i++) {
		const struct pw_sink *s = &cfg->logging.sinks[i];

		n += strlen(s->name) + strlen(pw_sink_format_name(s->format)) +
		     strlen(pw_sink_transport_name(s->transport));
		if (s->path)
			n += strlen(s->path);
		if (s->address)
			n += strlen(s->address);
		if (s->ca_file)
			n += strlen(s->ca_file);
	}
out:
	pw_diags_sort(&diags);
	if (fuzz_null)
		pw_diags_print(&diags, fuzz_null);
	pw_config_free(cfg);
	pw_diags_free(&diags);
	fuzz_sink += n;
	return 0;
}
