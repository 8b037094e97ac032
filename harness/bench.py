"""The `make run` benchmark table and the comparison with the base kernel.

The guest's /init measures context switches from user space when the
kernel command line holds kmap_local.pingpong=N (guest/init.c): two
processes pinned to CPU 0 pass a byte back and forth N times and it prints
'# bench: ctxswitch_user roundtrips=N ns_per_roundtrip=X'.  `make run`
boots the patched and the base kernel with the same N and divides the two
times.  Two boots under QEMU TCG on a shared machine: the ratio carries
noise of several percent, over 20 % on a busy host, so it is shown, not
judged.
"""

from common import HarnessError

CTXSWITCH = "ctxswitch_user"
ROUNDTRIPS = 40000  # 60-80 us each under TCG here: 2-3 s a boot


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
