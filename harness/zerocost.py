"""Zero-cost proof on 64-bit: kmap_local_page() compiles to page_address().

design.md section 2: without HIGHMEM, kmap_local_page(p) is page_address(p)
and kunmap_local() is empty, "zero instructions beyond page_address()".
Three one-function objects are compiled with the kernel's own kbuild (an
external-module build against a configured x86_64 build directory): the
same copy out of a page through kmap_local_page()/kunmap_local(), through
page_address(), and through kmap_atomic()/kunmap_atomic().  Their
disassemblies, with addresses and function names taken out, must be
identical for the first two.  The third pair must differ (kmap_atomic()
counts preemption and page faults off and on): that is the self-check
showing the comparison can see a difference at all.
"""

import difflib
import os
import re
import shutil

import kernel
import targets as targets_mod
from common import (HarnessError, build_dir, ccache_env, jobs, run,
                    run_logged, tail)

TARGET = "x86_64"
BODY = """\
#include <linux/highmem.h>
#include <linux/mm.h>
#include <linux/string.h>

void *%(name)s(struct page *p, char *dst)
{
	char *a = %(map)s;

	memcpy(dst, a, 64);
%(unmap)s	return dst;
}
"""
# function -> (how it maps, how it unmaps)
FUNCTIONS = {
    "zc_local": ("kmap_local_page(p)", "\tkunmap_local(a);\n"),
    "zc_direct": ("page_address(p)", ""),
    "zc_atomic": ("kmap_atomic(p)", "\tkunmap_atomic(a);\n"),
}
SAME = ("zc_local", "zc_direct")       # must be identical
DIFFERENT = ("zc_atomic", "zc_direct")  # must differ (self-check)

_API = re.compile(r"\bvoid\s*\*\s*kmap_local_page\s*\(")
_FUNC = re.compile(r"^[0-9a-f]+ <([^>]+)>:$")
_INSN = re.compile(r"^\s*[0-9a-f]+:\t(.*)$")
_RELOC = re.compile(r"^\s*[0-9a-f]+: (R_\S+)\s+(.*)$")
_TARGET = re.compile(r"\b[0-9a-f]+ <[^>+]+(\+0x[0-9a-f]+)?>")


def has_api(tree):
    """True when the tree's highmem headers declare kmap_local_page()."""
    inc = os.path.join(tree, "include", "linux")
    for name in sorted(os.listdir(inc)):
        if name.startswith("highmem") and name.endswith(".h"):
            with open(os.path.join(inc, name), errors="replace") as f:
                if _API.search(f.read()):
                    return True
    return False


def functions(objdump_text):
    """{function: [instructions]} from `objdump -dr --no-show-raw-insn`,
    normalised: no addresses, branch targets as offsets in the function,
    relocations kept (symbol and addend) without their address."""
    out, cur = {}, None
    for line in objdump_text.splitlines():
        m = _FUNC.match(line)
        if m:
            cur = out.setdefault(m.group(1), [])
            continue
        if cur is None:
            continue
        m = _RELOC.match(line)
        if m:
            cur.append("reloc %s %s" % (m.group(1), m.group(2).strip()))
            continue
        m = _INSN.match(line)
        if m:
            insn = _TARGET.sub(lambda t: "<%s>" % (t.group(1) or "+0x0"),
                               m.group(1))
            cur.append(re.sub(r"\s+", " ", insn).strip())
    return out


def compare(funcs, a, b, context=2):
    """'' when functions a and b are identical, else a short diff."""
    for name in (a, b):
        if not funcs.get(name):
            raise HarnessError("no disassembly of %s" % name)
    if funcs[a] == funcs[b]:
        return ""
    return "\n".join(difflib.unified_diff(funcs[b], funcs[a], b, a,
                                         n=context, lineterm=""))


def check(tree, tally, obj):
    """Tally one result; `obj` is a configured x86_64 build directory of
    `tree` (the bisect build's), configured here when it is not."""
    name = "kmap_local_page() == page_address() on %s" % TARGET
    if not has_api(tree):
        tally.add("zero-cost", name, "skip", "include/linux/highmem*.h of "
                  "the series tree does not declare kmap_local_page()")
        return
    t = targets_mod.load(TARGET)
    work = os.path.join(build_dir(), "out", "zerocost", TARGET)
    log = os.path.join(work, "build.log")
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    try:
        if not os.path.exists(os.path.join(obj, ".config")):
            kernel.configure(tree, obj, t, log)
        objs = [fn + ".o" for fn in FUNCTIONS]
        for fn, (mapping, unmap) in FUNCTIONS.items():
            with open(os.path.join(work, fn + ".c"), "w") as f:
                f.write(BODY % {"name": fn, "map": mapping, "unmap": unmap})
        with open(os.path.join(work, "Kbuild"), "w") as f:
            f.write("obj-m := %s\n" % " ".join(objs))
        make = ["make", "-C", tree, "O=" + obj, "-j" + jobs()] + t.make_vars()
        # `prepare` is a no-op in a built directory; kbuild then compiles
        # only the three objects, with the kernel's flags for x86_64.
        rc = run_logged(make + ["prepare"], log, "zero-cost prepare",
                        env=ccache_env(), append=True)
        if rc == 0:
            rc = run_logged(make + ["M=" + work] + objs, log,
                            "zero-cost compile", env=ccache_env(),
                            append=True)
        if rc:
            raise HarnessError("compiling %s failed; log: %s\n%s" %
                               (", ".join(objs), log, tail(log, 8)))
        text = "".join(run(["objdump", "-dr", "--no-show-raw-insn",
                            os.path.join(work, o)], env=ccache_env())
                       for o in objs)
        with open(os.path.join(work, "objdump.txt"), "w") as f:
            f.write(text)
        funcs = functions(text)
        diff = compare(funcs, *SAME)
        blind = not compare(funcs, *DIFFERENT)
    except HarnessError as e:
        tally.add("zero-cost", name, "fail", str(e))
        return
    if blind:
        tally.add("zero-cost", name, "fail", "self-check: %s and %s compare "
                  "identical, so the comparison sees nothing (%s)" %
                  (DIFFERENT + (os.path.join(work, "objdump.txt"),)))
    elif diff:
        lines = diff.splitlines()
        if len(lines) > 30:
            lines = lines[:30] + ["... %d more lines" % (len(lines) - 30)]
        tally.add("zero-cost", name, "fail", "the instructions differ "
                  "(%s):\n%s" % (os.path.join(work, "objdump.txt"),
                                 "\n".join(lines)))
    else:
        n = sum(1 for i in funcs[SAME[0]] if not i.startswith("reloc "))
        tally.add("zero-cost", name, "pass", "%d identical instructions; "
                  "kmap_atomic() differs, as it must" % n)
