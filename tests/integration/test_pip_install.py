"""pip install of wsgid into a fresh virtualenv, offline (issue 14).

For every CPython 3.9-3.13 found (Debian's python3, 3.11, and pyenv's 3.9, 3.10, 3.12 and
3.13 where pyenv is installed; with pyenv, its 3.12 and 3.13 must be there): a fresh venv,
`pip install --no-index` of the checkout (the in-tree PEP 517 backend builds the three
binaries with CMake in a folder of its own, build-pip-cpXY/, never build/: a listing of
build/ with every file's mtime is the same before and after), and a tiny package made here
as a wheel and installed with the same pip. The venv's wsgid, run by its path with no
activation, serves an app that imports that package (so from the venv's site-packages,
with the venv's sys.prefix); a gunicorn.conf.py importing it is read; `wsgid --version`
names the venv's Python; the venv's wsgictl answers `status` over the control socket; the
binaries find their libpython.

One wheel, built once by one venv's pip (`pip wheel`), installed into two fresh venvs of
the same Python, each with its own tinypkg: each venv's wsgid serves its own (pip caches
wheels and hands one venv's build to another, so nothing in the binaries may name the venv
that built them).
"""
import base64
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
import unittest
import zipfile

import harness
import pythons

PIP_TIMEOUT = 1200
APP = textwrap.dedent("""\
    import sys
    import tinypkg

    def app(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [("%s|%s|%s" % (tinypkg.GREETING, sys.prefix, tinypkg.__file__)).encode()]
""")


CONF = "import tinypkg\nworkers = tinypkg.WORKERS\n"


def make_tiny_wheel(folder, greeting="hello from tinypkg"):
    """tinypkg-1.0-py3-none-any.whl in `folder`, written by hand (no build backend needed
    offline); its GREETING is `greeting`."""
    files = {"tinypkg/__init__.py": ("GREETING = %r\nWORKERS = 3\n" % greeting).encode(),
             "tinypkg-1.0.dist-info/METADATA":
                 b"Metadata-Version: 2.1\nName: tinypkg\nVersion: 1.0\n",
             "tinypkg-1.0.dist-info/WHEEL":
                 b"Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\n"
                 b"Tag: py3-none-any\n"}
    path = os.path.join(folder, "tinypkg-1.0-py3-none-any.whl")
    record = []
    with zipfile.ZipFile(path, "w") as wheel:
        for name, data in files.items():
            wheel.writestr(name, data)
            digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
            record.append("%s,sha256=%s,%d" % (name, digest.decode(), len(data)))
        record.append("tinypkg-1.0.dist-info/RECORD,,")
        wheel.writestr("tinypkg-1.0.dist-info/RECORD", "\n".join(record) + "\n")
    return path


# With pyenv installed, these must be among the versions covered (the README claims them).
REQUIRED_WITH_PYENV = ("3.12", "3.13")
# What other tests write into build/ while this one runs (ctest -j): ctest's logs,
# test_install's `cmake --install` manifest and cpack's staging folder.
OTHER_WRITERS = ("Testing", "install_manifest.txt", "_CPack_Packages")


def pythons_to_cover():
    found = {"3.11": pythons.DEBIAN_PYTHON}
    found.update(pythons.pyenv_pythons(("3.9", "3.10", "3.12", "3.13")))
    return dict(sorted(found.items(), key=lambda item: tuple(map(int, item[0].split(".")))))


def build_tree_listing(root=os.path.join(harness.REPO, "build")):
    """{path: (mtime_ns, size)} of every file and link under build/ (what other tests write
    left out), or None when there is no build/."""
    if not os.path.isdir(root):
        return None
    listing = {}
    for folder, dirs, files in os.walk(root):
        rel_folder = os.path.relpath(folder, root)
        if rel_folder == ".":
            dirs[:] = [d for d in dirs if d not in OTHER_WRITERS]
            files = [f for f in files if f not in OTHER_WRITERS]
        for name in files:
            path = os.path.join(folder, name)
            try:
                st = os.lstat(path)
            except FileNotFoundError:
                continue
            listing[os.path.relpath(path, root)] = (st.st_mtime_ns, st.st_size)
    return listing


def listing_changes(before, after):
    """The paths added, removed or changed between two build_tree_listing()s."""
    if before is None or after is None:
        return [] if before == after else ["build/ itself"]
    return sorted(p for p in set(before) | set(after) if before.get(p) != after.get(p))


class PipInstallTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="wsgid-pip-test-")
        self.addCleanup(shutil.rmtree, self.tmp, ignore_errors=True)
        self.wheel = make_tiny_wheel(self.tmp)

    def pip_env(self, minor):
        """The environment of pip's builds: ccache, and the wheel built in
        build-pip-cpXY/ beside build/, never in it (same depth, so ccache shares the objects
        with build/ and with the version matrix's build-matrix-pyX.Y/)."""
        env = pythons.build_env()
        build_dir = os.path.join(harness.REPO, "build-pip-cp" + minor.replace(".", ""))
        self.addCleanup(shutil.rmtree, build_dir, ignore_errors=True)
        env.update(WSGID_WHEEL_BUILD_DIR=build_dir, WSGID_BUILD_TYPE="RelWithDebInfo",
                   PIP_DISABLE_PIP_VERSION_CHECK="1", PIP_NO_CACHE_DIR="1")
        return env

    def install(self, python, minor):
        """A fresh venv with wsgid and tinypkg installed offline; returns the venv."""
        venv = os.path.join(self.tmp, "venv" + minor)
        log = os.path.join(self.tmp, "pip-%s.log" % minor)
        env = self.pip_env(minor)
        before = build_tree_listing()
        pythons.run_logged([python, "-m", "venv", venv], log, env, 300)
        pip = os.path.join(venv, "bin", "pip")
        pythons.run_logged([pip, "install", "--no-index", harness.REPO], log, env,
                           PIP_TIMEOUT)
        pythons.run_logged([pip, "install", "--no-index", self.wheel], log, env, 300)
        self.assertEqual(listing_changes(before, build_tree_listing()), [],
                         "pip touched build/")
        return venv

    def serve_from(self, venv, version, greeting="hello from tinypkg"):
        """The venv's wsgid by path, no activation: the app, a gunicorn.conf.py importing
        tinypkg, --version, wsgictl status."""
        bin_dir = os.path.join(venv, "bin")
        env = {k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"}
        out = subprocess.run([os.path.join(bin_dir, "wsgid"), "--version"], env=env,
                             capture_output=True, text=True, timeout=60).stdout
        self.assertIn("Python " + version, out)
        self.assertIn("installed in the virtualenv " + venv, out)
        conf = os.path.join(self.tmp, "tinyconf.py")
        with open(conf, "w") as f:
            f.write(CONF)
        printed = subprocess.run([os.path.join(bin_dir, "wsgid"), "--print-config", "-c",
                                  conf, "tinyapp:app"], env=env, capture_output=True,
                                 text=True, timeout=60)
        self.assertEqual(printed.returncode, 0, printed.stderr)
        self.assertRegex(printed.stdout, r"(?m)^workers += 3  # file$")
        ldd = subprocess.run(["ldd", os.path.join(bin_dir, "wsgid-worker")],
                             capture_output=True, text=True, timeout=60).stdout
        self.assertIn("libpython" + version.rsplit(".", 1)[0], ldd)
        self.assertNotIn("not found", ldd)
        app_dir = os.path.join(self.tmp, "app")
        os.makedirs(app_dir, exist_ok=True)
        with open(os.path.join(app_dir, "tinyapp.py"), "w") as f:
            f.write(APP)
        port = harness.free_port()
        sock = os.path.join(self.tmp, "ctl-%s.sock" % os.path.basename(venv))
        log = open(os.path.join(self.tmp, "wsgid-%s.log" % os.path.basename(venv)), "wb")
        proc = subprocess.Popen([os.path.join(bin_dir, "wsgid"), "-b", "127.0.0.1:%d" % port,
                                 "-w", "1", "--ops-bind", "off", "--control-socket", sock,
                                 "--chdir", app_dir, "tinyapp:app"],
                                env=env, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True, cwd=self.tmp)
        try:
            self.assertTrue(harness.wait_for_port("127.0.0.1", port, 60, proc),
                            open(log.name).read())
            status, body = harness.get("http://127.0.0.1:%d/" % port)
            served, prefix, module = body.decode().split("|")
            self.assertEqual(served, greeting)
            self.assertEqual(prefix, venv)
            self.assertTrue(module.startswith(venv + "/lib/"), module)
            self.assertTrue(harness.wait_until(lambda: os.path.exists(sock), 30))
            ctl = subprocess.run([os.path.join(bin_dir, "wsgictl"), "-s", sock, "status"],
                                 env=env, capture_output=True, text=True, timeout=60)
            self.assertEqual(ctl.returncode, 0, ctl.stdout + ctl.stderr)
            self.assertIn("worker", ctl.stdout.lower())
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
            log.close()

    def test_pip_install_serves_from_the_venv(self):
        harness.require_tool("cmake")
        found = pythons_to_cover()
        covered = []
        for minor, python in found.items():
            with self.subTest(python=python):
                t0 = time.monotonic()
                venv = self.install(python, minor)
                version = pythons.version_of(os.path.join(venv, "bin", "python"))
                self.serve_from(venv, version)
                covered.append("%s (%s) in %.0f s" % (version, python, time.monotonic() - t0))
        print("\npip install: covered\n  " + "\n  ".join(covered), file=sys.stderr)
        self.assertEqual(len(covered), len(found), covered)
        if pythons.pyenv_root() is not None:
            missing = [m for m in REQUIRED_WITH_PYENV if m not in found]
            self.assertEqual(missing, [], "pyenv is installed (%s) but has no CPython %s" %
                             (pythons.pyenv_root(), ", ".join(missing)))

    def test_backend_refuses_the_checkouts_build_folders(self):
        sys.path.insert(0, os.path.join(harness.REPO, "tools", "build_backend"))
        try:
            import wsgid_build_backend as backend
        finally:
            sys.path.pop(0)
        repo = harness.REPO
        for folder in ("build", "build/pip", "build-py3.12", "build-matrix-py3.12/x",
                       "build-asan", "build-fuzz"):
            with self.subTest(folder=folder):
                with self.assertRaisesRegex(RuntimeError, "out of tree"):
                    backend.check_build_dir(os.path.join(repo, folder), repo)
        for path in (os.path.join(repo, "build-pip-cp312"), self.tmp,
                     os.path.join(repo, "buildings")):
            backend.check_build_dir(path, repo)  # no exception
        # The embedded interpreter is the venv's base one, never the venv's own python.
        base = subprocess.run(
            [os.path.join(self.venv_of(pythons.DEBIAN_PYTHON), "bin", "python"), "-c",
             "import sys; sys.path.insert(0, %r); import wsgid_build_backend as b; "
             "print(b.base_python())" % os.path.join(repo, "tools", "build_backend")],
            capture_output=True, text=True, timeout=60, check=True).stdout.strip()
        self.assertEqual(os.path.realpath(base), os.path.realpath(pythons.DEBIAN_PYTHON))

    def venv_of(self, python):
        """A fresh venv (no pip) of `python` in the test's folder."""
        venv = os.path.join(self.tmp, "bare-venv")
        subprocess.run([python, "-m", "venv", "--without-pip", venv], check=True,
                       timeout=120, capture_output=True)
        return venv

    def test_one_wheel_serves_each_venv_it_is_installed_in(self):
        harness.require_tool("cmake")
        python, minor = pythons.DEBIAN_PYTHON, "3.11"
        t0 = time.monotonic()
        env = self.pip_env(minor)
        log = os.path.join(self.tmp, "pip-wheel.log")
        venvs = [os.path.join(self.tmp, name) for name in ("venv-a", "venv-b")]
        for venv in venvs:
            pythons.run_logged([python, "-m", "venv", venv], log, env, 300)
        # Built once, by venv-a's pip, as pip's wheel cache would keep it.
        wheelhouse = os.path.join(self.tmp, "wheelhouse")
        pythons.run_logged([os.path.join(venvs[0], "bin", "pip"), "wheel", "--no-index",
                            "--no-deps", "-w", wheelhouse, harness.REPO], log, env,
                           PIP_TIMEOUT)
        (wheel,) = [os.path.join(wheelhouse, f) for f in os.listdir(wheelhouse)
                    if f.startswith("wsgid-")]
        version = pythons.version_of(python)
        for venv in venvs:
            name = os.path.basename(venv)
            tiny = make_tiny_wheel(tempfile.mkdtemp(dir=self.tmp), "tinypkg of " + name)
            pip = os.path.join(venv, "bin", "pip")
            pythons.run_logged([pip, "install", "--no-index", wheel, tiny], log, env, 300)
            worker = subprocess.run([os.path.join(venv, "bin", "wsgid-worker"),
                                     "--python-version"], capture_output=True, text=True,
                                    timeout=60, check=True).stdout
            self.assertNotIn(venvs[0], worker, "the worker names the venv that built it")
            with self.subTest(venv=name):
                self.serve_from(venv, version, "tinypkg of " + name)
        print("\none wheel in two venvs: %.0f s" % (time.monotonic() - t0), file=sys.stderr)


if __name__ == "__main__":
    unittest.main()
