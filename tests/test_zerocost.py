"""The zero-cost comparison, on objdump output saved from a real run."""

import os
import tempfile
import unittest

from helpers import fixture

import zerocost
from common import HarnessError

# objdump -dr --no-show-raw-insn of the three objects the check compiles,
# x86_64 target configuration (see fixtures/README.md).
REAL = fixture("zerocost-x86_64.objdump")


class Normalise(unittest.TestCase):
    def test_the_three_functions_are_found(self):
        funcs = zerocost.functions(REAL)
        self.assertEqual(sorted(funcs), ["zc_atomic", "zc_direct",
                                         "zc_local"])
        self.assertEqual(funcs["zc_local"][-1], "ret")

    def test_addresses_and_names_are_stripped(self):
        funcs = zerocost.functions(REAL)
        self.assertIn("je <+0x33>", funcs["zc_local"])
        self.assertFalse(any("zc_local" in i for i in funcs["zc_local"]))
        self.assertIn("reloc R_X86_64_PC32 mem_section-0x4",
                      funcs["zc_direct"])


class Compare(unittest.TestCase):
    def test_kmap_local_page_is_page_address(self):
        funcs = zerocost.functions(REAL)
        self.assertEqual(zerocost.compare(funcs, "zc_local", "zc_direct"),
                         "")

    def test_kmap_atomic_differs_by_the_counters(self):
        # The real non-identical case: preempt and pagefault counting.
        funcs = zerocost.functions(REAL)
        diff = zerocost.compare(funcs, "zc_atomic", "zc_direct")
        self.assertIn("+reloc R_X86_64_PC32 __preempt_count-0x4", diff)
        self.assertIn("+incl 0x700(%rdx)", diff)
        self.assertIn("preempt_schedule_thunk", diff)

    def test_a_changed_relocation_is_a_difference(self):
        text = REAL.replace("mem_section-0x4", "other_table-0x4", 1)
        funcs = zerocost.functions(text)
        self.assertIn("other_table",
                      zerocost.compare(funcs, "zc_local", "zc_direct"))

    def test_a_missing_function_is_an_error(self):
        funcs = zerocost.functions(REAL)
        with self.assertRaisesRegex(HarnessError, "zc_nothing"):
            zerocost.compare(funcs, "zc_nothing", "zc_direct")


class Api(unittest.TestCase):
    def test_declared_or_not(self):
        with tempfile.TemporaryDirectory() as tree:
            inc = os.path.join(tree, "include", "linux")
            os.makedirs(inc)
            path = os.path.join(inc, "highmem.h")
            with open(path, "w") as f:
                f.write("/* kmap_local_page() is not here yet */\n"
                        "static inline void *kmap_atomic(struct page *p);\n")
            self.assertFalse(zerocost.has_api(tree))
            with open(os.path.join(inc, "highmem-internal.h"), "w") as f:
                f.write("static inline void *kmap_local_page(struct page "
                        "*page)\n{\n}\n")
            self.assertTrue(zerocost.has_api(tree))


if __name__ == "__main__":
    unittest.main()
