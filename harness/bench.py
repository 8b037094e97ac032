"""The `make run` benchmark table and the comparison with the base kernel.

The guest's /init measures context switches from user space when the
kernel command line holds kmap_local.pingpong=N (guest/init.c): two
processes pinned to CPU 0 pass a byte back and forth N times and it prints
'# bench: ctxswitch_user roundtrips=N ns_per_roundtrip=X'.  `make run`
boots the patched and the base kernel with the same N and divides the two
times.  Two boots under QEMU TCG on a shared machine: the ratio carries
noise of several percent, over 20 % on a busy host, so it is shown, not
judged.  The instruction-counted boots below give the same comparison
without the noise.
"""

import os
import re
import shlex

from common import HarnessError

CTXSWITCH = "ctxswitch_user"
ROUNDTRIPS = 40000  # 60-80 us each under TCG here: 2-3 s a boot

# The instruction-counted comparison.  Under QEMU's -icount shift=0 the
# guest clock advances 1 ns per instruction executed, so the ping-pong's
# "ns" are instructions: the same kernel gives the same count to within a
# few per round trip, whatever the host does.  It counts instructions,
# not cycles (no cache or TLB cost), on one CPU (x86 secondary CPUs do
# not come up under -icount here).  Two memory sizes: with the target's
# memory the pipe pages are highmem, so every round trip also maps and
# unmaps four of them with kmap_atomic(); with ICOUNT_LOWMEM_MB the
# machine has no highmem and the round trip is system calls and context
# switches only.  The torture test is cut to 1 s of guest time: under
# -icount its default would take minutes.  The ping-pong starts at the
# same guest time, ICOUNT_START_S, in both kernels: see pingpong_wait()
# in guest/init.c for why that matters.
ICOUNT_START_S = 10
ICOUNT_APPEND = ("migrate_disable_test.torture_seconds=1 "
                 "kmap_local.pingpong_at=%d" % ICOUNT_START_S)
ICOUNT_LOWMEM_MB = 768


def icount_qemu(qemu, mem_mb=None):
    """The target's QEMU machine options for an instruction-counted boot:
    one CPU, -icount shift=0, and `mem_mb` MiB if given."""
    args = shlex.split(qemu)
    out, skip = [], False
    for i, a in enumerate(args):
        if skip:
            skip = False
            continue
        if a in ("-smp", "-m", "-icount") and i + 1 < len(args):
            skip = True
            continue
        if a in ("-accel",) and i + 1 < len(args) and \
                not args[i + 1].startswith("tcg"):
            raise HarnessError("instruction counting needs TCG, not "
                               "-accel %s" % args[i + 1])
        out.append(a)
    if not out or not re.match(r"qemu-system-", os.path.basename(out[0])):
        raise HarnessError("not a QEMU command: %r" % qemu)
    out += ["-smp", "1", "-icount", "shift=0"]
    m = mem_mb if mem_mb else _mem(args)
    if m:
        out += ["-m", str(m)]
    return " ".join(shlex.quote(a) for a in out)


def _mem(args):
    for i, a in enumerate(args[:-1]):
        if a == "-m":
            return args[i + 1]
    return None


def target_mem(qemu):
    """The memory size (MiB) a QEMU command gives, or "default"."""
    return _mem(shlex.split(qemu)) or "default"


def append_arg(n=ROUNDTRIPS):
    return "kmap_local.pingpong=%d" % n


def _number(fields, key, what):
    try:
        return int(fields[key])
    except KeyError:
        raise HarnessError("%s: '# bench: %s' has no %s=" %
                           (what, CTXSWITCH, key))
    except ValueError:
        raise HarnessError("%s: %s=%r is not an integer" %
                           (what, key, fields[key]))


def ctxswitch(bench, what):
    """(roundtrips, ns per round trip) from a report's bench lines."""
    lines = [f for name, f in bench if name == CTXSWITCH]
    if len(lines) != 1:
        raise HarnessError("%s: %d '# bench: %s' lines, expected one "
                           "(the guest prints it when the command line has "
                           "kmap_local.pingpong=N)" %
                           (what, len(lines), CTXSWITCH))
    n = _number(lines[0], "roundtrips", what)
    ns = _number(lines[0], "ns_per_roundtrip", what)
    if n <= 0 or ns <= 0:
        raise HarnessError("%s: roundtrips=%d ns_per_roundtrip=%d: both "
                           "must be positive" % (what, n, ns))
    return n, ns


def ratio(patched_bench, base_bench):
    """(round trips, patched ns, base ns, patched/base) of the ping-pong;
    both boots must have run the same number of round trips."""
    pn, pns = ctxswitch(patched_bench, "patched boot")
    bn, bns = ctxswitch(base_bench, "base boot")
    if pn != bn:
        raise HarnessError("the boots ran %d and %d round trips; compare "
                           "equal runs only" % (pn, bn))
    return pn, pns, bns, pns / bns


def icount_lines(runs):
    """Table lines of the instruction-counted comparison.  `runs` is a
    list of (label, patched bench lines, base bench lines); a run that
    cannot be compared raises HarnessError."""
    out = ["  context switch, patched vs base, instructions counted (QEMU "
           "-icount shift=0, 1 CPU, deterministic):"]
    for label, patched, base in runs:
        n, pins, bins, r = ratio(patched, base)
        out.append("    %-34s patched %6d, base %6d instructions per "
                   "round trip: patched/base %.4f (%+.2f%%)" %
                   (label + ",", pins, bins, r, (r - 1) * 100))
    return out


MAP_1CPU = "kmap_map_unmap_1cpu"


def icount_map_line(patched_bench):
    """The single-CPU map+unmap benchmark of an instruction-counted boot
    of the patched kernel (highmem page): the same loop's instructions
    per pair for the three kinds, and their ratios."""
    lines = [f for name, f in patched_bench if name == MAP_1CPU]
    if len(lines) != 1:
        raise HarnessError("instruction-counted boot: %d '# bench: %s' "
                           "lines, expected one" % (len(lines), MAP_1CPU))
    what = "instruction-counted " + MAP_1CPU
    local, atomic, kmap = (_number(lines[0], k, what) / 1000.0
                           for k in ("local_ps", "atomic_ps", "kmap_ps"))
    if min(local, atomic, kmap) <= 0:
        raise HarnessError("%s: a kind took no instructions" % what)
    return ("  map+unmap of a highmem page, one CPU, instructions counted "
            "(same boot): kmap_local %.0f, kmap_atomic %.0f, kmap() %.0f "
            "per pair and loop turn: kmap_local/kmap_atomic %.2f, "
            "kmap()/kmap_local %.2f" % (local, atomic, kmap, local / atomic,
                                        kmap / local))


def table(target, patched_bench, base_bench):
    """(lines of the benchmark table, whether the base comparison was
    made)."""
    out = ["benchmark table (%s, this run):" % target]
    if not patched_bench:
        out.append("  the patched kernel printed no '# bench:' line")
    for name, fields in patched_bench:
        out.append("  %-24s %s" % (name, "  ".join(
            "%s=%s" % kv for kv in sorted(fields.items()))))
    try:
        n, pns, bns, r = ratio(patched_bench, base_bench)
    except HarnessError as e:
        out.append("  context switch, patched vs base: NOT MEASURED: %s" % e)
        return out, False
    out += ["  context switch, patched vs base (user-space ping-pong, %d "
            "round trips on CPU 0):" % n,
            "    patched %d ns, base %d ns per round trip: ratio "
            "patched/base %.3f" % (pns, bns, r),
            "    (two boots of this run under QEMU TCG: noise-prone; a few "
            "percent either way is no result)"]
    return out, True
