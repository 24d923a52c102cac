/*
 * libnvmf's log sink (src/host/log.c): the default line on stderr ("nvmf: <msg>"), an
 * installed function getting level and text with nothing on stderr, the level filter, and
 * NULL restoring the default.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "host/log.h"

/* ------------------------------------------------------------------ stderr capture */

static int saved_stderr = -1;
static FILE *capture;

static void capture_start(void)
{
	fflush(stderr);
	capture = tmpfile();
	assert_non_null(capture);
	saved_stderr = dup(2);
	assert_true(saved_stderr >= 0);
	assert_true(dup2(fileno(capture), 2) == 2);
}

/* Restores stderr; returns what was written to it (malloc'ed). */
static char *capture_end(void)
{
	char *text = calloc(1, 4096);
	size_t n;

	fflush(stderr);
	dup2(saved_stderr, 2);
	close(saved_stderr);
	rewind(capture);
	n = fread(text, 1, 4095, capture);
	text[n] = '\0';
	fclose(capture);
	return text;
}

/* ------------------------------------------------------------------ a log function */

struct seen {
	int calls;
	int level;
	char msg[2048];
};

static void remember(void *arg, int level, const char *msg)
{
	struct seen *s = arg;

	s->calls++;
	s->level = level;
	snprintf(s->msg, sizeof(s->msg), "%s", msg);
}

static int reset(void **state)
{
	(void)state;
	nvmf_set_log_fn(NULL, NULL);
	nvmf_set_log_level(LOG_INFO);
	return 0;
}

/* ------------------------------------------------------------------ tests */

static void default_goes_to_stderr(void **state)
{
	char *out;

	(void)state;
	capture_start();
	host_log(LOG_WARNING, "%s: queue %u: reconnecting", "nqn.x", 3u);
	out = capture_end();
	assert_string_equal(out, "nvmf: nqn.x: queue 3: reconnecting\n");
	free(out);
}

static void function_gets_level_and_text(void **state)
{
	struct seen s = { 0 };
	char *out;

	(void)state;
	nvmf_set_log_fn(remember, &s);
	capture_start();
	host_log(LOG_ERR, "%s: giving up", "nqn.y");
	out = capture_end();
	assert_string_equal(out, "");
	assert_int_equal(s.calls, 1);
	assert_int_equal(s.level, LOG_ERR);
	/* no prefix, no newline: the application formats the line */
	assert_string_equal(s.msg, "nqn.y: giving up");
	free(out);
}

static void level_filters(void **state)
{
	struct seen s = { 0 };

	(void)state;
	nvmf_set_log_fn(remember, &s);
	nvmf_set_log_level(LOG_WARNING);
	host_log(LOG_INFO, "async event");
	host_log(LOG_NOTICE, "reconnected");
	assert_int_equal(s.calls, 0);
	host_log(LOG_WARNING, "reconnecting");
	host_log(LOG_ERR, "giving up");
	assert_int_equal(s.calls, 2);
	assert_string_equal(s.msg, "giving up");
	nvmf_set_log_level(LOG_DEBUG);
	host_log(LOG_DEBUG, "detail");
	assert_int_equal(s.calls, 3);
}

static void null_restores_stderr(void **state)
{
	struct seen s = { 0 };
	char *out;

	(void)state;
	nvmf_set_log_fn(remember, &s);
	nvmf_set_log_fn(NULL, &s);
	capture_start();
	host_log(LOG_NOTICE, "reconnected (controller %u)", 1u);
	out = capture_end();
	assert_int_equal(s.calls, 0);
	assert_string_equal(out, "nvmf: reconnected (controller 1)\n");
	free(out);
}

static void long_message_is_cut(void **state)
{
	struct seen s = { 0 };
	char *big = malloc(3000);

	(void)state;
	assert_non_null(big);
	memset(big, 'a', 2999);
	big[2999] = '\0';
	nvmf_set_log_fn(remember, &s);
	host_log(LOG_ERR, "%s", big);
	assert_int_equal(s.calls, 1);
	assert_int_equal(strlen(s.msg), 1023);
	free(big);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(default_goes_to_stderr, reset),
		cmocka_unit_test_teardown(function_gets_level_and_text, reset),
		cmocka_unit_test_teardown(level_filters, reset),
		cmocka_unit_test_teardown(null_restores_stderr, reset),
		cmocka_unit_test_teardown(long_message_is_cut, reset),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
