"""Target descriptions: one small INI file a target under targets/.

Keys of the [target] section:
  description      one line for reports
  inherit          another target whose keys this one starts from
  arch             kernel ARCH=
  cross_compile    kernel CROSS_COMPILE= (empty for the host compiler)
  base_config      the make target that starts the config (tinyconfig...)
  fragments        Kconfig fragments from configs/, applied in order
  add_fragments    fragments appended to the inherited list
  image            kernel image, relative to the build directory
  boot             yes: boot it in QEMU; no: build only
  qemu             QEMU command: machine, CPUs, memory (no kernel/initrd)
  console          the guest's console device
  append           extra kernel command line
  guest_cc         compiler for the guest's /init
  highmem          yes: the boot log must show highmem
  timeout          seconds a boot may take
  matrix           no: leave it out of the matrix of `make check`
  role             compile: `make check` compiles the .c files the series
                   touches for it (base and series, warnings compared)
                   instead of building a kernel
  only_if_touched  with role compile: only when the series touches
                   arch/<this>/
  cross            yes: `make cross` builds a full kernel of it at every
                   patch that touches its architecture and at the last
                   (matrix and cross are not inherited)
"""

import configparser
import os
import shlex

from common import HarnessError, REPO

TARGETS = os.path.join(REPO, "targets")
# ccache, but not for sources with .incbin (see the script)
CCACHE_CC = os.path.join(REPO, "harness", "ccache-cc")
_REQUIRED = ("arch", "base_config", "fragments", "image", "boot")
_BOOT_REQUIRED = ("qemu", "console", "guest_cc")


class Target:
    def __init__(self, name, keys):
        self.name = name
        self.keys = keys

    def __getattr__(self, key):
        try:
            return self.keys[key]
        except KeyError:
            raise AttributeError(key)

    def get(self, key, default=""):
        return self.keys.get(key, default)

    @property
    def fragment_list(self):
        return self.keys["fragments"].split()

    @property
    def boots(self):
        return self.keys["boot"] == "yes"

    @property
    def wants_highmem(self):
        return self.keys.get("highmem", "no") == "yes"

    @property
    def in_matrix(self):
        return self.keys.get("matrix", "yes") == "yes"

    @property
    def timeout(self):
        return int(self.keys.get("timeout", "300"))

    def make_vars(self):
        v = ["ARCH=" + self.arch]
        cc = self.get("cross_compile")
        if cc:
            v.append("CROSS_COMPILE=" + cc)
        v.append("CC=%s %sgcc" % (CCACHE_CC, cc))
        return v

    def qemu_cmd(self, image, initrd, extra_append="", qemu=None):
        """`qemu` replaces the machine part of the description."""
        append = "console=%s panic=-1 %s %s" % (self.console,
                                                self.get("append"),
                                                extra_append)
        return (shlex.split(qemu or self.qemu) +
                ["-nographic", "-no-reboot", "-kernel", image,
                 "-initrd", initrd, "-append", " ".join(append.split())])


def _read(name, seen=()):
    path = os.path.join(TARGETS, name + ".ini")
    if not os.path.isfile(path):
        raise HarnessError("no target '%s' (no targets/%s.ini); known: %s" %
                           (name, name, ", ".join(names())))
    if name in seen:
        raise HarnessError("targets: inherit loop through %s" % name)
    cp = configparser.ConfigParser(interpolation=None)
    cp.read(path)
    if not cp.has_section("target"):
        raise HarnessError("targets/%s.ini has no [target] section" % name)
    own = dict(cp["target"])
    keys = {}
    if "inherit" in own:
        keys = dict(_read(own["inherit"], seen + (name,)).keys)
        keys.pop("matrix", None)
        keys.pop("cross", None)
    keys.update(own)
    if "add_fragments" in own:
        keys["fragments"] = (keys.get("fragments", "") + " " +
                             own["add_fragments"]).strip()
        del keys["add_fragments"]
    keys.pop("inherit", None)
    return Target(name, keys)


def load(name):
    t = _read(name)
    missing = [k for k in _REQUIRED if not t.get(k)]
    if t.get("boot") == "yes":
        missing += [k for k in _BOOT_REQUIRED if not t.get(k)]
    if missing:
        raise HarnessError("targets/%s.ini lacks %s" % (name,
                                                        ", ".join(missing)))
    return t


def names():
    return sorted(f[:-4] for f in os.listdir(TARGETS) if f.endswith(".ini"))


def matrix():
    return [t for t in (load(n) for n in names()) if t.in_matrix]
