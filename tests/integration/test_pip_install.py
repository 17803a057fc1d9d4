"""pip install of wsgid into a fresh virtualenv, offline (issue 14).

For Debian's python3 (3.11) and, where pyenv is installed, its 3.12 and 3.13: a fresh venv,
`pip install --no-index` of the checkout (the in-tree PEP 517 backend builds with CMake in
a folder of its own, build-pip-cpXY/, never build/), and a tiny package made here as a
wheel and installed with the same pip. The venv's wsgid, run by its path with no
activation, serves an app that imports that package (so from the venv's site-packages,
with the venv's sys.prefix); `wsgid --version` names the venv's Python; the venv's
wsgictl answers `status` over the control socket; the binaries find their libpython.
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


def make_tiny_wheel(folder):
    """tinypkg-1.0-py3-none-any.whl, written by hand (no build backend needed offline)."""
    files = {"tinypkg/__init__.py": b"GREETING = 'hello from tinypkg'\n",
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


def pythons_to_cover():
    found = {"3.11": pythons.DEBIAN_PYTHON}
    found.update(pythons.pyenv_pythons(("3.12", "3.13")))
    return found


class PipInstallTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="wsgid-pip-test-")
        self.addCleanup(shutil.rmtree, self.tmp, ignore_errors=True)
        self.wheel = make_tiny_wheel(self.tmp)

    def install(self, python, minor):
        """A fresh venv with wsgid and tinypkg installed offline; returns the venv."""
        venv = os.path.join(self.tmp, "venv" + minor)
        log = os.path.join(self.tmp, "pip-%s.log" % minor)
        env = pythons.build_env()
        # Beside build/, never it: same depth, so ccache shares the Python-free objects.
        build_dir = os.path.join(harness.REPO, "build-pip-cp" + minor.replace(".", ""))
        self.addCleanup(shutil.rmtree, build_dir, ignore_errors=True)
        env.update(WSGID_WHEEL_BUILD_DIR=build_dir, WSGID_BUILD_TYPE="RelWithDebInfo",
                   PIP_DISABLE_PIP_VERSION_CHECK="1")
        build_mtime = self.build_dir_mtime()
        pythons.run_logged([python, "-m", "venv", venv], log, env, 300)
        pip = os.path.join(venv, "bin", "pip")
        pythons.run_logged([pip, "install", "--no-index", harness.REPO], log, env,
                           PIP_TIMEOUT)
        pythons.run_logged([pip, "install", "--no-index", self.wheel], log, env, 300)
        self.assertEqual(self.build_dir_mtime(), build_mtime, "pip touched build/")
        return venv

    @staticmethod
    def build_dir_mtime():
        path = os.path.join(harness.REPO, "build")
        return os.stat(path).st_mtime_ns if os.path.exists(path) else None

    def serve_from(self, venv, version):
        """The venv's wsgid by path, no activation: the app, --version, wsgictl status."""
        bin_dir = os.path.join(venv, "bin")
        env = {k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"}
        out = subprocess.run([os.path.join(bin_dir, "wsgid"), "--version"], env=env,
                             capture_output=True, text=True, timeout=60).stdout
        self.assertIn("Python " + version, out)
        ldd = subprocess.run(["ldd", os.path.join(bin_dir, "wsgid-worker")],
                             capture_output=True, text=True, timeout=60).stdout
        self.assertIn("libpython" + version.rsplit(".", 1)[0], ldd)
        self.assertNotIn("not found", ldd)
        app_dir = os.path.join(self.tmp, "app")
        os.makedirs(app_dir, exist_ok=True)
        with open(os.path.join(app_dir, "tinyapp.py"), "w") as f:
            f.write(APP)
        port = harness.free_port()
        sock = os.path.join(self.tmp, "ctl-%s.sock" % version)
        log = open(os.path.join(self.tmp, "wsgid-%s.log" % version), "wb")
        proc = subprocess.Popen([os.path.join(bin_dir, "wsgid"), "-b", "127.0.0.1:%d" % port,
                                 "-w", "1", "--ops-bind", "off", "--control-socket", sock,
                                 "--chdir", app_dir, "tinyapp:app"],
                                env=env, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True, cwd=self.tmp)
        try:
            self.assertTrue(harness.wait_for_port("127.0.0.1", port, 60, proc),
                            open(log.name).read())
            status, body = harness.get("http://127.0.0.1:%d/" % port)
            greeting, prefix, module = body.decode().split("|")
            self.assertEqual(greeting, "hello from tinypkg")
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
        covered = []
        for minor, python in pythons_to_cover().items():
            with self.subTest(python=python):
                t0 = time.monotonic()
                venv = self.install(python, minor)
                version = pythons.version_of(os.path.join(venv, "bin", "python"))
                self.serve_from(venv, version)
                covered.append("%s (%s) in %.0f s" % (version, python, time.monotonic() - t0))
        print("\npip install: covered\n  " + "\n  ".join(covered), file=sys.stderr)
        self.assertTrue(covered)


if __name__ == "__main__":
    unittest.main()
