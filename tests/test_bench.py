"""The benchmark table of `make run`, on console logs of real boots."""

import unittest

from helpers import fixture

import bench
import ktap
from common import HarnessError

END = "kmap-local-init: done"


def bench_lines(name):
    rep = ktap.parse(fixture(name), highmem_expected=True, end_marker=END)
    return rep, rep.bench


class PingPong(unittest.TestCase):
    def test_both_real_boots_are_clean_and_report_the_ping_pong(self):
        for name in ("i386-pingpong-patched.log", "i386-pingpong-base.log"):
            rep, lines = bench_lines(name)
            self.assertEqual(rep.problems, [], name)
            self.assertEqual(bench.ctxswitch(lines, name)[0], 2000)

    def test_ratio_of_the_two_boots(self):
        patched = bench_lines("i386-pingpong-patched.log")[1]
        base = bench_lines("i386-pingpong-base.log")[1]
        _, pns, bns, r = bench.ratio(patched, base)
        self.assertEqual((pns, bns), (56365, 60481))
        self.assertAlmostEqual(r, 56365 / 60481)

    def test_table_lists_every_bench_line_of_the_patched_boot(self):
        lines, compared = bench.table(
            "i386-highmem", bench_lines("i386-pingpong-patched.log")[1],
            bench_lines("i386-pingpong-base.log")[1])
        text = "\n".join(lines)
        self.assertTrue(compared)
        self.assertIn("migrate_disable", text)
        self.assertIn("ratio patched/base 0.932", text)
        self.assertIn("noise", text)

    def test_missing_line_in_the_base_boot(self):
        # The base boot's log without the guest's line: no comparison.
        text = "\n".join(line for line in
                         fixture("i386-pingpong-base.log").splitlines()
                         if "ctxswitch_user" not in line)
        base = ktap.parse(text).bench
        patched = bench_lines("i386-pingpong-patched.log")[1]
        with self.assertRaisesRegex(HarnessError, "base boot: 0 "):
            bench.ratio(patched, base)
        lines, compared = bench.table("i386-highmem", patched, base)
        self.assertFalse(compared)
        self.assertIn("NOT MEASURED", lines[-1])

    def test_unequal_runs_and_bad_values_are_refused(self):
        patched = [("ctxswitch_user", {"roundtrips": "2000",
                                       "ns_per_roundtrip": "56365"})]
        with self.assertRaisesRegex(HarnessError, "2000 and 4000"):
            bench.ratio(patched, [("ctxswitch_user", {
                "roundtrips": "4000", "ns_per_roundtrip": "60481"})])
        with self.assertRaisesRegex(HarnessError, "not an integer"):
            bench.ratio(patched, [("ctxswitch_user", {
                "roundtrips": "2000", "ns_per_roundtrip": "6.1e4"})])
        with self.assertRaisesRegex(HarnessError, "positive"):
            bench.ratio(patched, [("ctxswitch_user", {
                "roundtrips": "2000", "ns_per_roundtrip": "0"})])
        with self.assertRaisesRegex(HarnessError, "no ns_per_roundtrip"):
            bench.ratio(patched, [("ctxswitch_user", {"roundtrips": "2"})])


if __name__ == "__main__":
    unittest.main()


class InstructionCounted(unittest.TestCase):
    QEMU = "qemu-system-i386 -accel tcg -M pc -cpu qemu32 -smp 2 -m 2048"

    def test_machine_options_become_one_cpu_with_icount(self):
        self.assertEqual(bench.icount_qemu(self.QEMU),
                         "qemu-system-i386 -accel tcg -M pc -cpu qemu32 "
                         "-smp 1 -icount shift=0 -m 2048")
        self.assertTrue(bench.icount_qemu(self.QEMU, 768).endswith(
            "-smp 1 -icount shift=0 -m 768"))
        self.assertEqual(bench.target_mem(self.QEMU), "2048")

    def test_kvm_and_non_qemu_commands_are_refused(self):
        with self.assertRaisesRegex(HarnessError, "needs TCG"):
            bench.icount_qemu("qemu-system-i386 -accel kvm -m 2048")
        with self.assertRaisesRegex(HarnessError, "not a QEMU command"):
            bench.icount_qemu("sh -c true")

    def test_table_lines_from_real_instruction_counted_boots(self):
        patched = bench_lines("i386-icount-patched.log")[1]
        base = bench_lines("i386-icount-base.log")[1]
        lines = bench.icount_lines([("2048 MiB, pipe pages in highmem",
                                     patched, base)])
        self.assertIn("-icount", lines[0])
        self.assertIn("patched  11095, base  10721 instructions", lines[1])
        self.assertIn("patched/base 1.0349 (+3.49%)", lines[1])

    def test_map_unmap_line_from_a_real_instruction_counted_boot(self):
        patched = bench_lines("i386-icount-patched.log")[1]
        line = bench.icount_map_line(patched)
        self.assertIn("kmap_local 200, kmap_atomic 152, kmap() 231", line)
        self.assertIn("kmap_local/kmap_atomic 1.32", line)
        with self.assertRaisesRegex(HarnessError, "0 '# bench: kmap_map"):
            bench.icount_map_line(bench_lines("i386-icount-base.log")[1])

    def test_a_boot_without_the_line_is_not_compared(self):
        patched = bench_lines("i386-icount-patched.log")[1]
        with self.assertRaisesRegex(HarnessError, "base boot: 0 "):
            bench.icount_lines([("x", patched, [])])
