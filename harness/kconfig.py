"""Kconfig fragments: what a target asks for, and what Kconfig kept."""

import os
import re

from common import HarnessError, REPO

CONFIGS = os.path.join(REPO, "configs")
_SET = re.compile(r"^(CONFIG_\w+)=(.*)$")
_UNSET = re.compile(r"^# (CONFIG_\w+) is not set$")
_DIFF_SYM = re.compile(r"^([+-])\s*(?:menu)?config\s+(\w+)\s*$")


def parse(text):
    """{CONFIG_X: value} of a .config or fragment; 'n' for 'is not set'."""
    out = {}
    for line in text.splitlines():
        line = line.strip()
        m = _SET.match(line)
        if m:
            out[m.group(1)] = m.group(2)
            continue
        m = _UNSET.match(line)
        if m:
            out[m.group(1)] = "n"
    return out


def fragment_path(name):
    path = os.path.join(CONFIGS, name + ".config")
    if not os.path.isfile(path):
        raise HarnessError("Kconfig fragment configs/%s.config does not exist"
                           % name)
    return path


def requested(fragments):
    """Merge fragments in order; later ones win.  {sym: (value, fragment)}"""
    want = {}
    for name in fragments:
        with open(fragment_path(name)) as f:
            for sym, val in parse(f.read()).items():
                want[sym] = (val, name)
    return want


def dropped(want, actual, absent_ok=()):
    """[(sym, wanted, got, fragment)] for options Kconfig did not keep.
    A symbol of `absent_ok` may be missing from `actual` altogether."""
    out = []
    for sym, (val, frag) in sorted(want.items()):
        got = actual.get(sym, "n")
        if sym in absent_ok and sym not in actual:
            continue
        if got != val:
            out.append((sym, val, got if sym in actual else "absent", frag))
    return out


def added_symbols(kconfig_diff):
    """CONFIG_ symbols a diff of Kconfig files defines that its old side
    did not (a symbol moved from one file to another is not new)."""
    plus, minus = set(), set()
    for line in kconfig_diff.splitlines():
        m = _DIFF_SYM.match(line)
        if m:
            (plus if m.group(1) == "+" else minus).add("CONFIG_" +
                                                        m.group(2))
    return plus - minus


def depends_hint(tree, sym):
    """The 'depends on' lines of `sym` in the tree's Kconfig files."""
    name = sym[len("CONFIG_"):]
    start = re.compile(r"^\s*(menu)?config\s+%s\s*$" % re.escape(name))
    hints = []
    for root, dirs, files in os.walk(tree):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        for fn in files:
            if not fn.startswith("Kconfig"):
                continue
            path = os.path.join(root, fn)
            with open(path, errors="replace") as f:
                lines = f.readlines()
            for i, line in enumerate(lines):
                if not start.match(line):
                    continue
                for nxt in lines[i + 1:i + 30]:
                    if re.match(r"^\s*(menu)?config\s|^\s*(endmenu|endif|"
                                r"menu|choice|endchoice)\b", nxt):
                        break
                    if re.match(r"^\s*depends on\b", nxt):
                        hints.append(nxt.strip())
                hints.append("(%s)" % os.path.relpath(path, tree))
    return " ".join(hints)


def check(tree, config_path, fragments, absent_ok=()):
    """Raise naming every requested option that Kconfig dropped.

    `absent_ok`: symbols that may be missing from the tree altogether.
    Only the base build of `make run` passes any: the options the series
    adds (added_symbols() of its Kconfig diff), which the shared
    fragments ask for and the base cannot have."""
    with open(config_path) as f:
        actual = parse(f.read())
    bad = dropped(requested(fragments), actual, absent_ok)
    if not bad:
        return
    rows = []
    for sym, want, got, frag in bad:
        hint = depends_hint(tree, sym)
        rows.append("  %s=%s (configs/%s.config) became %s%s" % (
            sym, want, frag, got if got != "n" else "'not set'",
            ("; " + hint) if hint else "; no such symbol in this tree"))
    raise HarnessError(
        "Kconfig dropped %d requested option(s) from %s:\n%s\nFix the "
        "fragment (add the missing dependency, or drop the option)." %
        (len(bad), config_path, "\n".join(rows)))
