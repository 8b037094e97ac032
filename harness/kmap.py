#!/usr/bin/env python3
"""kmap-local workbench: base, series, builds, boots and checks.

Usage: kmap.py COMMAND [ARGS]   (the Makefile wraps these)
  deps                 install missing Debian packages
  base                 fetch and verify the base tarball, make the base repo
  tree                 developer tree build/tree: base + patches/series
  export               write build/tree's commits back to patches/
  build TARGET...      configure and build targets from patches/
  boot TARGET...       build and boot targets, print their results
  run                  the main job: i386-highmem built, booted, reported,
                       and its context switches timed against the base's
  check                host tests, series checks and the whole matrix
  host-test            the harness's own tests only
  bisect-full          build every patch as a full kernel
  judge LOG [TARGET]   read a saved console log as the matrix would
"""

import os
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import base  # noqa: E402
import bench  # noqa: E402
import checks  # noqa: E402
import kconfig  # noqa: E402
import kernel  # noqa: E402
import ktap  # noqa: E402
import series  # noqa: E402
import targets  # noqa: E402
import zerocost  # noqa: E402
from common import (HarnessError, REPO, TIMING, Tally, build_dir, run,  # noqa
                    say)

MAIN_TARGET = "i386-highmem"


# --- set-up -----------------------------------------------------------------

def _qemu_package(binary):
    return {"qemu-system-i386": "qemu-system-x86",
            "qemu-system-x86_64": "qemu-system-x86",
            "qemu-system-arm": "qemu-system-arm",
            "qemu-system-aarch64": "qemu-system-arm",
            "qemu-system-mips": "qemu-system-mips",
            "qemu-system-ppc": "qemu-system-ppc",
            "qemu-system-sparc": "qemu-system-sparc"}.get(binary)


def needed_packages():
    pkgs = base.project()["deps"]["packages"].split()
    for n in targets.names():
        t = targets.load(n)
        if t.get("cross_compile"):
            pkgs.append("gcc-" + t.cross_compile.rstrip("-"))
        if t.boots:
            q = _qemu_package(t.qemu.split()[0])
            if q:
                pkgs.append(q)
    return sorted(set(pkgs))


def _installed(pkg):
    r = subprocess.run(["dpkg-query", "-W", "-f=${db:Status-Abbrev}", pkg],
                       stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    return r.stdout.decode().startswith("ii")


def deps():
    missing = [p for p in needed_packages() if not _installed(p)]
    if not missing:
        say("deps: all %d Debian packages present" % len(needed_packages()))
        return
    cmd = ["apt-get", "install", "-y", "--no-install-recommends"] + missing
    if os.geteuid() != 0:
        raise HarnessError("missing Debian packages: %s\nInstall them as "
                           "root:  apt-get update && %s" %
                           (" ".join(missing), " ".join(cmd)))
    from common import run_logged
    log = os.path.join(build_dir(), "logs", "apt.log")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    say("deps: installing %s (log: %s)" % (" ".join(missing), log))
    if run_logged(["apt-get", "update"], log, "apt-get update", env=env):
        say("deps: apt-get update reported errors (see %s); trying on" % log)
    if run_logged(cmd, log, "apt-get install", env=env, append=True):
        raise HarnessError("apt-get install failed; log: %s\n%s" %
                           (log, "".join(open(log).readlines()[-10:])))
    still = [p for p in missing if not _installed(p)]
    if still:
        raise HarnessError("packages still missing after install: %s" %
                           " ".join(still))


# --- trees --------------------------------------------------------------

def dev_tree():
    return os.path.join(build_dir(), "tree")


def base_line():
    cp = base.project()["base"]
    table = base.accepted_checksums()
    digest = next(iter(table))
    return ("base: Linux %s, Debian %s orig tarball %s (sha256 %s)" %
            (cp["version"], cp["source_version"], cp["tarball"], digest))


def generated_tree(name):
    """A fresh tree of base + patches/series under build/trees/NAME."""
    dest = os.path.join(build_dir(), "trees", name)
    say("tree: %s = base + patches/series" % dest)
    base.clone_base(dest)
    s = series.apply(dest)
    say("tree: %d patches applied" % len(s.patches))
    return dest, s


def cmd_tree():
    dest = dev_tree()
    if os.path.exists(dest) and not os.environ.get("FORCE"):
        work = series.unexported_work(dest)
        if work:
            raise HarnessError(
                "%s holds work that patches/ does not (%s).\nRun 'make "
                "export' first, or 'make tree FORCE=1' to throw it away."
                % (dest, work.splitlines()[0]))
    base.clone_base(dest)
    s = series.apply(dest)
    say("tree: %s ready, %d patches as commits on 'base'" %
        (dest, len(s.patches)))


def cmd_export():
    tree = dev_tree()
    if not os.path.isdir(os.path.join(tree, ".git")):
        raise HarnessError("no developer tree at %s: run 'make tree'" % tree)
    dirty = run(["git", "status", "--porcelain", "--untracked-files=no"],
                cwd=tree).strip()
    if dirty:
        raise HarnessError("%s has uncommitted changes; commit them first:\n"
                           "%s" % (tree, dirty))
    names = series.export(tree, base_line=base_line())
    say("export: %d patches written to patches/, series rewritten" %
        len(names))


# --- reports ------------------------------------------------------------

def print_report(target, rep, log, bench=True):
    """The target's results; `bench=False` leaves the '# bench:' lines to
    a table printed after it (make run)."""
    say("")
    say("== %s: %s" % (target.name, target.description))
    if rep.highmem_kb is not None:
        say("   highmem: %d MiB" % (rep.highmem_kb // 1024))
    say("   %-34s %7s %7s %7s" % ("suite", "passed", "failed", "skipped"))
    for s in rep.all_suites():
        c = s.counts()
        state = {"pass": "", "fail": "  NOT OK", "skip": "  SKIP",
                 None: "  NEVER ENDED"}[s.result]
        say("   %-34s %7d %7d %7d%s" % (s.name[:34], c["pass"], c["fail"],
                                       c["skip"], state))
    if rep.expected_splats:
        say("   expected splats seen: %d (%s)" % (
            len(rep.expected_splats),
            ", ".join(r for _, r, _ in rep.expected_splats[:4])))
    print_bench(rep, bench)
    if rep.problems:
        say("   PROBLEMS:")
        for p in rep.problems:
            say("     - " + p)
    say("   console log: %s" % log)


def print_bench(rep, bench=True):
    for name, fields in rep.stats:
        say("   %s: %s" % (name, "  ".join("%s=%s" % kv for kv in
                                          sorted(fields.items()))))
    if not bench:
        return
    if not rep.bench:
        say("   benchmark: this kernel prints no '# bench:' lines")
        return
    say("   benchmark (ratios measured in this one boot):")
    for name, fields in rep.bench:
        say("     %-28s %s" % (name, "  ".join(
            "%s=%s" % kv for kv in sorted(fields.items()))))


# --- commands -------------------------------------------------------------

def _which_tree():
    """TREE=path builds from a developer tree instead of patches/."""
    t = os.environ.get("TREE")
    if t:
        return os.path.abspath(t), "dev"
    return generated_tree("series")[0], "series"


def cmd_build(names):
    tree, kind = _which_tree()
    for n in names:
        kernel.build(tree, targets.load(n), kind)


def cmd_boot(names):
    tree, kind = _which_tree()
    ok = True
    for n in names:
        t = targets.load(n)
        obj = kernel.build(tree, t, kind)
        rep, log, _ = kernel.boot(t, obj)
        print_report(t, rep, log)
        ok &= rep.ok
    return 0 if ok else 1


def base_boot(tree, target):
    """Build and boot the base kernel for `target` with the ping-pong on;
    return its ktap.Report."""
    base_tree = os.path.join(build_dir(), "trees", "base")
    say("")
    say("run: the base kernel, for the context-switch comparison")
    base.reuse_or_clone_base(base_tree)
    # The shared fragments may ask for options only the series defines
    # (its KUnit suites, its debug options); the base build may lack
    # exactly those, nothing else.
    new = kconfig.added_symbols(run(["git", "diff", "base", "HEAD", "--",
                                     "*Kconfig*"], cwd=tree))
    if new:
        say("run: options the series adds, allowed to be absent in the base:"
            " %s" % " ".join(sorted(new)))
    obj = kernel.build(base_tree, target, "base", absent_ok=new)
    rep, log, _ = kernel.boot(target, obj, extra_append=bench.append_arg())
    say("[%s] base boot: %s (console: %s)" % (
        target.name, "clean" if rep.ok else "PROBLEMS", log))
    for p in rep.problems:
        say("     - " + p)
    return rep, obj


def icount_compare(target, obj, base_obj):
    """Boot both kernels with instruction counting, at the target's memory
    and without highmem (bench.py); return the table lines and whether
    every comparison was made.  Only the ping-pong lines of these boots,
    and the single-CPU map+unmap line of the patched one with highmem, are
    read: their KUnit results on one CPU are not judged (the main boots
    above are)."""
    say("")
    say("run: both kernels again, instruction-counted (1 CPU, -icount), "
        "for the context-switch comparison; their KUnit results are not "
        "judged")
    runs = []
    try:
        for mem, label in ((None, "%s MiB, pipe pages in highmem" %
                            bench.target_mem(target.qemu)),
                           (bench.ICOUNT_LOWMEM_MB, "%d MiB, no highmem" %
                            bench.ICOUNT_LOWMEM_MB)):
            got = []
            for o in (obj, base_obj):
                rep, _, _ = kernel.boot(
                    target, o, label="icount-%s" % (mem or "target"),
                    extra_append=bench.append_arg() + " " +
                    bench.ICOUNT_APPEND,
                    qemu=bench.icount_qemu(target.qemu, mem))
                got.append(rep.bench)
            runs.append((label, got[0], got[1]))
        return (bench.icount_lines(runs) +
                [bench.icount_map_line(runs[0][1])]), True
    except HarnessError as e:
        return ["  context switch, instruction-counted: NOT MEASURED: %s" %
                e], False


def cmd_run():
    t0 = time.time()
    deps()
    t = targets.load(MAIN_TARGET)
    tree, kind = _which_tree()
    obj = kernel.build(tree, t, kind)
    rep, log, _ = kernel.boot(t, obj, extra_append=bench.append_arg())
    print_report(t, rep, log, bench=False)
    base_obj = None
    try:
        brep, base_obj = base_boot(tree, t)
        base_ok, base_bench = brep.ok, brep.bench
    except HarnessError as e:
        say("run: base kernel: %s" % e)
        base_ok, base_bench = False, []
    lines, compared = bench.table(t.name, rep.bench, base_bench)
    if base_obj:
        more, counted = icount_compare(t, obj, base_obj)
    else:
        more, counted = ["  context switch, instruction-counted: NOT "
                         "MEASURED: no base kernel"], False
    say("")
    for line in lines + more:
        say(line)
    ok = rep.ok and base_ok and compared and counted
    say("")
    say("run: %s in %ds -- %s" % (MAIN_TARGET, time.time() - t0,
                                  "OK" if ok else "FAILED"))
    return 0 if ok else 1


class _Collect(unittest.TextTestResult):
    def __init__(self, *a, **k):
        super().__init__(*a, **k)
        self.passed = []

    def addSuccess(self, test):
        super().addSuccess(test)
        self.passed.append(test)


def host_tests(tally):
    tests = os.path.join(REPO, "tests")
    suite = unittest.defaultTestLoader.discover(tests, top_level_dir=tests)
    log = os.path.join(build_dir(), "logs", "host-tests.log")
    os.makedirs(os.path.dirname(log), exist_ok=True)
    with open(log, "w") as f:
        res = unittest.TextTestRunner(stream=f, verbosity=2,
                                      resultclass=_Collect).run(suite)
    for t in res.passed:
        tally.add("host", t.id(), "pass")
    for t, tb in res.failures + res.errors:
        tally.add("host", t.id(), "fail", tb.strip().splitlines()[-1])
    for t, why in res.skipped:
        tally.add("host", t.id(), "skip", why)
    if res.testsRun == 0:
        tally.add("host", "discovery", "fail", "no host test found in tests/")
    say("host tests: log %s" % log)


def matrix(tree, tally):
    touched = checks.touched_files(tree)
    for t in targets.matrix():
        if t.get("role") == "compile":
            continue
        try:
            with TIMING.step("matrix build %s" % t.name):
                obj = kernel.build(tree, t)
        except HarnessError as e:
            tally.add("build", t.name, "fail", str(e))
            continue
        with open(os.path.join(obj, "build.log"), errors="replace") as f:
            warned = checks.series_file_warnings(f.read(), obj, tree,
                                                 touched)
        tally.add("build", t.name, "fail" if warned else "pass",
                  "new warnings: " + "; ".join(warned) if warned else "")
        if not t.boots:
            continue
        try:
            with TIMING.step("matrix boot %s" % t.name):
                rep, log, secs = kernel.boot(t, obj)
        except HarnessError as e:
            tally.add("boot", t.name, "fail", str(e))
            continue
        print_report(t, rep, log)
        for s in rep.all_suites():
            c = s.counts()
            st = ("pass" if s.result == "pass" and not c["fail"] else
                  "skip" if s.result == "skip" else "fail")
            tally.add("kunit", "%s: %s" % (t.name, s.name), st,
                      "%d passed, %d failed, %d skipped" %
                      (c["pass"], c["fail"], c["skip"]))
        problem, summary = ktap.kunit_tool_check(tree, log, rep)
        tally.add("kunit.py", "parse %s" % t.name,
                  "fail" if problem else "pass", problem or summary)
        tally.add("boot", t.name, "fail" if rep.problems else "pass",
                  "; ".join(rep.problems[:4]) if rep.problems else
                  "%ds, clean log%s" % (secs, ", %d MiB highmem" %
                                        (rep.highmem_kb // 1024)
                                        if rep.highmem_kb else ""))


def cmd_check(only=None):
    t0 = time.time()
    tally = Tally()
    parts = only.split(",") if only else ["host", "series", "matrix"]
    if "host" in parts:
        say("== host tests")
        with TIMING.step("host tests"):
            host_tests(tally)
    if "series" in parts or "matrix" in parts:
        try:
            with TIMING.step("set-up: packages"):
                deps()
            with TIMING.step("set-up: base and series tree"):
                tree, s = generated_tree("series")
        except HarnessError as e:
            tally.add("setup", "packages, base and series tree", "fail",
                      str(e))
            parts = []
    if "series" in parts:
        say("== series checks")
        work = series.unexported_work(tree)
        tally.add("series", "apply + export reproduces patches/",
                  "fail" if work else "pass", work)
        with TIMING.step("series: checkpatch"):
            checks.checkpatch(tree, s, tally)
        with TIMING.step("series: leftovers"):
            checks.leftovers(tree, tally)
        with TIMING.step("series: bisect build"):
            checks.bisect(tree, s, tally, os.environ.get("BISECT") or "auto")
        # The bisect build left a configured x86_64 directory of this tree.
        with TIMING.step("series: zero cost on x86_64"):
            zerocost.check(tree, tally, kernel.outdir(
                targets.load(zerocost.TARGET), "series"))
        base_tree = None
        if s.patches:
            with TIMING.step("set-up: base tree"):
                base_tree = os.path.join(build_dir(), "trees", "base")
                base.clone_base(base_tree)
        checks.compile_test(tree, base_tree, tally,
                            sparse_targets=("allmod-x86_64", "allmod-i386"))
    if "matrix" in parts:
        say("== matrix")
        matrix(tree, tally)
    say("")
    fails = tally.failures()
    if fails:
        say("FAILED:")
        for area, name, _, detail in fails:
            say("  %s: %s -- %s" % (area, name,
                                    detail.splitlines()[0] if detail else ""))
    summary = os.path.join(build_dir(), "logs", "check-summary.txt")
    os.makedirs(os.path.dirname(summary), exist_ok=True)
    with open(summary, "w") as f:
        for r in tally.rows:
            f.write("%s\t%s\t%s\t%s\n" % r)
    timing = os.path.join(build_dir(), "logs", "timing.txt")
    lines = TIMING.lines(time.time() - t0)
    with open(timing, "w") as f:
        f.write("\n".join(lines) + "\n")
    say("")
    say("time per step (kept in %s):" % timing)
    for line in lines:
        say("  " + line)
    say("check: %ds; per-item results in %s" % (time.time() - t0, summary))
    say("%d passed, %d failed, %d skipped" % (
        tally.count("pass"), tally.count("fail"), tally.count("skip")))
    return 1 if fails else 0


def series_pass(check):
    """Run one series check (make cross, make bisect-full) on a fresh
    series tree; print its failures and counts."""
    tally = Tally()
    tree, s = generated_tree("series")
    check(tree, s, tally)
    for area, name, _, detail in tally.failures():
        say("FAILED: %s -- %s" % (name, detail.splitlines()[0]))
    say("%d passed, %d failed, %d skipped" % (
        tally.count("pass"), tally.count("fail"), tally.count("skip")))
    return 1 if tally.failures() else 0


def main(argv):
    if not argv:
        print(__doc__)
        return 2
    cmd, args = argv[0], argv[1:]
    try:
        if cmd == "deps":
            deps()
        elif cmd == "base":
            say("base: repository %s" % base.base_repo())
        elif cmd == "tree":
            cmd_tree()
        elif cmd == "export":
            cmd_export()
        elif cmd == "build":
            cmd_build(args or [MAIN_TARGET])
        elif cmd == "boot":
            return cmd_boot(args or [MAIN_TARGET])
        elif cmd == "run":
            return cmd_run()
        elif cmd == "check":
            return cmd_check(os.environ.get("ONLY"))
        elif cmd == "host-test":
            return cmd_check("host")
        elif cmd == "judge":
            if not args:
                raise HarnessError("usage: judge LOG [TARGET]")
            t = targets.load(args[1] if len(args) > 1 else MAIN_TARGET)
            rep = kernel.read_log(t, args[0])
            print_report(t, rep, args[0])
            return 0 if rep.ok else 1
        elif cmd == "cross":
            deps()
            return series_pass(checks.cross)
        elif cmd == "bisect-full":
            return series_pass(lambda tree, s, tally:
                               checks.bisect(tree, s, tally, "full"))
        else:
            print(__doc__)
            return 2
    except HarnessError as e:
        say("\nERROR: %s" % e)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
