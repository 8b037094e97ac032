"""patches/series <-> a git work tree of the base with one commit a patch.

The series file is quilt-style: one patch file name a line, '#' comments.
A comment '# part: NAME' starts a named part of the series; the bisect
build links full kernels at the end of each part.
"""

import os
import re
import shutil
import subprocess
import tempfile

from common import HarnessError, REPO, run

PATCHES = os.path.join(REPO, "patches")
COVER_IN = "cover-letter.txt"
COVER_OUT = "0000-cover-letter.patch"
_PART = re.compile(r"^#\s*part:\s*(\S.*?)\s*$")


class Series:
    def __init__(self, header, entries):
        self.header = header          # leading comment lines
        self.entries = entries        # [(patch_name, [part names])]

    @property
    def patches(self):
        return [p for p, _ in self.entries]

    def parts(self):
        """[(part name, [patch names])] in order; unnamed head is ''."""
        out = []
        for name, markers in self.entries:
            for m in markers:
                out.append((m, []))
            if not out:
                out.append(("", []))
            out[-1][1].append(name)
        return [p for p in out if p[1]]


def parse(text):
    header, entries, pending = [], [], []
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            continue
        m = _PART.match(line)
        if m:
            pending.append(m.group(1))
            continue
        if line.startswith("#"):
            if not entries and not pending:
                header.append(raw.rstrip())
            continue
        name = line.split()[0]
        if name in [e[0] for e in entries]:
            raise HarnessError("patches/series lists %s twice" % name)
        entries.append((name, pending))
        pending = []
    return Series(header, entries)


def render(series):
    lines = list(series.header)
    for name, markers in series.entries:
        lines += ["# part: %s" % m for m in markers]
        lines.append(name)
    return "\n".join(lines) + "\n"


def load(patches_dir=PATCHES):
    path = os.path.join(patches_dir, "series")
    if not os.path.exists(path):
        return Series([], [])
    with open(path) as f:
        s = parse(f.read())
    for p in s.patches:
        if not os.path.isfile(os.path.join(patches_dir, p)):
            raise HarnessError("patches/series names %s, which is not in "
                               "patches/" % p)
    return s


def apply(tree, patches_dir=PATCHES):
    """Apply the series as commits on top of 'base' in `tree`."""
    s = load(patches_dir)
    for i, p in enumerate(s.patches, 1):
        r = subprocess.run(["git", "am", "-q", "--keep-cr",
                            "--committer-date-is-author-date",
                            os.path.join(patches_dir, p)], cwd=tree,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        if r.returncode:
            raise HarnessError(
                "patch %d/%d %s does not apply to %s:\n%s\nThe tree stops "
                "at the failing patch; see 'git am --show-current-patch'." %
                (i, len(s.patches), p, tree, r.stdout.decode()[-3000:]))
    return s


def _git_clean_env():
    env = dict(os.environ)
    env["GIT_CONFIG_NOSYSTEM"] = "1"
    env["GIT_CONFIG_GLOBAL"] = os.devnull
    env["LC_ALL"] = "C"
    return env


def format_patches(tree, outdir):
    """Write base..HEAD of `tree` as format-patch files; return names."""
    env = _git_clean_env()
    n = int(run(["git", "rev-list", "--count", "base..HEAD"], cwd=tree,
                env=env).strip())
    if n == 0:
        return []
    out = run(["git", "format-patch", "-q", "--no-signature",
               "--zero-commit", "--no-numbered", "--no-signoff",
               "--abbrev=12", "--stat=72", "--no-cover-letter",
               "-o", outdir, "base..HEAD"], cwd=tree, env=env)
    del out
    names = sorted(f for f in os.listdir(outdir)
                   if re.match(r"^\d{4}-.*\.patch$", f))
    if len(names) != n:
        raise HarnessError("format-patch wrote %d files for %d commits" %
                           (len(names), n))
    return names


def cover_letter(tree, patches_dir, digest_line):
    """Compose the cover letter from cover-letter.txt and the tree."""
    src = os.path.join(patches_dir, COVER_IN)
    if not os.path.exists(src):
        return None
    with open(src) as f:
        text = f.read().rstrip("\n")
    subject, _, body = text.partition("\n")
    env = _git_clean_env()
    shortlog = run(["git", "shortlog", "--no-merges", "base..HEAD"],
                   cwd=tree, env=env).rstrip()
    stat = run(["git", "diff", "--stat=72", "--summary", "base", "HEAD"],
               cwd=tree, env=env).rstrip()
    msg = ["From 0000000000000000000000000000000000000000 "
           "Mon Sep 17 00:00:00 2001",
           "Subject: [PATCH 0/%d] %s" % (
               int(run(["git", "rev-list", "--count", "base..HEAD"],
                       cwd=tree, env=env)), subject.strip()),
           "", body.strip("\n"), "", digest_line, "",
           shortlog or "(no patches yet)", "", stat, ""]
    return "\n".join(msg)


def _subject(name):
    """A patch file name without its number: 0004-foo.patch -> foo.patch"""
    return re.sub(r"^\d{4}-", "", name)


def export(tree, patches_dir=PATCHES, base_line=""):
    """Rewrite patches/ from the commits of `tree`.  Deterministic."""
    old = load(patches_dir)
    tmp = tempfile.mkdtemp(prefix="export-")
    try:
        names = format_patches(tree, tmp)
        # Part markers follow the patch they were attached to: the same
        # name, or the same subject under a new number.
        markers = dict(old.entries)
        by_subject = {_subject(n): m for n, m in old.entries}
        new_entries = [(n, markers.get(n, by_subject.get(_subject(n), [])))
                       for n in names]
        if old.entries and names and not any(m for _, m in new_entries):
            first = [m for _, ms in old.entries for m in ms][:1]
            if first:
                new_entries[0] = (names[0], first)
        for p in old.patches:
            path = os.path.join(patches_dir, p)
            if os.path.exists(path) and p not in names:
                os.remove(path)
        for n in names:
            shutil.copyfile(os.path.join(tmp, n),
                            os.path.join(patches_dir, n))
        with open(os.path.join(patches_dir, "series"), "w") as f:
            f.write(render(Series(old.header, new_entries)))
        cover = cover_letter(tree, patches_dir, base_line)
        if cover is not None:
            with open(os.path.join(patches_dir, COVER_OUT), "w") as f:
                f.write(cover)
        return names
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def unexported_work(tree, patches_dir=PATCHES):
    """Describe work in `tree` that patches/ does not hold, or ''."""
    dirty = run(["git", "status", "--porcelain", "--untracked-files=no"],
                cwd=tree, check=False).strip()
    if dirty:
        return "uncommitted changes:\n" + dirty
    tmp = tempfile.mkdtemp(prefix="cmp-")
    try:
        names = format_patches(tree, tmp)
        if names != load(patches_dir).patches:
            return "its commits differ from patches/series"
        for n in names:
            with open(os.path.join(tmp, n), "rb") as a, \
                    open(os.path.join(patches_dir, n), "rb") as b:
                if a.read() != b.read():
                    return "commit %s differs from patches/%s" % (n, n)
        return ""
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
