"""Kconfig validation, target descriptions and the base checksum table."""

import hashlib
import os
import shutil
import subprocess
import tempfile
import unittest

import helpers

import base
import kconfig
import targets
from common import HarnessError


class Kconfig(unittest.TestCase):
    def test_parse_set_and_unset(self):
        cfg = kconfig.parse("CONFIG_A=y\n# CONFIG_B is not set\n"
                            "CONFIG_C=\"x y\"\nCONFIG_D=8\n")
        self.assertEqual(cfg, {"CONFIG_A": "y", "CONFIG_B": "n",
                               "CONFIG_C": "\"x y\"", "CONFIG_D": "8"})

    def test_later_fragment_wins(self):
        want = kconfig.requested(["preempt", "preempt-none"])
        self.assertEqual(want["CONFIG_PREEMPT_NONE"], ("y", "preempt-none"))
        self.assertEqual(want["CONFIG_PREEMPT"], ("n", "preempt-none"))

    def test_dropped_options_are_listed(self):
        want = {"CONFIG_HIGHMEM": ("y", "highmem4g"),
                "CONFIG_X86_PAE": ("n", "x"),
                "CONFIG_NR_CPUS": ("8", "x86-32"),
                "CONFIG_FOO": ("y", "f")}
        actual = {"CONFIG_HIGHMEM": "y", "CONFIG_NR_CPUS": "4"}
        self.assertEqual(kconfig.dropped(want, actual), [
            ("CONFIG_FOO", "y", "absent", "f"),
            ("CONFIG_NR_CPUS", "8", "4", "x86-32")])

    def test_check_names_option_fragment_and_dependency(self):
        tree = tempfile.mkdtemp()
        try:
            with open(os.path.join(tree, "Kconfig"), "w") as f:
                f.write("config LIST_KUNIT_TEST\n\ttristate \"x\"\n"
                        "\tdepends on KUNIT=y\n\nconfig KUNIT\n\tbool\n")
            with open(os.path.join(tree, ".config"), "w") as f:
                f.write("CONFIG_KUNIT=y\n# CONFIG_LIST_KUNIT_TEST is not "
                        "set\n")
            with self.assertRaises(HarnessError) as cm:
                kconfig.check(tree, os.path.join(tree, ".config"), ["kunit"])
            msg = str(cm.exception)
            self.assertIn("CONFIG_LIST_KUNIT_TEST=y (configs/kunit.config) "
                          "became 'not set'", msg)
            self.assertIn("depends on KUNIT=y", msg)
        finally:
            shutil.rmtree(tree)


class SeriesOptions(unittest.TestCase):
    """The base build of `make run` may lack what the series adds."""

    def test_added_symbols_of_a_real_series_diff(self):
        # git diff base HEAD -- '*Kconfig*' of a developer tree.
        new = kconfig.added_symbols(helpers.fixture("series-kconfig.diff"))
        self.assertEqual(sorted(new), [
            "CONFIG_ARCH_SUPPORTS_KMAP_LOCAL_FORCE_MAP",
            "CONFIG_DEBUG_KMAP_LOCAL", "CONFIG_DEBUG_KMAP_LOCAL_FORCE_MAP",
            "CONFIG_KMAP_LOCAL", "CONFIG_KMAP_LOCAL_NON_LINEAR_PTE_ARRAY",
            "CONFIG_MIGRATE_DISABLE_KUNIT_TEST"])

    def test_a_moved_symbol_is_not_new(self):
        diff = ("--- a/mm/Kconfig\n+++ b/mm/Kconfig\n-config HIGHMEM\n"
                "+++ b/lib/Kconfig\n+config HIGHMEM\n"
                "+menuconfig KMAP_LOCAL_MENU\n+\tselect KMAP_LOCAL\n")
        self.assertEqual(kconfig.added_symbols(diff),
                         {"CONFIG_KMAP_LOCAL_MENU"})

    def test_only_absent_listed_symbols_are_tolerated(self):
        want = {"CONFIG_MIGRATE_DISABLE_KUNIT_TEST": ("y", "kunit"),
                "CONFIG_DEBUG_KMAP_LOCAL": ("y", "debug"),
                "CONFIG_LIST_KUNIT_TEST": ("y", "kunit")}
        actual = {"CONFIG_DEBUG_KMAP_LOCAL": "n"}
        ok = {"CONFIG_MIGRATE_DISABLE_KUNIT_TEST", "CONFIG_DEBUG_KMAP_LOCAL"}
        self.assertEqual(kconfig.dropped(want, actual, ok), [
            ("CONFIG_DEBUG_KMAP_LOCAL", "y", "n", "debug"),
            ("CONFIG_LIST_KUNIT_TEST", "y", "absent", "kunit")])

    def test_check_passes_a_base_config_without_the_series_option(self):
        tree = tempfile.mkdtemp()
        try:
            # Everything configs/kunit.config asks for but the option the
            # series adds: what a base build's .config looks like.
            cfg = os.path.join(tree, ".config")
            with open(cfg, "w") as f:
                for sym, (val, _) in kconfig.requested(["kunit"]).items():
                    if sym != "CONFIG_MIGRATE_DISABLE_KUNIT_TEST":
                        f.write("%s=%s\n" % (sym, val))
            with self.assertRaisesRegex(HarnessError, "MIGRATE_DISABLE"):
                kconfig.check(tree, cfg, ["kunit"])
            kconfig.check(tree, cfg, ["kunit"],
                          {"CONFIG_MIGRATE_DISABLE_KUNIT_TEST"})
        finally:
            shutil.rmtree(tree)


class Targets(unittest.TestCase):
    def test_every_target_loads_and_its_fragments_exist(self):
        for name in targets.names():
            t = targets.load(name)
            for frag in t.fragment_list:
                self.assertTrue(os.path.isfile(kconfig.fragment_path(frag)))

    def test_booted_targets_have_two_cpus_and_2g(self):
        booted = [t for t in targets.matrix() if t.boots]
        self.assertGreaterEqual(len(booted), 5)
        for t in booted:
            cmd = t.qemu_cmd("IMG", "RD")
            smp = int(cmd[cmd.index("-smp") + 1].split(",")[0])
            self.assertGreaterEqual(smp, 2, t.name)
            self.assertEqual(cmd[cmd.index("-m") + 1], "2048", t.name)
            self.assertIn("console=" + t.console, cmd[-1])

    def test_inherit_adds_fragments(self):
        t = targets.load("i386-highmem-debug")
        self.assertEqual(t.fragment_list[:5],
                         targets.load("i386-highmem").fragment_list)
        self.assertIn("debug", t.fragment_list)
        self.assertEqual(t.arch, "i386")

    def test_required_matrix_targets_exist(self):
        names = {t.name for t in targets.matrix()}
        for n in ("i386-highmem", "i386-pae", "arm", "arm-lpae", "x86_64"):
            self.assertIn(n, names)

    def test_unknown_target_is_named(self):
        with self.assertRaisesRegex(HarnessError, "no target 'nope'"):
            targets.load("nope")


class CcacheWrapper(unittest.TestCase):
    """harness/ccache-cc: ccache for every source but those with .incbin
    (a cached piggy.o would hold an older compressed kernel)."""

    def run_cc(self, name, text):
        with tempfile.TemporaryDirectory() as d:
            log = os.path.join(d, "log")
            for tool in ("ccache", "fakecc"):
                with open(os.path.join(d, tool), "w") as f:
                    f.write("#!/bin/sh\necho %s \"$@\" >> %s\n" %
                            (tool, log))
                os.chmod(os.path.join(d, tool), 0o755)
            with open(os.path.join(d, name), "w") as f:
                f.write(text)
            env = dict(os.environ, PATH=d + os.pathsep + os.environ["PATH"])
            subprocess.run([targets.CCACHE_CC, "fakecc", "-c", name, "-o",
                            "x.o"], cwd=d, env=env, check=True)
            with open(log) as f:
                return f.read().split()[0]

    def test_piggy_with_incbin_bypasses_ccache(self):
        self.assertEqual(self.run_cc(
            "piggy.S", '\t.section .piggydata, "a"\n'
            '\t.incbin\t"arch/arm/boot/compressed/piggy_data"\n'),
            "fakecc")

    def test_other_sources_go_through_ccache(self):
        self.assertEqual(self.run_cc("x.c", "int x;\n"), "ccache")
        self.assertEqual(self.run_cc("head.S", "\tnop\n"), "ccache")

    def test_targets_build_with_the_wrapper(self):
        self.assertIn("CC=%s arm-linux-gnueabihf-gcc" % targets.CCACHE_CC,
                      targets.load("arm").make_vars())


class Base(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp()

    def tearDown(self):
        shutil.rmtree(self.tmp)

    def test_table_has_the_pinned_debian_tarball(self):
        table = base.accepted_checksums()
        self.assertEqual(
            table["5272175427d036677539b9ef88a6bc30e455aca2d4fe9a942b2926ef79"
                  "67ad20"][0], "linux_5.10.223.orig.tar.xz")

    def test_corrupt_tarball_is_refused_with_its_checksum(self):
        path = os.path.join(self.tmp, "linux_5.10.223.orig.tar.xz")
        with open(path, "wb") as f:
            f.write(b"not a tarball")
        digest = hashlib.sha256(b"not a tarball").hexdigest()
        with self.assertRaisesRegex(HarnessError, "checksum mismatch.*%s"
                                    % digest):
            base.verify(path, base.accepted_checksums())

    def test_good_tarball_is_accepted(self):
        path = os.path.join(self.tmp, "t")
        with open(path, "wb") as f:
            f.write(b"abc")
        digest = hashlib.sha256(b"abc").hexdigest()
        self.assertEqual(base.verify(path, {digest: ("t", "")}), digest)

    def test_mirror_from_deb822_sources(self):
        os.makedirs(os.path.join(self.tmp, "sources.list.d"))
        with open(os.path.join(self.tmp, "sources.list.d", "debian.sources"),
                  "w") as f:
            f.write("Types: deb\nURIs: http://mirror.test/debian-security\n"
                    "Suites: bookworm-security\nComponents: main\n\n"
                    "Types: deb\nURIs: http://mirror.test/debian/\n"
                    "Suites: bookworm\nComponents: main\n")
        self.assertEqual(base.find_mirror(self.tmp),
                         "http://mirror.test/debian")

    def test_mirror_from_one_line_sources(self):
        with open(os.path.join(self.tmp, "sources.list"), "w") as f:
            f.write("# comment\ndeb [arch=amd64] http://m.test/debian "
                    "bookworm main\n")
        self.assertEqual(base.find_mirror(self.tmp), "http://m.test/debian")

    def test_no_mirror_says_how_to_fix(self):
        old = os.environ.pop("MIRROR", None)
        try:
            with self.assertRaisesRegex(HarnessError, "MIRROR="):
                base.find_mirror(self.tmp)
        finally:
            if old is not None:
                os.environ["MIRROR"] = old


if __name__ == "__main__":
    unittest.main()
