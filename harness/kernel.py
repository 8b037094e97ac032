"""Configure, build and boot one target; read its console log."""

import json
import os
import shlex
import shutil
import time

import initramfs
import kconfig
import ktap
from common import (HarnessError, REPO, ccache_env, jobs, run_logged,
                    say, tail)

END_MARKER = "kmap-local-init: done"


def outdir(target, tree_name):
    from common import build_dir
    return os.path.join(build_dir(), "out", tree_name, target.name)


def _make(tree, obj, target, args, log, label, append=True):
    cmd = (["make", "-C", tree, "O=" + obj, "-j" + jobs()] +
           target.make_vars() + args)
    return run_logged(cmd, log, label, env=ccache_env(), append=append)


def configure(tree, obj, target, log, absent_ok=()):
    """Write obj/.config from base_config + fragments; check it (the
    symbols of `absent_ok` may be missing: see kconfig.check)."""
    os.makedirs(obj, exist_ok=True)
    frags = [kconfig.fragment_path(f) for f in target.fragment_list]
    rc = _make(tree, obj, target, [target.base_config], log,
               target.name + " config", append=False)
    if rc == 0:
        rc = run_logged([os.path.join(tree, "scripts/kconfig/merge_config.sh"),
                         "-m", "-O", obj, os.path.join(obj, ".config")] +
                        frags, log, target.name + " config", cwd=tree,
                        env=ccache_env(), append=True)
    if rc == 0:
        rc = _make(tree, obj, target, ["olddefconfig"], log,
                   target.name + " config")
    if rc:
        raise HarnessError("%s: configuration failed; log: %s\n%s" %
                           (target.name, log, tail(log)))
    kconfig.check(tree, os.path.join(obj, ".config"), target.fragment_list,
                  absent_ok)


def build(tree, target, tree_name="series", absent_ok=()):
    """Build the target's kernel (and guest initramfs); return obj dir."""
    obj = outdir(target, tree_name)
    log = os.path.join(obj, "build.log")
    say("[%s] configure + build (%s; log: %s)" % (target.name,
                                                  target.description, log))
    configure(tree, obj, target, log, absent_ok)
    t0 = time.time()
    rc = _make(tree, obj, target, [os.path.basename(target.image)], log,
               target.name + " build")
    if rc:
        raise HarnessError("%s: kernel build failed; log: %s\n%s" %
                           (target.name, log, tail(log, 25)))
    if target.boots:
        guest(tree, obj, target, log)
    say("[%s] built in %ds" % (target.name, time.time() - t0))
    return obj


def guest(tree, obj, target, log):
    """Build /init for the guest's architecture and pack the initramfs."""
    rc = _make(tree, obj, target, ["headers"], log, target.name + " headers")
    if rc:
        raise HarnessError("%s: 'make headers' failed; log: %s" %
                           (target.name, log))
    init = os.path.join(obj, "guest-init")
    cmd = (shlex.split(target.guest_cc) +
           ["-static", "-nostdlib", "-ffreestanding", "-fno-stack-protector",
            "-fno-asynchronous-unwind-tables", "-Os",
            "-I", os.path.join(obj, "usr", "include"),
            "-include", os.path.join(tree, "tools/include/nolibc/nolibc.h"),
            "-o", init, os.path.join(REPO, "guest", "init.c")])
    if run_logged(cmd, log, target.name + " guest init", append=True):
        raise HarnessError("%s: building the guest /init failed; log: %s\n%s"
                           % (target.name, log, tail(log)))
    initramfs.write_initramfs(os.path.join(obj, "initramfs.cpio"), init)


def read_log(target, log):
    """Judge a console log the way the matrix does for `target`."""
    with open(log, errors="replace") as f:
        return ktap.parse(f.read(), highmem_expected=target.wants_highmem,
                          end_marker=END_MARKER)


def boot(target, obj, label="boot", extra_append="", qemu=None):
    """Boot in QEMU; return (ktap.Report, console log path, seconds).
    `qemu` replaces the target's machine options (bench.icount_qemu)."""
    image = os.path.join(obj, target.image)
    initrd = os.path.join(obj, "initramfs.cpio")
    for f in (image, initrd):
        if not os.path.exists(f):
            raise HarnessError("%s: %s missing: build the target first" %
                               (target.name, f))
    log = os.path.join(obj, label + ".console.log")
    cmd = target.qemu_cmd(image, initrd, extra_append, qemu)
    if shutil.which(cmd[0]) is None:
        raise HarnessError("%s not found: install it (make deps)" % cmd[0])
    say("[%s] %s in QEMU (timeout %ds; console: %s)" %
        (target.name, label, target.timeout, log))
    t0 = time.time()
    rc = run_logged(cmd, log, target.name + " " + label,
                    timeout=target.timeout)
    secs = time.time() - t0
    rep = read_log(target, log)
    if rc == 124:
        rep.problems.append("QEMU timed out after %ds" % target.timeout)
    elif rc != 0:
        rep.problems.append("QEMU exited with status %d" % rc)
    with open(os.path.join(obj, label + ".result.json"), "w") as f:
        json.dump({"target": target.name, "problems": rep.problems,
                   "highmem_kb": rep.highmem_kb,
                   "suites": [{"name": s.name, "result": s.result,
                               "counts": s.counts()}
                              for s in rep.all_suites()],
                   "bench": rep.bench, "stats": rep.stats,
                   "seconds": round(secs, 1)},
                  f, indent=1)
    return rep, log, secs
