"""The CPython version matrix (issue 14): the worker built against each CPython 3.9-3.13
found passes the HTTP/WSGI integration and conformance tiers that need no Flask or Django.

Debian's 3.11 is the default build (build/), which every tier runs against. For each of
pyenv's 3.9, 3.10, 3.12 and 3.13 this builds only what embeds Python, the wsgid-worker
target, in build-matrix-pyX.Y/ beside build/ (ccache shares the Python-free objects, and
the worker's with pip's build of that Python in test_pip_install; a folder of its own, so
that a user's `make build EMBED_PYTHON=` tree, build-pyX.Y/, is never reconfigured), puts
the default build's wsgid and wsgictl beside it (the master links no Python: it asks its
worker which one it embeds), checks `wsgid --version` names that Python, and runs
test_http, test_wsgi and conformance/test_corpus with WSGID_BIN_DIR pointing there. It
prints the versions covered, and fails when pyenv is installed and none of its 3.9-3.13
was covered.
"""
import os
import subprocess
import sys
import time
import unittest

import harness
import pythons

TIERS = (("integration", "test_http.py"), ("integration", "test_wsgi.py"),
         ("conformance", "test_corpus.py"))
BUILD_TIMEOUT = 900


def build_worker(python, minor):
    """build-matrix-pyX.Y/bin with that Python's wsgid-worker and the default build's master and
    client (hard links, so /proc/self/exe names this folder and the master finds this
    worker). Returns the bin folder."""
    build_dir = os.path.join(harness.REPO, "build-matrix-py" + minor)
    os.makedirs(build_dir, exist_ok=True)
    log = os.path.join(build_dir, "matrix-build.log")
    env = pythons.build_env()
    pythons.run_logged(["cmake", "-S", harness.REPO, "-B", build_dir,
                        "-DPython_EXECUTABLE=" + python, "-DPYBIND11_FINDPYTHON=ON",
                        "-DCMAKE_BUILD_TYPE=RelWithDebInfo", "-DBUILD_TESTING=OFF"],
                       log, env, BUILD_TIMEOUT)
    pythons.run_logged(["cmake", "--build", build_dir, "--target", "wsgid-worker"],
                       log, env, BUILD_TIMEOUT)
    bin_dir = os.path.join(build_dir, "bin")
    for name in ("wsgid", "wsgictl"):
        target = os.path.join(bin_dir, name)
        if os.path.lexists(target):
            os.unlink(target)
        try:
            os.link(os.path.join(harness.BIN_DIR, name), target)
        except OSError:
            import shutil
            shutil.copy2(os.path.join(harness.BIN_DIR, name), target)
    return bin_dir


def run_tiers(bin_dir):
    """Runs the tiers against bin_dir; a list of (tier file, ok, output tail)."""
    results = []
    env = dict(os.environ, WSGID_BIN_DIR=bin_dir)
    env.pop("VIRTUAL_ENV", None)
    runner = os.path.join(harness.REPO, "tests", "run_unittest.py")
    for tier, name in TIERS:
        folder = os.path.join(harness.REPO, "tests", tier)
        proc = subprocess.run([sys.executable, runner, os.path.join(folder, name)], cwd=folder,
                              env=env, capture_output=True, text=True, timeout=600)
        results.append((tier + "/" + name, proc.returncode == 0,
                        (proc.stdout + proc.stderr)[-4000:]))
    return results


class PythonMatrixTest(unittest.TestCase):
    def test_tiers_pass_against_every_python(self):
        harness.require_binaries("wsgid", "wsgictl")
        harness.require_tool("cmake")
        covered = ["%s (Debian's python3, build/: every tier)" %
                   pythons.version_of(pythons.DEBIAN_PYTHON)]
        found = pythons.pyenv_pythons()
        for minor, python in found.items():
            with self.subTest(python=python):
                t0 = time.monotonic()
                bin_dir = build_worker(python, minor)
                built = time.monotonic() - t0
                version = pythons.version_of(python)
                out = subprocess.run([os.path.join(bin_dir, "wsgid"), "--version"],
                                     capture_output=True, text=True, timeout=60).stdout
                self.assertIn("Python " + version, out)
                failures = [(name, tail) for name, ok, tail in run_tiers(bin_dir) if not ok]
                self.assertEqual(failures, [], "against %s" % python)
                covered.append("%s (pyenv, %s: built in %.0f s, tiers passed in %.0f s)" % (
                    version, os.path.relpath(bin_dir, harness.REPO), built,
                    time.monotonic() - t0 - built))
        print("\npython matrix: covered\n  " + "\n  ".join(covered), file=sys.stderr)
        if pythons.pyenv_root() is not None:
            self.assertTrue(found, "pyenv is installed but has none of CPython %s" %
                            ", ".join(pythons.MATRIX_MINORS))
            self.assertEqual(len(covered), 1 + len(found), covered)


if __name__ == "__main__":
    unittest.main()
