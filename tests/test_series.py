"""Series file handling and deterministic export, on a small git repo."""

import os
import shutil
import subprocess
import tempfile
import unittest

import helpers  # noqa: F401

import base
import series

GIT_ENV = dict(os.environ, GIT_AUTHOR_NAME="kmap-local",
               GIT_AUTHOR_EMAIL="kmap-local@example.org",
               GIT_COMMITTER_NAME="kmap-local",
               GIT_COMMITTER_EMAIL="kmap-local@example.org",
               GIT_AUTHOR_DATE="2024-07-27T00:00:00+00:00",
               GIT_COMMITTER_DATE="2024-07-27T00:00:00+00:00",
               GIT_CONFIG_NOSYSTEM="1", GIT_CONFIG_GLOBAL=os.devnull)


def git(cwd, *args):
    return subprocess.run(("git",) + args, cwd=cwd, env=GIT_ENV, check=True,
                          stdout=subprocess.PIPE).stdout.decode()


def make_base(path):
    os.makedirs(path)
    git(path, "init", "-q")
    with open(os.path.join(path, "a.c"), "w") as f:
        f.write("int a;\n")
    git(path, "add", ".")
    git(path, "commit", "-qm", "base")
    git(path, "tag", "base")


def commit(path, name, text, subject, date):
    with open(os.path.join(path, name), "a") as f:
        f.write(text)
    git(path, "add", ".")
    env = dict(GIT_ENV, GIT_AUTHOR_DATE=date)
    subprocess.run(["git", "commit", "-qm", subject + "\n\nWhy: because.\n"],
                   cwd=path, env=env, check=True)


class SeriesFile(unittest.TestCase):
    def test_parse_render_round_trip(self):
        text = ("# header comment\n# part: sched\n0001-a.patch\n"
                "0002-b.patch -p1\n\n# part: mm\n0003-c.patch\n")
        s = series.parse(text)
        self.assertEqual(s.patches, ["0001-a.patch", "0002-b.patch",
                                     "0003-c.patch"])
        self.assertEqual(s.parts(), [("sched", ["0001-a.patch",
                                                "0002-b.patch"]),
                                     ("mm", ["0003-c.patch"])])
        again = series.parse(series.render(s))
        self.assertEqual(again.entries, s.entries)
        self.assertEqual(again.header, ["# header comment"])

    def test_duplicate_patch_is_an_error(self):
        with self.assertRaises(series.HarnessError):
            series.parse("a.patch\na.patch\n")

    def test_missing_patch_file_is_named(self):
        d = tempfile.mkdtemp()
        try:
            with open(os.path.join(d, "series"), "w") as f:
                f.write("0001-gone.patch\n")
            with self.assertRaisesRegex(series.HarnessError,
                                        "0001-gone.patch"):
                series.load(d)
        finally:
            shutil.rmtree(d)


class Export(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp()
        self.tree = os.path.join(self.tmp, "tree")
        self.patches = os.path.join(self.tmp, "patches")
        os.makedirs(self.patches)
        with open(os.path.join(self.patches, "series"), "w") as f:
            f.write("# the series\n")
        with open(os.path.join(self.patches, series.COVER_IN), "w") as f:
            f.write("kmap test series\n\nMeasured: nothing yet.\n")
        make_base(self.tree)
        commit(self.tree, "a.c", "int b;\n", "mm: add b",
               "2024-08-01T10:00:00+00:00")
        commit(self.tree, "c.c", "int c;\n", "sched: add c",
               "2024-08-02T10:00:00+00:00")

    def tearDown(self):
        shutil.rmtree(self.tmp)

    def snapshot(self):
        out = {}
        for n in sorted(os.listdir(self.patches)):
            with open(os.path.join(self.patches, n), "rb") as f:
                out[n] = f.read()
        return out

    def test_export_is_deterministic_and_round_trips(self):
        names = series.export(self.tree, self.patches, "base: test")
        self.assertEqual(names, ["0001-mm-add-b.patch",
                                 "0002-sched-add-c.patch"])
        first = self.snapshot()
        text = first["0001-mm-add-b.patch"].decode()
        self.assertTrue(text.startswith("From 0000000000000000000000000000"))
        self.assertNotIn("\n-- \n", text)          # no version signature
        self.assertIn("Subject: [PATCH] mm: add b", text)
        series.export(self.tree, self.patches, "base: test")
        self.assertEqual(self.snapshot(), first)
        # Apply onto a fresh base and export again: same bytes.
        shutil.rmtree(self.tree)
        make_base(self.tree)
        series.apply(self.tree, self.patches)
        series.export(self.tree, self.patches, "base: test")
        self.assertEqual(self.snapshot(), first)
        self.assertEqual(series.unexported_work(self.tree, self.patches), "")

    def test_cover_letter_carries_base_and_shortlog(self):
        series.export(self.tree, self.patches, "base: Linux test")
        cover = self.snapshot()[series.COVER_OUT].decode()
        self.assertIn("Subject: [PATCH 0/2] kmap test series", cover)
        self.assertIn("base: Linux test", cover)
        self.assertIn("mm: add b", cover)

    def test_unexported_work_is_detected(self):
        series.export(self.tree, self.patches)
        commit(self.tree, "a.c", "int d;\n", "mm: add d",
               "2024-08-03T10:00:00+00:00")
        self.assertIn("differ", series.unexported_work(self.tree,
                                                       self.patches))
        with open(os.path.join(self.tree, "a.c"), "a") as f:
            f.write("int e;\n")
        self.assertIn("uncommitted", series.unexported_work(self.tree,
                                                            self.patches))

    def test_part_markers_survive_export(self):
        series.export(self.tree, self.patches)
        with open(os.path.join(self.patches, "series")) as f:
            text = f.read()
        text = text.replace("0002-sched-add-c.patch",
                            "# part: sched\n0002-sched-add-c.patch")
        with open(os.path.join(self.patches, "series"), "w") as f:
            f.write(text)
        series.export(self.tree, self.patches)
        s = series.load(self.patches)
        self.assertEqual([p for p, _ in s.parts()], ["", "sched"])

    def test_part_marker_follows_a_renumbered_patch(self):
        # The series used to number the sched patch 0007; a patch added or
        # dropped before it renumbers it, and its part goes with it.
        series.export(self.tree, self.patches)
        shutil.copyfile(os.path.join(self.patches, "0002-sched-add-c.patch"),
                        os.path.join(self.patches, "0007-sched-add-c.patch"))
        with open(os.path.join(self.patches, "series"), "w") as f:
            f.write("0001-mm-add-b.patch\n# part: sched\n"
                    "0007-sched-add-c.patch\n")
        series.export(self.tree, self.patches)
        s = series.load(self.patches)
        self.assertEqual(s.parts(), [("", ["0001-mm-add-b.patch"]),
                                     ("sched", ["0002-sched-add-c.patch"])])
        self.assertFalse(os.path.exists(os.path.join(
            self.patches, "0007-sched-add-c.patch")))

    def test_patch_that_does_not_apply_is_named(self):
        series.export(self.tree, self.patches)
        shutil.rmtree(self.tree)
        os.makedirs(self.tree)
        git(self.tree, "init", "-q")
        with open(os.path.join(self.tree, "a.c"), "w") as f:
            f.write("something else\n")
        git(self.tree, "add", ".")
        git(self.tree, "commit", "-qm", "other base")
        git(self.tree, "tag", "base")
        with self.assertRaisesRegex(series.HarnessError,
                                    "patch 1/2 0001-mm-add-b.patch does not"):
            series.apply(self.tree, self.patches)


class ReuseBase(unittest.TestCase):
    """make run keeps an untouched base tree instead of cloning again."""

    def test_clean_tree_at_base_is_kept_anything_else_is_cloned(self):
        tmp = tempfile.mkdtemp()
        cloned = []
        real = base.clone_base
        base.clone_base = lambda dest: cloned.append(dest) or dest
        try:
            tree = os.path.join(tmp, "base")
            make_base(tree)
            self.assertEqual(base.reuse_or_clone_base(tree), tree)
            self.assertEqual(cloned, [])
            with open(os.path.join(tree, "new.c"), "w") as f:
                f.write("int n;\n")
            base.reuse_or_clone_base(tree)
            self.assertEqual(cloned, [tree])
            commit(tree, "a.c", "int b;\n", "on top",
                   "2024-07-28T00:00:00+00:00")
            base.reuse_or_clone_base(tree)
            self.assertEqual(len(cloned), 2)
            base.reuse_or_clone_base(os.path.join(tmp, "none"))
            self.assertEqual(len(cloned), 3)
        finally:
            base.clone_base = real
            shutil.rmtree(tmp)


if __name__ == "__main__":
    unittest.main()
