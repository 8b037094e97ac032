"""checkpatch judging, warning comparison, bisect object selection."""

import os
import subprocess
import tempfile
import unittest

import helpers  # noqa: F401
from helpers import fixture

import checks
from common import HarnessError, Tally

CP_OUT = """\
WARNING:FILE_PATH_CHANGES: added, moved or deleted file(s), does MAINTAINERS need updating?
#20:
new file mode 100644

CHECK:MACRO_ARG_REUSE: Macro argument reuse 'x' - possible side-effects?
#40: FILE: include/linux/highmem-internal.h:12:
ERROR:SPACING: space required after that ',' (ctx:VxV)
"""


class Checkpatch(unittest.TestCase):
    def test_messages_are_parsed(self):
        msgs = checks.checkpatch_messages(CP_OUT)
        self.assertEqual([m[:2] for m in msgs], [
            ("WARNING", "FILE_PATH_CHANGES"), ("CHECK", "MACRO_ARG_REUSE"),
            ("ERROR", "SPACING")])

    def test_allowlist_by_patch_and_type(self):
        msgs = checks.checkpatch_messages(CP_OUT)
        allow = [("0003-*.patch", "MACRO_ARG_REUSE", "kernel-doc macro")]
        bad, ok = checks.judge_checkpatch("0003-mm-x.patch", msgs, allow)
        self.assertEqual([m[1] for m in ok], ["MACRO_ARG_REUSE"])
        self.assertEqual([m[1] for m in bad], ["FILE_PATH_CHANGES",
                                               "SPACING"])
        bad, ok = checks.judge_checkpatch("0004-mm-y.patch", msgs, allow)
        self.assertEqual(len(bad), 3)

    def test_allowlist_entry_needs_a_reason(self):
        with tempfile.NamedTemporaryFile("w", delete=False) as f:
            f.write("0001-*.patch SPACING\n")
        try:
            with self.assertRaisesRegex(HarnessError, "reason"):
                checks.load_allowlist(f.name)
        finally:
            os.unlink(f.name)


class Warnings(unittest.TestCase):
    def test_a_warning_in_a_series_file_of_a_matrix_build_is_found(self):
        # A real i386-highmem build log: the suite's misuse cases compiled
        # out left a helper unused.  Kconfig's own ".config:" warning and
        # files the series does not touch are not the series'.
        log = fixture("i386-build-warning.log")
        tree = "/work/main/build/tree"
        obj = "/work/main/build/out/dev/i386-highmem"
        self.assertEqual(checks.series_file_warnings(
            log, obj, tree, {"mm/kmap_local_test.c", "mm/highmem.c"}),
            ["mm/kmap_local_test.c: \u2018kl_slot_empty\u2019 defined but "
             "not used [-Wunused-function]"])
        self.assertEqual(checks.series_file_warnings(
            log, obj, tree, {"mm/highmem.c"}), [])

    def test_only_new_warnings_count_and_line_numbers_do_not(self):
        base = ("../mm/highmem.c:10:5: warning: unused variable 'x' "
                "[-Wunused-variable]\n")
        new = ("../mm/highmem.c:14:5: warning: unused variable 'x' "
               "[-Wunused-variable]\n"
               "../mm/highmem.c:30:1: warning: symbol 'y' was not declared."
               " Should it be static?\n")
        self.assertEqual(checks.new_warnings(base, new), [
            ("../mm/highmem.c", "warning",
             "symbol 'y' was not declared. Should it be static?")])

    def test_paths_are_made_relative_to_each_tree(self):
        base = ("/b/trees/base/mm/highmem.c:102:16: warning: Initializer "
                "entry defined twice\n")
        series = ("../../trees/series/mm/highmem.c:102:16: warning: "
                  "Initializer entry defined twice\n"
                  "../../trees/series/mm/highmem.c:115:13: warning: unused "
                  "variable 'u' [-Wunused-variable]\n")
        self.assertEqual(checks.new_warnings(
            base, series, ("/b/out/base/x", "/b/trees/base"),
            ("/b/out/series", "/b/trees/series")), [
            ("mm/highmem.c", "warning",
             "unused variable 'u' [-Wunused-variable]")])

    def test_the_syscall_check_is_not_the_compiled_file(self):
        # As make printed it before mm/kmap_local_test.o for sparc32; the
        # base tree has no such file, so it has no log to cancel it.
        series = ("<stdin>:1515:2: warning: #warning syscall clone3 not "
                  "implemented [-Wcpp]\n  CC      mm/kmap_local_test.o\n")
        self.assertEqual(checks.new_warnings("", series), [])

    def test_no_warnings_no_news(self):
        self.assertEqual(checks.new_warnings("", "  CC mm/highmem.o\n"), [])


class BisectObjects(unittest.TestCase):
    def test_c_files_build_their_directory(self):
        self.assertEqual(checks._object_dirs(
            ["mm/highmem.c", "arch/x86/mm/highmem_32.c"], "x86"),
            ["arch/x86/mm/", "mm/"])

    def test_header_change_builds_everything(self):
        dirs = checks._object_dirs(["include/linux/highmem.h"], "arm")
        self.assertIn("kernel/", dirs)
        self.assertIn("arch/arm/", dirs)

    def test_another_architectures_change_builds_nothing(self):
        files = ["arch/mips/include/asm/highmem.h", "arch/mips/mm/init.c"]
        self.assertEqual(checks._object_dirs(files, "x86"), [])
        self.assertIn("mm/", checks._object_dirs(files, "mips"))

    def test_private_header_builds_everything_once_built(self):
        dirs = checks._object_dirs(["kernel/sched/sched.h",
                                    "kernel/sched/core.c"], "x86")
        self.assertIn("mm/", dirs)

    def test_fresh_directory_builds_only_a_private_headers_directory(self):
        # The first patch built in a new directory: the rest is the base.
        self.assertEqual(checks._object_dirs(
            ["kernel/sched/sched.h", "kernel/sched/deadline.c"], "x86",
            fresh=True), ["kernel/sched/"])

    def test_fresh_directory_still_builds_everything_for_a_global_header(self):
        dirs = checks._object_dirs(["include/linux/sched.h"], "x86",
                                   fresh=True)
        self.assertIn("fs/", dirs)
        dirs = checks._object_dirs(["lib/Kconfig.debug"], "x86", fresh=True)
        self.assertIn("fs/", dirs)

    def test_documentation_only_builds_nothing(self):
        self.assertEqual(checks._object_dirs(["Documentation/vm/x.rst"],
                                             "x86"), [])


class Leftovers(unittest.TestCase):
    """The grep for private kmap_atomic code, on a throw-away git tree."""

    def tree(self, files):
        tmp = tempfile.TemporaryDirectory()
        self.addCleanup(tmp.cleanup)
        d = tmp.name
        for path, text in files.items():
            os.makedirs(os.path.join(d, os.path.dirname(path)), exist_ok=True)
            with open(os.path.join(d, path), "w") as f:
                f.write(text)
        for cmd in (["init", "-q"], ["add", "."],
                    ["-c", "user.name=t", "-c", "user.email=t@t",
                     "commit", "-q", "-m", "t"]):
            subprocess.run(["git"] + cmd, cwd=d, check=True)
        return d

    def run_check(self, files):
        tally = Tally(quiet=True)
        checks.leftovers(self.tree(files), tally)
        return {name: (st, detail) for _, name, st, detail in tally.rows}

    def test_clean_tree_passes(self):
        res = self.run_check({
            "mm/highmem.c": "static pte_t *__kmap_pte;\n",
            "Documentation/x.rst": "KM_TYPE_NR * NR_CPUS\n"})
        self.assertEqual({st for st, _ in res.values()}, {"pass"})
        self.assertEqual(len(res), len(checks.LEFTOVER_PATTERNS))

    def test_private_code_is_found_and_named(self):
        res = self.run_check({
            "arch/foo/mm/highmem.c": "void *kmap_atomic_high_prot(void)\n",
            "arch/foo/include/asm/fixmap.h":
                "#include <asm/kmap_types.h>\n",
            "arch/bar/mm/init.c": "pte_t *kmap_pte;\n"})
        fails = {n: d for n, (st, d) in res.items() if st == "fail"}
        self.assertEqual(len(fails), 3)
        text = "\n".join(fails.values())
        self.assertIn("arch/foo/mm/highmem.c:1:", text)
        self.assertIn("arch/bar/mm/init.c:1:", text)

    def test_exceptions_are_per_architecture(self):
        lines = ("arch/foo/mm/highmem.c:3:kunmap_atomic_high(x);\n"
                 "arch/bar/mm/highmem.c:4:kunmap_atomic_high(y);\n")
        self.assertEqual(checks.leftover_lines(lines, ("foo",)),
                         ["arch/bar/mm/highmem.c:4:kunmap_atomic_high(y);"])


if __name__ == "__main__":
    unittest.main()
