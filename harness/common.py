"""Shared helpers: locations, errors, logged commands with progress."""

import os
import subprocess
import threading
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class HarnessError(Exception):
    """A failure the user can act on; the message says what and how."""


def build_dir():
    return os.path.abspath(os.environ.get("BUILD_DIR") or
                           os.path.join(REPO, "build"))


def cache_dir():
    default = os.path.join(os.path.expanduser("~"), ".cache", "kmap-local")
    return os.path.abspath(os.environ.get("CACHE_DIR") or default)


def jobs():
    return os.environ.get("JOBS") or str(os.cpu_count() or 2)


def say(msg):
    print(msg, flush=True)


def ccache_env():
    env = dict(os.environ)
    env.setdefault("CCACHE_DIR", os.path.join(cache_dir(), "ccache"))
    env.setdefault("CCACHE_MAXSIZE", "8G")
    # Builds of the same tree in different directories share objects.
    env.setdefault("CCACHE_BASEDIR", build_dir())
    env.setdefault("CCACHE_NOHASHDIR", "1")
    # Look results up by the compiler's own dependency output (kbuild asks
    # for it): no preprocessor run of its own on a miss, which a cold cache
    # pays for every object (a cold i386 kernel: 166 s instead of 194 s).
    env.setdefault("CCACHE_DEPEND", "1")
    # Reproducible objects: the check that compares object code relies on it.
    env.setdefault("KBUILD_BUILD_TIMESTAMP", "2024-07-27")
    env.setdefault("KBUILD_BUILD_USER", "kmap-local")
    env.setdefault("KBUILD_BUILD_HOST", "kmap-local")
    env["LC_ALL"] = "C"
    return env


def _last_line(path):
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            f.seek(max(0, size - 400))
            tail = f.read().decode(errors="replace").strip().splitlines()
            return tail[-1].strip()[:70] if tail else ""
    except OSError:
        return ""


def run_logged(cmd, log, label, cwd=None, env=None, timeout=None,
               progress=30, append=False):
    """Run `cmd` with stdout+stderr into `log`; print progress lines.

    Returns the exit status (124 on timeout).  Never raises on a
    non-zero exit: the caller decides what a failure means.
    """
    os.makedirs(os.path.dirname(log), exist_ok=True)
    start = time.time()
    with open(log, "ab" if append else "wb") as out:
        if append:
            out.write(("\n$ %s\n" % " ".join(cmd)).encode())
            out.flush()
        proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=out,
                                stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL)
        stop = threading.Event()

        def ticker():
            while not stop.wait(progress):
                say("    ... %s: %ds, %s" % (label, time.time() - start,
                                            _last_line(log)))
        t = threading.Thread(target=ticker, daemon=True)
        t.start()
        try:
            rc = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            rc = 124
        finally:
            stop.set()
    return rc


def run(cmd, cwd=None, env=None, check=True, capture=True):
    """Run a short command; return its stdout.  Raise on failure."""
    p = subprocess.run(cmd, cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                       stdout=subprocess.PIPE if capture else None,
                       stderr=subprocess.PIPE if capture else None)
    if check and p.returncode != 0:
        err = (p.stderr or b"").decode(errors="replace").strip()
        raise HarnessError("command failed (%d): %s\n%s" %
                           (p.returncode, " ".join(cmd), err[-2000:]))
    return (p.stdout or b"").decode(errors="replace")


def tail(path, n=15):
    try:
        with open(path, errors="replace") as f:
            return "".join(f.readlines()[-n:])
    except OSError:
        return ""


class Tally:
    """Counts results for the closing 'N passed, N failed' line."""

    def __init__(self, quiet=False):
        self.rows = []
        self.quiet = quiet

    def add(self, area, name, status, detail=""):
        assert status in ("pass", "fail", "skip")
        self.rows.append((area, name, status, detail))
        if self.quiet:
            return
        mark = {"pass": "PASS", "fail": "FAIL", "skip": "SKIP"}[status]
        say("  %-4s %s: %s%s" % (mark, area, name,
                                 (" -- " + detail) if detail else ""))

    def count(self, status):
        return sum(1 for r in self.rows if r[2] == status)

    def failures(self):
        return [r for r in self.rows if r[2] == "fail"]


class Timing:
    """Wall-clock seconds per step of a run, for the table `make check`
    prints at its end (and keeps in build/logs/timing.txt)."""

    def __init__(self):
        self.rows = []

    def add(self, step, secs):
        self.rows.append((step, secs))

    def step(self, name):
        timing = self

        class _Step:
            def __enter__(self):
                self.t0 = time.time()
                return self

            def __exit__(self, *exc):
                timing.add(name, time.time() - self.t0)
                return False
        return _Step()

    def lines(self, total=None):
        out = ["%-52s %8s" % ("step", "seconds")]
        out += ["%-52s %8d" % (n[:52], s) for n, s in self.rows]
        if total is not None:
            out.append("%-52s %8d" % ("total", total))
        return out


TIMING = Timing()
