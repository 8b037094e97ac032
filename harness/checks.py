"""Series checks: checkpatch, bisect build, allmodconfig compile, sparse."""

import fnmatch
import hashlib
import os
import re
import subprocess
import time

import kconfig
import kernel
import targets as targets_mod
from common import (HarnessError, REPO, TIMING, build_dir, ccache_env, jobs,
                    run, run_logged, say, tail)

ALLOW = os.path.join(REPO, "patches", "checkpatch.allow")
_CP_MSG = re.compile(r"^(ERROR|WARNING|CHECK):(\w+): (.*)$")


# --- checkpatch ---------------------------------------------------------

def load_allowlist(path=ALLOW):
    """[(patch glob, TYPE, reason)]; every entry must carry a reason."""
    out = []
    if not os.path.exists(path):
        return out
    with open(path) as f:
        for no, line in enumerate(f, 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            parts = line.split(None, 2)
            if len(parts) < 3:
                raise HarnessError("%s:%d: an entry is 'PATCH-GLOB TYPE "
                                   "reason', the reason is required" %
                                   (path, no))
            out.append(tuple(parts))
    return out


def checkpatch_messages(output):
    """[(level, TYPE, text)] from checkpatch.pl --show-types output."""
    return [m.groups() for m in map(_CP_MSG.match, output.splitlines())
            if m]


def judge_checkpatch(patch, msgs, allow):
    """Split messages into (not allowed, allowed)."""
    bad, ok = [], []
    for level, typ, text in msgs:
        if any(fnmatch.fnmatch(patch, g) and t == typ for g, t, _ in allow):
            ok.append((level, typ, text))
        else:
            bad.append((level, typ, text))
    return bad, ok


def checkpatch(tree, s, tally):
    allow = load_allowlist()
    used = set()
    if not s.patches:
        tally.add("checkpatch", "series", "skip", "the series is empty")
        return
    logdir = os.path.join(build_dir(), "logs", "checkpatch")
    os.makedirs(logdir, exist_ok=True)
    for p in s.patches:
        script = os.path.join(tree, "scripts", "checkpatch.pl")
        r = subprocess.run(["perl", script, "--strict", "--show-types",
                            "--no-summary", os.path.join(REPO, "patches", p)],
                           cwd=tree,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        out = r.stdout.decode(errors="replace")
        with open(os.path.join(logdir, p + ".log"), "w") as f:
            f.write(out)
        bad, ok = judge_checkpatch(p, checkpatch_messages(out), allow)
        for _, typ, _ in ok:
            used.add((p, typ))
        if bad:
            tally.add("checkpatch", p, "fail", "; ".join(
                "%s:%s %s" % m for m in bad[:3]) + " (log: %s)" %
                os.path.join(logdir, p + ".log"))
        else:
            tally.add("checkpatch", p, "pass",
                      "%d allowed" % len(ok) if ok else "")
    for g, typ, _ in allow:
        if not any(fnmatch.fnmatch(p, g) and t == typ for p, t in used):
            say("  note: checkpatch.allow entry '%s %s' matched nothing" %
                (g, typ))


# --- bisect build ---------------------------------------------------------

BISECT_TARGETS = ("i386-highmem", "x86_64")
_HEADER = re.compile(r"(^|/)include/|\.h$")
# A header in an include/ directory may be included from anywhere; any
# other header only by the files of its own directory (kernel/sched/sched.h).
_GLOBAL_HEADER = re.compile(r"(^|/)include/")
# Top-level directories kbuild descends into for the kernel proper.
_TOP_DIRS = ("init", "kernel", "mm", "fs", "ipc", "security", "crypto",
             "block", "lib", "drivers", "net", "arch/{srcarch}")


def _srcarch(target):
    return {"i386": "x86", "x86_64": "x86"}.get(target.arch, target.arch)


def _changed_files(tree, rev):
    return run(["git", "diff-tree", "--no-commit-id", "--name-only", "-r",
                rev], cwd=tree).split()


def _object_dirs(files, srcarch, fresh=False):
    """Build directories a patch's changes can affect (objects mode).
    Another architecture's files affect nothing here.

    Once the build directory holds the previous patch's objects, a header
    change builds every directory: make recompiles exactly the objects that
    depend on it.  In a `fresh` directory (the first patch built there) the
    other objects are still the base's, which builds: only the directories
    of the changed files are built then, unless a change (a header under
    include/, a Kconfig or Makefile) can reach any of them."""
    files = [f for f in files if _arch_of(f) in (None, srcarch)]
    everywhere = (_GLOBAL_HEADER if fresh else _HEADER)
    if any(everywhere.search(f) or os.path.basename(f).startswith(
            ("Kconfig", "Makefile", "Kbuild")) for f in files):
        return [d.format(srcarch=srcarch) + "/" for d in _TOP_DIRS]
    dirs = set()
    for f in files:
        if f.endswith((".c", ".S", ".h")):
            dirs.add(os.path.dirname(f) + "/")
    return sorted(dirs)


def bisect(tree, s, tally, mode="auto"):
    """Build every patch of the series for the bisect targets."""
    if not s.patches:
        tally.add("bisect", "series", "skip", "the series is empty")
        return
    if mode not in ("auto", "full", "objects"):
        raise HarnessError("BISECT=%s: use auto, full or objects" % mode)
    if mode == "auto":
        mode = "full" if len(s.patches) <= 12 else "objects"
    revs = run(["git", "rev-list", "--reverse", "base..HEAD"],
               cwd=tree).split()
    if len(revs) != len(s.patches):
        raise HarnessError("tree %s has %d commits for %d patches" %
                           (tree, len(revs), len(s.patches)))
    boundaries = {parts[-1] for _, parts in s.parts()}
    boundaries.add(s.patches[-1])
    # Build in the series tree itself, one commit after the other, and in
    # the matrix build directories of these targets: after the last patch
    # the matrix finds its kernels built.  The tree is put back on its
    # branch at the end.
    tgts = [targets_mod.load(n) for n in BISECT_TARGETS]
    say("bisect: %d patches x %s, mode %s (full kernels linked at: %s)" %
        (len(revs), ", ".join(BISECT_TARGETS), mode,
         "every patch" if mode == "full" else ", ".join(sorted(boundaries))))
    touched = touched_files(tree)
    fresh = {}
    for t in tgts:
        obj = kernel.outdir(t, "series")
        fresh[t.name] = not os.path.exists(os.path.join(obj, "vmlinux"))
        kernel.configure(tree, obj, t, os.path.join(obj, "bisect.log"))
    try:
        for i, (rev, p) in enumerate(zip(revs, s.patches), 1):
            run(["git", "checkout", "-q", "--detach", rev], cwd=tree)
            files = _changed_files(tree, rev)
            t_patch = time.time()
            for t in tgts:
                obj = kernel.outdir(t, "series")
                log = os.path.join(obj, "patch-%04d.log" % i)
                if mode == "full" or p in boundaries:
                    what = ["vmlinux"]
                else:
                    what = _object_dirs(files, _srcarch(t), fresh[t.name])
                if not what:
                    tally.add("bisect", "%s [%s]" % (p, t.name), "pass",
                              "no compiled files changed")
                    continue
                cmd = (["make", "-C", tree, "O=" + obj, "-j" + jobs()] +
                       t.make_vars() + ["olddefconfig"] + what)
                rc = run_logged(cmd, log, "%d/%d %s" % (i, len(revs),
                                                        t.name),
                                env=ccache_env())
                warned = []
                if not rc:
                    fresh[t.name] = False
                    with open(log, errors="replace") as f:
                        warned = series_file_warnings(f.read(), obj, tree,
                                                      touched)
                tally.add("bisect", "%s [%s]" % (p, t.name),
                          "fail" if rc or warned else "pass",
                          ("build failed, log: %s\n%s" % (log, tail(log, 10)))
                          if rc else
                          ("new warnings: %s (log: %s)" %
                           ("; ".join(warned), log)) if warned else
                          ("vmlinux" if what == ["vmlinux"] else "objects"))
            TIMING.add("  bisect patch %d/%d" % (i, len(revs)), time.time() - t_patch)
    finally:
        run(["git", "checkout", "-q", "series"], cwd=tree)


# --- compile test under allmodconfig, and sparse -------------------------

_WARN = re.compile(r"^(\S+?):(\d+):(?:\d+:)? (warning|error): (.*)$")


def _norm_warnings(text, obj=None, tree=None):
    """Warnings as (file, kind, message), without line numbers and with
    paths relative to the source tree, so base and series compare."""
    out = set()
    for line in text.splitlines():
        m = _WARN.match(line.strip())
        # "<stdin>": scripts/checksyscalls.sh, which make runs before any
        # object (sparc32: "syscall clone3 not implemented"), not the file
        if not m or m.group(1) == "<stdin>":
            continue
        path = m.group(1)
        if tree:
            full = os.path.normpath(os.path.join(obj or tree, path))
            if full.startswith(os.path.normpath(tree) + os.sep):
                path = os.path.relpath(full, tree)
        out.add((path, m.group(3), re.sub(r"\s+", " ", m.group(4))))
    return out


def new_warnings(base_text, series_text, base_loc=(None, None),
                 series_loc=(None, None)):
    """Warnings of `series_text` that `base_text` lacks.  A *_loc is the
    (build dir, source tree) pair that resolves relative paths."""
    return sorted(_norm_warnings(series_text, *series_loc) -
                  _norm_warnings(base_text, *base_loc))


def touched_files(tree, diff_filter=None):
    """Files the series changes (base..HEAD of the tree)."""
    cmd = ["git", "diff", "--name-only"]
    if diff_filter:
        cmd.append("--diff-filter=" + diff_filter)
    return set(run(cmd + ["base", "HEAD"], cwd=tree).split())


def _touched_c_files(tree):
    return sorted(f for f in touched_files(tree, "AMR") if f.endswith(".c"))


def series_file_warnings(log_text, obj, tree, touched):
    """Compiler warnings of a kernel build log in files the series touches.
    The matrix configurations build code (a test case compiled out, an
    option off) that allmodconfig does not, and no base build of them
    exists to compare with, so any warning there is the series'."""
    return sorted("%s: %s" % (path, msg) for path, kind, msg
                  in _norm_warnings(log_text, obj, tree)
                  if kind == "warning" and path in touched)


def _arch_of(path):
    m = re.match(r"^arch/([^/]+)/", path)
    return m.group(1) if m else None


def _applies(target, path):
    """A file under arch/X/ only compiles for X."""
    return _arch_of(path) in (None, _srcarch(target))


_SEGMENT = re.compile(r"^\s+(?:CC(?: \[M\])?|CHECK)\s+(\S+)$")


def segments(text, obj=None, tree=None):
    """{source path: its output} of a batch compile log: under make -O each
    compile or sparse check prints its quiet line ('  CC      mm/x.o',
    '  CHECK   ../tree/mm/x.c') and then its own warnings."""
    out, cur = {}, None
    for line in text.splitlines():
        m = _SEGMENT.match(line)
        if m:
            path = m.group(1)
            if path.endswith(".o"):
                path = path[:-2] + ".c"
            elif tree:
                full = os.path.normpath(os.path.join(obj or tree, path))
                if full.startswith(os.path.normpath(tree) + os.sep):
                    path = os.path.relpath(full, tree)
            cur = out.setdefault(path, [])
            continue
        if cur is not None:
            cur.append(line)
    return {k: "\n".join(v) for k, v in out.items()}


def _compile_batch(tree, obj, target, paths, log, sparse):
    """Compile (or, `sparse`, check) every file of `paths` in one make run;
    return {path: (state, output)}, state one of 'built', 'no-rule' (the
    configuration does not build its directory), 'not-built' (nor the file)
    and 'failed'."""
    objs = [p[:-2] + ".o" for p in paths]
    if not sparse:
        for o in objs:
            if os.path.exists(os.path.join(obj, o)):
                os.remove(os.path.join(obj, o))
    cmd = (["make", "-C", tree, "O=" + obj, "-j" + jobs(), "-k",
            "--output-sync=target"] + target.make_vars() +
           (["C=2"] if sparse else []) + objs)
    run_logged(cmd, log, "%s %d files%s" % (target.name, len(paths),
                                            " (sparse)" if sparse else ""),
               env=ccache_env())
    with open(log, errors="replace") as f:
        text = f.read()
    segs = segments(text, obj, tree)
    res = {}
    for p, o in zip(paths, objs):
        out = segs.get(p, "")
        if "No rule to make target '%s'" % o in text:
            state = "no-rule"
        elif sparse or os.path.exists(os.path.join(obj, o)):
            state = "built"
        elif re.search(r"\berror\b", out) or ("%s] Error" % o) in text:
            state = "failed"
        else:
            state = "not-built"
        res[p] = (state, out)
    return res


def _prepare(tree, obj, target, log, absent_ok=()):
    """base_config + fragments and `make prepare`, redone only when the
    target description or its fragments change.  Options of `absent_ok`
    (those the series adds) may be missing: for the base tree."""
    h = hashlib.sha256(repr(sorted(target.keys.items())).encode())
    for frag in target.fragment_list:
        with open(kconfig.fragment_path(frag), "rb") as f:
            h.update(f.read())
    marker = os.path.join(obj, ".prepared-" + h.hexdigest()[:16])
    if os.path.exists(marker):
        return
    kernel.configure(tree, obj, target, log, absent_ok)
    with open(os.path.join(obj, ".config")) as f:
        modules = "\nCONFIG_MODULES=y\n" in f.read()
    cmd = (["make", "-C", tree, "O=" + obj, "-j" + jobs()] +
           target.make_vars() + ["prepare"] +
           (["modules_prepare"] if modules else []))
    if run_logged(cmd, log, target.name + " prepare", env=ccache_env(),
                  append=True):
        raise HarnessError("%s: make prepare failed; log: %s\n%s" %
                           (target.name, log, tail(log)))
    open(marker, "w").close()


def compile_test(series_tree, base_tree, tally, sparse_targets=()):
    """Every touched .c compiles under allmodconfig, no new warnings.

    The series side compiles all files of a target in one make run; the
    base side only the files that warned there (a warning the base has too
    is not new), so a clean file costs one compile."""
    files = _touched_c_files(series_tree)
    if not files:
        tally.add("compile", "allmodconfig", "skip",
                  "the series touches no .c file")
        if sparse_targets:
            tally.add("sparse", "C=2", "skip",
                      "the series touches no .c file")
        return
    touched_arches = {_arch_of(f) for f in files} - {None}
    # Options the series adds may be missing in the base tree's config.
    added = kconfig.added_symbols(run(["git", "diff", "base", "HEAD", "--",
                                       "*Kconfig*"], cwd=series_tree))
    for t in (targets_mod.load(n) for n in targets_mod.names()):
        if t.get("role") != "compile":
            continue
        only = t.get("only_if_touched")
        if only and only not in touched_arches:
            continue
        mine = [f for f in files if _applies(t, f)]
        if not mine:
            continue
        objs = {w: os.path.join(build_dir(), "out", "allmod-" + w, t.name)
                for w in ("base", "series")}
        try:
            with TIMING.step("compile %s: prepare series" % t.name):
                _prepare(series_tree, objs["series"], t,
                         os.path.join(objs["series"], "prepare.log"))
        except HarnessError as e:
            tally.add("compile", "%s: configure and prepare" % t.name,
                      "fail", str(e))
            continue
        for sp in [False] + ([True] if t.name in sparse_targets else []):
            area = "sparse" if sp else "compile"
            t0 = time.time()
            log = os.path.join(objs["series"], "logs", "%s.log" % area)
            res = _compile_batch(series_tree, objs["series"], t, mine, log,
                                 sp)
            warned = {f: _norm_warnings(out, objs["series"], series_tree)
                      for f, (state, out) in res.items() if state == "built"}
            again = [f for f, w in warned.items()
                     if w and os.path.exists(os.path.join(base_tree, f))]
            base = {}
            if again:
                try:
                    _prepare(base_tree, objs["base"], t,
                             os.path.join(objs["base"], "prepare.log"),
                             added)
                    blog = os.path.join(objs["base"], "logs",
                                        "%s.log" % area)
                    base = {f: _norm_warnings(out, objs["base"], base_tree)
                            for f, (_, out) in _compile_batch(
                                base_tree, objs["base"], t, again, blog,
                                sp).items()}
                except HarnessError as e:
                    tally.add(area, "%s: base configure and prepare" %
                              t.name, "fail", str(e))
                    continue
            for f in mine:
                state, out = res[f]
                name = "%s [%s]" % (f, t.name)
                if state == "no-rule":
                    tally.add(area, name, "skip",
                              "not built by this configuration of %s" %
                              t.arch)
                elif state == "failed":
                    tally.add(area, name, "fail", "does not compile (log: "
                              "%s):\n" % log +
                              "\n".join(out.splitlines()[-8:]))
                elif state == "not-built":
                    tally.add(area, name, "skip",
                              "not built by allmodconfig on %s" % t.arch)
                else:
                    new = sorted(warned[f] - base.get(f, set()))
                    tally.add(area, name, "fail" if new else "pass",
                              "; ".join("%s: %s" % (w[0], w[2])
                                        for w in new[:3]))
            TIMING.add("compile %s: %d files%s" % (
                t.name, len(mine), " (sparse)" if sp else ""),
                time.time() - t0)


# --- no private kmap_atomic code left ------------------------------------

# The per-architecture kmap_atomic machinery of 5.10: its functions, its
# per-CPU index, its PTE pointer and kmap_types.h.  Once the series is
# applied no file may use them.  An architecture listed in
# LEFTOVER_EXCEPTIONS may keep them (the cover letter must say why);
# none does.
LEFTOVER_PATTERNS = (
    (r"kmap_atomic_high|kunmap_atomic_high", "private kmap_atomic code"),
    (r"kmap_atomic_idx", "per-CPU kmap_atomic index"),
    (r"\bkmap_pte\b", "private pointer to the kmap_atomic PTEs"),
    (r"KM_TYPE_NR|kmap_types\.h", "kmap_types.h"),
)
LEFTOVER_EXCEPTIONS = ()


def leftover_lines(grep_output, exceptions=LEFTOVER_EXCEPTIONS):
    """`git grep -n` lines (path:line:text) not under an excepted arch."""
    return [l for l in grep_output.splitlines()
            if l and _arch_of(l.split(":", 1)[0]) not in exceptions]


def leftovers(tree, tally):
    """grep the patched tree (not Documentation/) for the machinery."""
    for pat, what in LEFTOVER_PATTERNS:
        p = subprocess.run(["git", "grep", "-n", "-E", pat, "--", ".",
                            ":!Documentation"], cwd=tree,
                           capture_output=True, text=True)
        if p.returncode not in (0, 1):
            raise HarnessError("git grep failed in %s: %s" %
                               (tree, p.stderr.strip()))
        found = leftover_lines(p.stdout)
        tally.add("leftovers", "%s (%s)" % (what, pat),
                  "fail" if found else "pass",
                  "\n".join(found[:10]) if found else "")


# --- full cross builds (make cross) ---------------------------------------

def cross_targets():
    """Targets that `make check` only compile-tests (the touched files),
    and `make cross` builds in full: `cross = yes`."""
    return [t for t in (targets_mod.load(n) for n in targets_mod.names())
            if t.get("cross") == "yes"]


def cross(tree, s, tally):
    """A full kernel of every cross target at each patch that touches its
    architecture, and at the last patch."""
    revs = run(["git", "rev-list", "--reverse", "base..HEAD"],
               cwd=tree).split()
    if not revs:
        tally.add("cross", "series", "skip", "the series is empty")
        return
    try:
        for t in cross_targets():
            arch = _srcarch(t)
            todo = [(i, rev, p) for i, (rev, p) in
                    enumerate(zip(revs, s.patches), 1)
                    if any(_arch_of(f) == arch
                           for f in _changed_files(tree, rev))]
            if not todo or todo[-1][0] != len(revs):
                todo.append((len(revs), revs[-1], s.patches[-1]))
            obj = kernel.outdir(t, "cross")
            say("cross: %s at %d patch(es): %s" % (
                t.name, len(todo), ", ".join(str(i) for i, _, _ in todo)))
            for i, rev, p in todo:
                run(["git", "checkout", "-q", "--detach", rev], cwd=tree)
                log = os.path.join(obj, "patch-%04d.log" % i)
                name = "%s [%s]" % (p, t.name)
                try:
                    kernel.configure(tree, obj, t, log)
                except HarnessError as e:
                    tally.add("cross", name, "fail", str(e))
                    continue
                cmd = (["make", "-C", tree, "O=" + obj, "-j" + jobs()] +
                       t.make_vars() + ["vmlinux"])
                rc = run_logged(cmd, log, "%d/%d %s" % (i, len(revs),
                                                        t.name),
                                env=ccache_env(), append=True)
                tally.add("cross", name, "fail" if rc else "pass",
                          ("build failed, log: %s\n%s" % (log, tail(log, 10)))
                          if rc else "vmlinux")
    finally:
        run(["git", "checkout", "-q", "series"], cwd=tree)
