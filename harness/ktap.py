"""Read a guest console log: KTAP results, splats, panics, highmem, bench.

KTAP (and the TAP 14 that KUnit prints in 5.10) nests suites by
indentation: a suite opens with '# Subtest: NAME' and its plan '1..N',
its cases are 'ok'/'not ok' lines one level deeper, and it closes with an
'ok'/'not ok' line at its own level.  Kernel messages interleave freely;
anything that is not a KTAP line is ignored by the parser and looked at
only by the splat detector.

Lines '# bench: NAME key=value...' (measurements) and '# stats: NAME
key=value...' (what a torture counted) are collected for the report.

A warning that a test provokes on purpose is bracketed by the console lines
'# expected-splat-begin: REASON' and '# expected-splat-end'; splats between
the two are ignored here (the test itself checks that the warning fired).
Any other splat fails the run, whatever the KTAP lines say.
"""

import os
import re
import subprocess
import sys

_TS = re.compile(r"^\[\s*\d+\.\d+\]\s?")
_VERSION = re.compile(r"^(\s*)(?:K?TAP) version (\d+)\s*$")
_PLAN = re.compile(r"^(\s*)1\.\.(\d+)\s*$")
_SUBTEST = re.compile(r"^(\s*)# Subtest: (.+?)\s*$")
_RESULT = re.compile(r"^(\s*)(ok|not ok) (\d+)(?: -)?(?: (.*?))?"
                     r"(?:\s+#\s*(SKIP|skip|TODO|todo)\b(.*))?\s*$")
_SPLAT_BEGIN = re.compile(r"# expected-splat-begin: *(.*)$")
_SPLAT_END = re.compile(r"# expected-splat-end\b")
_HIGHMEM = re.compile(r"Memory: \d+K/\d+K available.*?(\d+)K highmem\)")
_BENCH = re.compile(r"^\s*# (bench|stats): (\S+)\s+(.*)$")

# Lines that mean something went wrong in the kernel.  Each is a
# (pattern, kind) pair; the first match on a line names the splat.
SPLATS = [
    (re.compile(r"Kernel panic - not syncing"), "panic"),
    (re.compile(r"-+\[ cut here \]-+"), "warning"),
    (re.compile(r"\bWARNING: .*(CPU: \d+ PID|at )"), "warning"),
    (re.compile(r"\bWARNING: (possible|inconsistent|suspicious|bad unlock|"
                r"held lock|lock held|nested lock|Nested lock|"
                r"possible recursive|possible circular)"), "lockdep"),
    (re.compile(r"\bBUG: (sleeping function called from invalid context|"
                r"scheduling while atomic|using smp_processor_id|"
                r"using __this_cpu)"), "atomic"),
    (re.compile(r"\bBUG: "), "bug"),
    (re.compile(r"\bkernel BUG at "), "bug"),
    (re.compile(r"Internal error: Oops|\bOops(: | -)"), "oops"),
    (re.compile(r"Unable to handle kernel"), "oops"),
    (re.compile(r"general protection fault"), "oops"),
    (re.compile(r"\bINFO: (task .* blocked for more than|"
                r"rcu_\w+ (self-)?detected stall|possible recursive)"),
     "hang"),
    (re.compile(r"rcu: INFO: rcu_\w+ (self-)?detected stall"), "hang"),
    (re.compile(r"\bUBSAN: "), "ubsan"),
    (re.compile(r"^\s*CPU: \d+ PID: \d+ Comm: "), "stack dump"),
]


class Suite:
    def __init__(self, name, depth, line):
        self.name = name
        self.depth = depth
        self.line = line
        self.plan = None
        self.cases = []       # (number, name, status) status: pass/fail/skip
        self.result = None    # pass/fail/skip, None until the suite ends
        self.children = []

    def counts(self):
        c = {"pass": 0, "fail": 0, "skip": 0}
        for _, _, st in self.cases:
            c[st] += 1
        return c


class Report:
    def __init__(self):
        self.version = None
        self.plan = None
        self.suites = []           # top-level suites, in order
        self.problems = []         # strings: each one fails the run
        self.splats = []           # (line number, kind, text)
        self.expected_splats = []  # (line number, reason, splat count)
        self.highmem_kb = None
        self.bench = []            # (name, {key: value}) from '# bench:'
        self.stats = []            # (name, {key: value}) from '# stats:'
        self.top_cases = []        # results at top level with no suite
        self.lines = 0

    def all_suites(self):
        out, todo = [], list(self.suites)
        while todo:
            s = todo.pop(0)
            out.append(s)
            todo[0:0] = s.children
        return out

    @property
    def ok(self):
        return not self.problems


def _status(word, directive):
    if directive and directive.lower() == "skip":
        return "skip"
    return "pass" if word == "ok" else "fail"


def _clean(line):
    return _TS.sub("", line.rstrip("\r\n").replace("\r", ""))


def parse(text, highmem_expected=False, end_marker=None):
    """Return a Report for a console log `text`."""
    rep = Report()
    stack = []                     # open suites, innermost last
    in_expected = None             # (line no, reason, splats seen)
    lines = text.splitlines()
    rep.lines = len(lines)
    for no, raw in enumerate(lines, 1):
        line = _clean(raw)
        m = _SPLAT_BEGIN.search(line)
        if m:
            if in_expected:
                rep.problems.append("line %d: expected-splat-begin inside "
                                    "another (opened at line %d)" %
                                    (no, in_expected[0]))
            in_expected = [no, m.group(1).strip(), 0]
            continue
        if _SPLAT_END.search(line):
            if not in_expected:
                rep.problems.append("line %d: expected-splat-end without "
                                    "a begin" % no)
            else:
                rep.expected_splats.append(tuple(in_expected))
                in_expected = None
            continue
        for pat, kind in SPLATS:
            if pat.search(line):
                if in_expected:
                    in_expected[2] += 1
                else:
                    rep.splats.append((no, kind, line.strip()))
                break
        m = _HIGHMEM.search(line)
        if m:
            rep.highmem_kb = int(m.group(1))
        m = _BENCH.match(line)
        if m:
            fields = dict(kv.split("=", 1) for kv in m.group(3).split()
                          if "=" in kv)
            (rep.bench if m.group(1) == "bench" else rep.stats).append(
                (m.group(2), fields))
            continue
        m = _VERSION.match(line)
        if m:
            if not stack and rep.version is None:
                rep.version = int(m.group(2))
            continue
        m = _SUBTEST.match(line)
        if m:
            depth = len(m.group(1))
            while stack and stack[-1].depth >= depth:
                s = stack.pop()
                rep.problems.append("suite '%s' (line %d) never ended" %
                                    (s.name, s.line))
            s = Suite(m.group(2), depth, no)
            (stack[-1].children if stack else rep.suites).append(s)
            stack.append(s)
            continue
        m = _PLAN.match(line)
        if m:
            depth, n = len(m.group(1)), int(m.group(2))
            if stack and stack[-1].depth == depth and stack[-1].plan is None:
                stack[-1].plan = n
            elif not stack and rep.plan is None:
                rep.plan = n
            continue
        m = _RESULT.match(line)
        if m:
            depth = len(m.group(1))
            case = (int(m.group(3)), (m.group(4) or "").strip(),
                    _status(m.group(2), m.group(5)))
            if stack and depth < stack[-1].depth:
                # Closes the innermost suite; anything open deeper than
                # its parent level never ended.
                s = stack.pop()
                s.result = case[2]
                if case[1] != s.name:
                    rep.problems.append("line %d: suite '%s' closed by a "
                                        "result named '%s'" %
                                        (no, s.name, case[1]))
                while stack and stack[-1].depth > depth:
                    t = stack.pop()
                    rep.problems.append("suite '%s' (line %d) never ended"
                                        % (t.name, t.line))
                if stack and stack[-1].depth == depth:
                    stack[-1].cases.append(case)
            elif stack and depth == stack[-1].depth:
                stack[-1].cases.append(case)
            elif not stack and depth == 0:
                rep.top_cases.append(case)
            continue
    if in_expected:
        rep.problems.append("line %d: expected-splat-begin (%s) never ended" %
                            (in_expected[0], in_expected[1]))
    for s in stack:
        rep.problems.append("suite '%s' (line %d) started and never ended" %
                            (s.name, s.line))
    _judge(rep, highmem_expected, end_marker, text)
    return rep


def _judge(rep, highmem_expected, end_marker, text):
    if rep.version is None:
        rep.problems.append("no KTAP/TAP header: no test ran")
    if rep.plan is None:
        rep.problems.append("no top-level test plan (1..N)")
    elif rep.plan != len(rep.suites):
        rep.problems.append("plan says %d suites, the log has %d" %
                            (rep.plan, len(rep.suites)))
    for s in rep.all_suites():
        if s.plan is None:
            rep.problems.append("suite '%s' has no plan" % s.name)
        elif s.result is not None and s.plan != len(s.cases):
            rep.problems.append("suite '%s' planned %d cases, ran %d" %
                                (s.name, s.plan, len(s.cases)))
        for num, name, st in s.cases:
            if st == "fail":
                rep.problems.append("%s: case %d %s failed" %
                                    (s.name, num, name))
        if s.result == "fail" and not any(c[2] == "fail" for c in s.cases):
            rep.problems.append("suite '%s' reported not ok" % s.name)
    for no, kind, line in rep.splats[:5]:
        rep.problems.append("line %d: %s: %s" % (no, kind, line))
    if len(rep.splats) > 5:
        rep.problems.append("... and %d more splat lines" %
                            (len(rep.splats) - 5))
    for no, reason, n in rep.expected_splats:
        if n == 0:
            rep.problems.append("line %d: expected splat (%s) did not "
                                "happen" % (no, reason))
    if highmem_expected and not rep.highmem_kb:
        rep.problems.append("no highmem: the boot log shows %s" %
                            ("0K highmem" if rep.highmem_kb == 0 else
                             "no 'Memory: ... highmem' line"))
    if end_marker and end_marker not in text:
        rep.problems.append("the guest never reached '%s' (hang, crash or "
                            "timeout before the end of the run)" % end_marker)


# The base tree's own KTAP reader, tools/testing/kunit/kunit.py parse, must
# read the same log: that is what other people's CI runs on it.  It exits 0
# as soon as the results it did read passed, even when it gave up on the
# rest of the log, so its verdict is its summary line against our count.
KUNIT_TOOL = os.path.join("tools", "testing", "kunit", "kunit.py")
_TOOL_SUMMARY = re.compile(r"Testing complete\. (\d+) tests run\. (\d+) failed\."
                           r" (\d+) crashed\.")
_TOOL_ERROR = re.compile(r"\[ERROR\]\s*(?:\x1b\[[0-9;]*m)?\s*(.*)$")
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def kunit_tool_verdict(output, rep):
    """Compare `kunit.py parse` output with our reading of the same log.
    Returns (problem or None, summary)."""
    output = _ANSI.sub("", output)
    errors = [m.group(1).strip() for m in map(_TOOL_ERROR.search,
                                              output.splitlines()) if m]
    m = None
    for m in _TOOL_SUMMARY.finditer(output):
        pass
    if not m:
        return ("kunit.py parse printed no summary%s" %
                (": " + errors[0] if errors else ""), "")
    run, failed, crashed = (int(x) for x in m.groups())
    cases = sum(len(s.cases) for s in rep.all_suites())
    summary = "%d tests run, %d failed, %d crashed" % (run, failed, crashed)
    if errors:
        return ("kunit.py parse: %s (%s; we read %d cases)" %
                (errors[0], summary, cases), summary)
    if run != cases:
        return ("kunit.py parse read %d cases, we read %d" % (run, cases),
                summary)
    ours = sum(s.counts()["fail"] for s in rep.all_suites())
    if failed + crashed != ours:
        return ("kunit.py parse: %d failed + %d crashed, we read %d failed" %
                (failed, crashed, ours), summary)
    return None, summary


def kunit_tool_check(tree, log, rep):
    """Run the tree's kunit.py parse on a console log; (problem, summary)."""
    tool = os.path.join(tree, KUNIT_TOOL)
    if not os.path.isfile(tool):
        return "no %s in %s" % (KUNIT_TOOL, tree), ""
    with open(log, "rb") as f:
        data = f.read().decode("utf-8", "replace")
    p = subprocess.run([sys.executable, tool, "parse"], input=data,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       universal_newlines=True, cwd=os.path.dirname(tool))
    return kunit_tool_verdict(p.stdout, rep)
