/*
 * check_vrrp.c: vrrp_report() and what lb4_vrrp_state exports,
 * table-driven.  CK_FORK gives each test a fresh table of instances.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "text.h"
#include "vrrp.h"

#define nitems(a)	(sizeof(a) / sizeof((a)[0]))

/* A report, whether it is taken, and a word of the error when not. */
static const struct {
	const char	*instance, *state;
	int		 ok;
	const char	*why;
} reports[] = {
	{ "VI_1", "MASTER", 1, NULL },
	{ "VI_1", "BACKUP", 1, NULL },
	{ "vi-2.b", "FAULT", 1, NULL },
	{ "VI_1", "STOP", 1, NULL },
	{ "VI_1", "DELETED", 1, NULL },
	{ "VI_1", "master", 0, "unknown VRRP state" },
	{ "VI_1", "MASTER_RX_LOWER_PRI", 0, "unknown VRRP state" },
	{ "", "MASTER", 0, "bad VRRP instance name" },
	{ "a\"b", "MASTER", 0, "bad VRRP instance name" },
	{ "a b", "MASTER", 0, "bad VRRP instance name" },
	{ "0123456789012345678901234567890123456789012345678901234567890123",
	    "MASTER", 0, "bad VRRP instance name" },
};

START_TEST(test_report)
{
	char	err[128] = "";
	int	r;

	r = vrrp_report(reports[_i].instance, reports[_i].state, err,
	    sizeof(err));
	ck_assert_int_eq(r, reports[_i].ok ? 0 : -1);
	if (!reports[_i].ok)
		ck_assert_ptr_nonnull(strstr(err, reports[_i].why));
}
END_TEST

/* The exposition after a sequence of reports. */
START_TEST(test_export)
{
	struct text	t = { 0 };
	char		err[128];

	ck_assert_int_eq(vrrp_report("VI_1", "BACKUP", err, sizeof(err)), 0);
	ck_assert_int_eq(vrrp_report("VI_2", "BACKUP", err, sizeof(err)), 0);
	ck_assert_int_eq(vrrp_report("VI_1", "MASTER", err, sizeof(err)), 0);
	ck_assert_int_eq(vrrp_report("VI_2", "DELETED", err, sizeof(err)), 0);
	vrrp_metrics(&t);
	ck_assert_ptr_nonnull(strstr(t.p, "# TYPE lb4_vrrp_state gauge\n"));
	ck_assert_ptr_nonnull(strstr(t.p, "lb4_vrrp_state{vrrp_instance=\"VI_1\","
	    "state=\"MASTER\"} 1\n"));
	ck_assert_ptr_nonnull(strstr(t.p, "lb4_vrrp_state{vrrp_instance=\"VI_1\","
	    "state=\"BACKUP\"} 0\n"));
	ck_assert_ptr_null(strstr(t.p, "VI_2"));
	text_free(&t);
	vrrp_json(&t);
	ck_assert_ptr_nonnull(strstr(t.p, "\"instance\":\"VI_1\","
	    "\"state\":\"MASTER\""));
	text_free(&t);
}
END_TEST

START_TEST(test_full)
{
	char	name[16], err[128];
	int	i;

	for (i = 0; i < VRRP_INSTANCES_MAX; i++) {
		snprintf(name, sizeof(name), "VI_%d", i);
		ck_assert_int_eq(vrrp_report(name, "BACKUP", err,
		    sizeof(err)), 0);
	}
	ck_assert_int_eq(vrrp_report("one_more", "MASTER", err, sizeof(err)),
	    -1);
	/* A known one still changes; a deleted one makes room. */
	ck_assert_int_eq(vrrp_report("VI_0", "MASTER", err, sizeof(err)), 0);
	ck_assert_int_eq(vrrp_report("VI_1", "DELETED", err, sizeof(err)), 0);
	ck_assert_int_eq(vrrp_report("one_more", "MASTER", err, sizeof(err)),
	    0);
}
END_TEST

static Suite *
vrrp_suite(void)
{
	Suite	*s = suite_create("vrrp");
	TCase	*tc;

	tc = tcase_create("core");
	tcase_add_loop_test(tc, test_report, 0, nitems(reports));
	tcase_add_test(tc, test_export);
	suite_add_tcase(s, tc);
	tc = tcase_create("limits");
	tcase_add_test(tc, test_full);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr = srunner_create(vrrp_suite());
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
