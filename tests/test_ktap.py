"""KTAP and splat reading, on console logs saved from real boots."""

import unittest

from helpers import fixture

import ktap

END = "kmap-local-init: done"


def parse(name, highmem=True):
    return ktap.parse(fixture(name), highmem_expected=highmem,
                      end_marker=END)


class CleanLogs(unittest.TestCase):
    def test_i386_clean_boot_passes(self):
        rep = parse("i386-clean.log")
        self.assertEqual(rep.problems, [])
        self.assertEqual(rep.version, 14)
        self.assertEqual(rep.plan, 8)
        self.assertEqual(len(rep.suites), 8)
        counts = {s.name: s.counts()["pass"] for s in rep.suites}
        self.assertEqual(counts["list-kunit-test"], 36)
        self.assertEqual(counts["kunit-resource-test"], 7)
        self.assertTrue(all(s.result == "pass" for s in rep.suites))
        self.assertGreater(rep.highmem_kb, 1024 * 1024)

    def test_arm_clean_boot_passes(self):
        rep = parse("arm-clean.log")
        self.assertEqual(rep.problems, [])
        self.assertEqual(rep.highmem_kb, 1310720)

    def test_cases_belong_to_their_suite(self):
        rep = parse("i386-clean.log")
        bits = [s for s in rep.suites if s.name == "bits-test"][0]
        self.assertEqual([c[0] for c in bits.cases], [1, 2, 3])
        self.assertEqual(bits.plan, 3)

    def test_highmem_required_but_absent(self):
        text = fixture("i386-clean.log").replace("1195912K highmem",
                                                 "0K highmem")
        rep = ktap.parse(text, highmem_expected=True, end_marker=END)
        self.assertTrue(any("no highmem" in p for p in rep.problems))

    def test_no_highmem_needed_on_64bit(self):
        rep = parse("i386-clean.log", highmem=False)
        self.assertEqual(rep.problems, [])


class BrokenLogs(unittest.TestCase):
    def test_panic_mid_run(self):
        rep = parse("i386-panic-in-suite.log")
        text = "\n".join(rep.problems)
        self.assertIn("suite 'example'", text)
        self.assertIn("never ended", text)
        self.assertIn("panic: Kernel panic - not syncing: fixture", text)
        self.assertIn("plan says 8 suites, the log has 5", text)
        self.assertIn("never reached", text)

    def test_warn_inside_passing_suite_fails_the_run(self):
        rep = parse("i386-warn-in-passing-suite.log")
        example = [s for s in rep.suites if s.name == "example"][0]
        self.assertEqual(example.result, "pass")   # KTAP alone says ok
        self.assertFalse(rep.ok)
        kinds = {k for _, k, _ in rep.splats}
        self.assertIn("warning", kinds)
        self.assertTrue(any("kunit-example-test.c" in p
                            for p in rep.problems))

    def test_warn_during_boot_outside_any_suite(self):
        rep = parse("i386-warn-at-boot-cpu-max.log")
        self.assertTrue(all(s.result == "pass" for s in rep.suites))
        self.assertTrue(any("init_amd" in p for p in rep.problems))

    def test_missing_top_level_plan(self):
        rep = parse("i386-missing-plan.log")
        self.assertIn("no top-level test plan (1..N)", rep.problems)

    def test_hang_leaves_suite_open(self):
        rep = parse("i386-hang-timeout.log")
        self.assertIn("suite 'example' (line 171) started and never ended",
                      rep.problems)

    def test_no_ktap_at_all(self):
        rep = ktap.parse("[    0.0] Linux version 5.10.223\n",
                         end_marker=END)
        self.assertIn("no KTAP/TAP header: no test ran", rep.problems)

    def test_failed_case_is_reported(self):
        text = fixture("i386-clean.log").replace(
            "    ok 2 - genmask_ull_test", "    not ok 2 - "
            "genmask_ull_test").replace("] ok 8 - bits-test",
                                             "] not ok 8 - bits-test")
        rep = ktap.parse(text, end_marker=END)
        self.assertIn("bits-test: case 2 genmask_ull_test failed",
                      rep.problems)


class ExpectedSplats(unittest.TestCase):
    def test_bracketed_warning_is_ignored(self):
        rep = parse("i386-expected-splat.log")
        self.assertEqual(rep.problems, [])
        self.assertEqual(len(rep.expected_splats), 1)
        self.assertGreater(rep.expected_splats[0][2], 0)

    def test_bracket_without_warning_fails(self):
        rep = parse("i386-expected-splat-missing.log")
        self.assertTrue(any("did not happen" in p for p in rep.problems))

    def test_unterminated_bracket_fails(self):
        text = fixture("i386-expected-splat.log").replace(
            "# expected-splat-end", "# something else")
        rep = ktap.parse(text, end_marker=END)
        self.assertTrue(any("never ended" in p and "expected-splat" in p
                            for p in rep.problems))


class Synthetic(unittest.TestCase):
    """Shapes 5.10's KUnit does not print but KTAP allows."""

    def test_nested_suites_and_skip(self):
        log = "\n".join([
            "TAP version 14", "1..1",
            "    # Subtest: outer", "    1..2",
            "        # Subtest: inner", "        1..2",
            "        ok 1 - a", "        ok 2 - b # SKIP no highmem",
            "    ok 1 - inner",
            "    ok 2 - c",
            "ok 1 - outer", END])
        rep = ktap.parse(log, end_marker=END)
        self.assertEqual(rep.problems, [])
        outer = rep.suites[0]
        self.assertEqual(outer.counts(), {"pass": 2, "fail": 0, "skip": 0})
        self.assertEqual(outer.children[0].counts(),
                         {"pass": 1, "fail": 0, "skip": 1})

    def test_stats_lines(self):
        log = ("[ 9.2] # stats: migrate_disable_torture sections=7452 "
               "hotplug_cycles=26 violations=0")
        rep = ktap.parse(log)
        self.assertEqual(rep.stats, [("migrate_disable_torture", {
            "sections": "7452", "hotplug_cycles": "26",
            "violations": "0"})])
        self.assertEqual(rep.bench, [])

    def test_bench_lines(self):
        log = "[ 1.0] # bench: kmap_local ns_per_op=12 ratio_vs_atomic=1.01"
        rep = ktap.parse(log)
        self.assertEqual(rep.bench, [("kmap_local", {
            "ns_per_op": "12", "ratio_vs_atomic": "1.01"})])


class KunitTool(unittest.TestCase):
    """`kunit.py parse` of the base tree against our reading of a log; its
    output saved from real runs on the saved console logs."""

    def test_column0_lines_stop_kunit_tool_and_fail(self):
        # The series' suites printed '# bench:' and bracket lines at column
        # 0: kunit.py stopped after the first suite and still exited 0.
        rep = parse("i386-series-column0.log")
        self.assertEqual(rep.problems, [])
        problem, summary = ktap.kunit_tool_verdict(
            fixture("kunit-tool-i386-series-column0.txt"), rep)
        self.assertEqual(summary, "9 tests run, 0 failed, 0 crashed")
        self.assertIn("expected 10 test suites, but got 0", problem)
        self.assertIn("we read 104 cases", problem)

    def test_a_log_both_readers_agree_on_passes(self):
        rep = parse("i386-series.log")
        self.assertEqual(rep.problems, [])
        problem, summary = ktap.kunit_tool_verdict(
            fixture("kunit-tool-i386-series.txt"), rep)
        self.assertIsNone(problem)
        self.assertEqual(summary, "100 tests run, 0 failed, 0 crashed")

    def test_counts_must_match_even_without_errors(self):
        rep = parse("i386-series.log")
        out = fixture("kunit-tool-i386-series.txt").replace(
            "100 tests run. 0 failed", "99 tests run. 0 failed")
        problem, _ = ktap.kunit_tool_verdict(out, rep)
        self.assertEqual(problem, "kunit.py parse read 99 cases, we read 100")
        out = fixture("kunit-tool-i386-series.txt").replace(
            "0 failed. 0 crashed", "0 failed. 1 crashed")
        problem, _ = ktap.kunit_tool_verdict(out, rep)
        self.assertIn("1 crashed, we read 0 failed", problem)

    def test_no_summary_is_a_failure(self):
        problem, summary = ktap.kunit_tool_verdict("Traceback ...\n",
                                                   parse("i386-clean.log"))
        self.assertEqual(problem, "kunit.py parse printed no summary")
        self.assertEqual(summary, "")


if __name__ == "__main__":
    unittest.main()
