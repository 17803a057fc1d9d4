"""The CPython interpreters the version matrix and the pip tests cover (issue 14), and the
ccache settings their builds share.

Debian's /usr/bin/python3 (3.11: the default build, build/) and, where pyenv is installed,
its newest 3.9, 3.10, 3.12 and 3.13 (pyenv's own 3.11 is left out: Debian's is the 3.11 of
the matrix). Versions outside 3.9-3.13 are ignored.
"""
import os
import re
import shutil
import subprocess

import harness

DEBIAN_PYTHON = "/usr/bin/python3"
MATRIX_MINORS = ("3.9", "3.10", "3.12", "3.13")


def pyenv_root():
    """pyenv's root folder when pyenv is installed (`pyenv root`, else $PYENV_ROOT or
    ~/.pyenv when it holds versions/), or None."""
    pyenv = shutil.which("pyenv")
    if pyenv:
        result = subprocess.run([pyenv, "root"], capture_output=True, text=True, timeout=30)
        if result.returncode == 0 and result.stdout.strip():
            return result.stdout.strip()
    root = os.environ.get("PYENV_ROOT", os.path.expanduser("~/.pyenv"))
    return root if os.path.isdir(os.path.join(root, "versions")) else None


def pyenv_pythons(minors=MATRIX_MINORS):
    """{"3.12": "/root/.pyenv/versions/3.12.1/bin/python3.12", ...}: the newest patch
    release of each wanted minor version that pyenv has (with its shared libpython)."""
    root = pyenv_root()
    found = {}
    if root is None:
        return found
    versions = os.path.join(root, "versions")
    for name in os.listdir(versions):
        match = re.fullmatch(r"(3\.\d+)\.(\d+)", name)
        if not match or match.group(1) not in minors:
            continue
        minor = match.group(1)
        exe = os.path.join(versions, name, "bin", "python" + minor)
        if not os.access(exe, os.X_OK):
            continue
        patch = int(match.group(2))
        if minor not in found or patch > found[minor][0]:
            found[minor] = (patch, exe)
    return {minor: exe for minor, (patch, exe) in sorted(
        found.items(), key=lambda item: tuple(map(int, item[0].split("."))))}


def version_of(python):
    """"3.12.1" of an interpreter."""
    return subprocess.run([python, "-c", "import platform; print(platform.python_version())"],
                          capture_output=True, text=True, check=True,
                          timeout=60).stdout.strip()


def build_env(jobs=2):
    """The environment of a build: ccache when installed (the default cache, shared with
    `make build`; objects are shared between build folders at the same depth, whose
    relative paths match), never required for correctness."""
    env = dict(os.environ)
    env.pop("VIRTUAL_ENV", None)
    env["CMAKE_BUILD_PARALLEL_LEVEL"] = str(jobs)
    if shutil.which("ccache"):
        env["CMAKE_CXX_COMPILER_LAUNCHER"] = "ccache"
        env["CCACHE_BASEDIR"] = harness.REPO
        env["CCACHE_NOHASHDIR"] = "1"
    return env


def run_logged(cmd, log_path, env, timeout, cwd=None):
    """Runs cmd with its output in log_path; raises AssertionError with the log's tail when
    it fails."""
    with open(log_path, "ab") as log:
        log.write(("\n$ %s\n" % " ".join(cmd)).encode())
        log.flush()
        result = subprocess.run(cmd, stdout=log, stderr=subprocess.STDOUT, env=env,
                                timeout=timeout, cwd=cwd, stdin=subprocess.DEVNULL)
    if result.returncode != 0:
        with open(log_path, "rb") as log:
            tail = log.read()[-6000:].decode("utf-8", "replace")
        raise AssertionError("%s exited %d; log %s ends:\n%s" % (
            cmd, result.returncode, log_path, tail))
