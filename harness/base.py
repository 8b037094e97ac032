"""The pinned base: fetch Debian's orig tarball, verify it, make a git repo.

The tarball is fetched with apt's own tools through a private apt
configuration (own sources list, lists and cache directories) so the
machine's apt state is never touched; the mirror is the one the machine's
Debian sources already name.
"""

import configparser
import glob
import hashlib
import os
import re
import shutil
import subprocess

from common import HarnessError, REPO, cache_dir, run, say

_APT_HELPER = "/usr/lib/apt/apt-helper"


def project():
    cp = configparser.ConfigParser()
    cp.read(os.path.join(REPO, "project.ini"))
    return cp


def accepted_checksums(path=None):
    """Return {sha256: (name, origin)} from tarballs.sha256."""
    path = path or os.path.join(REPO, "tarballs.sha256")
    table = {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            parts = line.split(None, 2)
            if len(parts) < 2 or not re.fullmatch(r"[0-9a-f]{64}", parts[0]):
                raise HarnessError("%s: malformed line: %s" % (path, line))
            table[parts[0]] = (parts[1], parts[2] if len(parts) > 2 else "")
    if not table:
        raise HarnessError("%s lists no accepted checksum" % path)
    return table


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def verify(path, table):
    """Check `path` against the table; raise a HarnessError that says why."""
    digest = sha256_file(path)
    if digest in table:
        return digest
    expected = "\n".join("  %s  %s" % (k, v[0]) for k, v in table.items())
    raise HarnessError(
        "checksum mismatch: %s has sha256 %s, which is not an accepted base "
        "tarball.\nAccepted (tarballs.sha256):\n%s\n"
        "If this is the cached download it is corrupt or truncated: delete "
        "it and run again to fetch it anew.  If it is your own TARBALL=, "
        "check it against the release's signed checksums and add it to "
        "tarballs.sha256." % (path, digest, expected))


def _deb822_uris(text):
    for para in re.split(r"\n\s*\n", text):
        fields = {}
        for line in para.splitlines():
            m = re.match(r"^(\w[\w-]*):\s*(.*)$", line)
            if m:
                fields[m.group(1).lower()] = m.group(2).split()
        if "deb" in fields.get("types", []) or "deb-src" in fields.get(
                "types", []):
            for uri in fields.get("uris", []):
                yield uri, fields.get("suites", [])


def _one_line_uris(text):
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        m = re.match(r"^deb(?:-src)?\s+(?:\[[^\]]*\]\s+)?(\S+)\s+(\S+)", line)
        if m:
            yield m.group(1), [m.group(2)]


def find_mirror(root="/etc/apt"):
    """The Debian archive URI named by the machine's apt sources."""
    if os.environ.get("MIRROR"):
        return os.environ["MIRROR"].rstrip("/")
    files = ([os.path.join(root, "sources.list")] +
             sorted(glob.glob(os.path.join(root, "sources.list.d",
                                           "*.list"))) +
             sorted(glob.glob(os.path.join(root, "sources.list.d",
                                           "*.sources"))))
    for path in files:
        try:
            with open(path) as f:
                text = f.read()
        except OSError:
            continue
        entries = (_deb822_uris(text) if path.endswith(".sources")
                   else _one_line_uris(text))
        for uri, suites in entries:
            # The main archive, not the security archive or a third party.
            if (re.search(r"/debian/?$", uri) and
                    not any(s.endswith("-security") for s in suites)):
                return uri.rstrip("/")
    raise HarnessError(
        "no Debian archive mirror found in %s/sources.list or "
        "sources.list.d/: set MIRROR=<the Debian archive URI> to say which "
        "one to use" % root)


def _apt_opts(aptdir):
    return ["-o", "Dir::Etc::SourceList=" + os.path.join(aptdir,
                                                        "sources.list"),
            "-o", "Dir::Etc::SourceParts=" + os.path.join(aptdir, "parts"),
            "-o", "Dir::State::Lists=" + os.path.join(aptdir, "lists"),
            "-o", "Dir::Cache=" + os.path.join(aptdir, "cache"),
            "-o", "APT::Sandbox::User=root",
            "-o", "Debug::NoLocking=1"]


def fetch(dest, table):
    """Fetch the orig tarball into `dest` through a private apt setup."""
    cp = project()["base"]
    mirror = find_mirror()
    aptdir = os.path.join(cache_dir(), "apt")
    for d in ("parts", "lists/partial", "cache/archives/partial"):
        os.makedirs(os.path.join(aptdir, d), exist_ok=True)
    keyring = "/usr/share/keyrings/debian-archive-keyring.gpg"
    opt = "[signed-by=%s] " % keyring if os.path.exists(keyring) else ""
    with open(os.path.join(aptdir, "sources.list"), "w") as f:
        f.write("deb-src %s%s %s main\n" % (opt, mirror, cp["suite"]))
    say("base: fetching source index for %s from %s (private apt state in %s)"
        % (cp["suite"], mirror, aptdir))
    run(["apt-get"] + _apt_opts(aptdir) + ["update"])
    pin = "%s=%s" % (cp["source_package"], cp["source_version"])
    out = run(["apt-get"] + _apt_opts(aptdir) +
              ["source", "--print-uris", "--only-source", pin], check=False)
    uri = want = None
    for line in out.splitlines():
        m = re.match(r"^'([^']+)'\s+(\S+)\s+(\d+)\s+SHA256:([0-9a-f]{64})",
                     line)
        if m and m.group(2) == cp["tarball"]:
            uri, want = m.group(1), m.group(4)
    if not uri:
        raise HarnessError(
            "source package %s not found in %s %s: the mirror no longer "
            "carries it.  Point MIRROR= at a Debian archive that has %s, or "
            "pass a local tarball with TARBALL=<path>." %
            (pin, mirror, cp["suite"], cp["suite"]))
    if want not in table:
        raise HarnessError("the archive lists %s with sha256 %s, which is not "
                           "in tarballs.sha256: refusing it" %
                           (cp["tarball"], want))
    say("base: downloading %s only (not the packaging tarball)" %
        cp["tarball"])
    tmp = dest + ".part"
    run([_APT_HELPER] + _apt_opts(aptdir) +
        ["download-file", uri, tmp, "SHA256:" + want])
    os.replace(tmp, dest)


def tarball():
    """Path of a verified base tarball, fetching it when needed."""
    table = accepted_checksums()
    local = os.environ.get("TARBALL")
    if local:
        if not os.path.isfile(local):
            raise HarnessError("TARBALL=%s: no such file" % local)
        digest = verify(local, table)
        say("base: using local tarball %s (%s)" % (local, table[digest][1]))
        return local, digest
    name = project()["base"]["tarball"]
    dest = os.path.join(cache_dir(), name)
    os.makedirs(cache_dir(), exist_ok=True)
    if not os.path.exists(dest):
        fetch(dest, table)
    digest = verify(dest, table)
    say("base: %s verified (sha256 %s)" % (dest, digest))
    return dest, digest


def git_env():
    cp = project()
    name, email = re.match(r"^(.*?)\s*<(.*)>$",
                           cp["project"]["author"]).groups()
    date = cp["base"]["commit_date"]
    env = dict(os.environ)
    env.update(GIT_AUTHOR_NAME=name, GIT_AUTHOR_EMAIL=email,
               GIT_COMMITTER_NAME=name, GIT_COMMITTER_EMAIL=email,
               GIT_AUTHOR_DATE=date, GIT_COMMITTER_DATE=date)
    return env


def base_repo():
    """A bare git repo holding the base as one commit tagged 'base'."""
    path, digest = tarball()
    repo = os.path.join(cache_dir(), "base-%s.git" % digest[:12])
    if os.path.exists(os.path.join(repo, "refs", "tags", "base")):
        return repo
    cp = project()["base"]
    work = repo + ".extract"
    shutil.rmtree(work, ignore_errors=True)
    shutil.rmtree(repo, ignore_errors=True)
    os.makedirs(work)
    say("base: extracting %s and committing it (once per machine)" % path)
    run(["tar", "-xf", path, "-C", work])
    top = os.path.join(work, cp["topdir"])
    if not os.path.isdir(top):
        raise HarnessError("%s does not contain %s/" % (path, cp["topdir"]))
    env = git_env()
    run(["git", "init", "-q", "--bare", repo + ".tmp"])
    g = ["git", "--git-dir", repo + ".tmp", "--work-tree", top]
    run(g + ["add", "-A", "-f", "."], env=env)
    msg = ("Linux %s (base)\n\nImported from %s, sha256 %s.\n" %
           (cp["version"], os.path.basename(path), digest))
    run(g + ["commit", "-q", "-m", msg], env=env)
    run(g + ["tag", "base"])
    os.rename(repo + ".tmp", repo)
    shutil.rmtree(work, ignore_errors=True)
    return repo


def clone_base(dest):
    """Check out a fresh work tree of the base at `dest`."""
    repo = base_repo()
    if os.path.exists(dest):
        shutil.rmtree(dest)
    os.makedirs(os.path.dirname(dest), exist_ok=True)
    run(["git", "clone", "-q", "--no-checkout", repo, dest])
    run(["git", "checkout", "-q", "-B", "series", "base"], cwd=dest)
    name, email = re.match(r"^(.*?)\s*<(.*)>$",
                           project()["project"]["author"]).groups()
    run(["git", "config", "user.name", name], cwd=dest)
    run(["git", "config", "user.email", email], cwd=dest)
    # Tests and builds use O= directories; keep `git status` quiet anyway.
    subprocess.run(["git", "config", "status.showUntrackedFiles", "normal"],
                   cwd=dest)
    return dest


def reuse_or_clone_base(dest):
    """`dest` as an untouched work tree of the base: kept when it already
    is one (its unchanged files let make skip the build), else cloned."""
    if os.path.isdir(os.path.join(dest, ".git")):
        p = subprocess.run(["git", "rev-parse", "HEAD", "base"], cwd=dest,
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        heads = p.stdout.decode().split()
        if (p.returncode == 0 and len(heads) == 2 and heads[0] == heads[1]
                and not run(["git", "status", "--porcelain",
                             "--untracked-files=all"], cwd=dest).strip()):
            return dest
    return clone_base(dest)
