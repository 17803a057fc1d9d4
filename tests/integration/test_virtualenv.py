"""--virtualenv PATH (-H, --home, $VIRTUAL_ENV): the app's virtualenv at run time (issue 14).

A venv of Debian's python3 (the default build's Python) made with --system-site-packages:
the worker's sys.prefix is the venv, a package found only in the venv's site-packages
imports, and Debian's Flask and Django (dist-packages, through the system site-packages)
are served from it. A relative path is the start directory's, whatever --chdir says. A
gunicorn.conf.py that imports a venv-only package is read by the venv's python. A venv of
another Python major.minor, and a folder that is no venv, are refused at start with exit 2
and a message naming both versions (or saying it is no venv), also under --check-config,
and leave no process behind.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import unittest
import urllib.request

import harness
import pythons

DEBIAN_PYTHON = "/usr/bin/python3"

PROBE_APP = textwrap.dedent("""\
    import json, sys
    import venv_only_pkg

    def app(environ, start_response):
        body = json.dumps({"prefix": sys.prefix, "base_prefix": sys.base_prefix,
                           "executable": sys.executable, "pkg": venv_only_pkg.WHERE,
                           "version": "%d.%d" % sys.version_info[:2]}).encode()
        start_response("200 OK", [("Content-Type", "application/json")])
        return [body]
""")

FLASK_APP = textwrap.dedent("""\
    import sys
    import flask
    app = flask.Flask(__name__)

    @app.get("/")
    def index():
        return {"prefix": sys.prefix, "flask": flask.__file__}
""")


def make_venv(python, path, *flags):
    subprocess.run([python, "-m", "venv", "--without-pip", *flags, path], check=True,
                   timeout=120, capture_output=True)
    return path


def site_packages(venv):
    lib = os.path.join(venv, "lib")
    (pyver,) = [d for d in os.listdir(lib) if d.startswith("python")]
    return os.path.join(lib, pyver, "site-packages")


def workers_serving(app_dir):
    """Pids of processes whose command line names app_dir (a worker left behind)."""
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open("/proc/%s/cmdline" % pid, "rb") as f:
                if app_dir.encode() in f.read():
                    found.append(int(pid))
        except OSError:
            pass
    return found


def other_python():
    """A CPython of another major.minor than Debian's 3.11 (pyenv's, found as the version
    matrix finds it: `pyenv root`), or None."""
    found = pythons.pyenv_pythons(("3.12", "3.13", "3.10", "3.9"))
    for minor in ("3.12", "3.13", "3.10", "3.9"):
        if minor in found:
            return found[minor]
    return None


class VirtualenvTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        harness.require_binaries("wsgid", "wsgid-worker")
        cls.tmp = tempfile.mkdtemp(prefix="wsgid-venv-test-")
        cls.venv = make_venv(DEBIAN_PYTHON, os.path.join(cls.tmp, "venv"),
                             "--system-site-packages")
        with open(os.path.join(site_packages(cls.venv), "venv_only_pkg.py"), "w") as f:
            f.write("WHERE = __file__\nWORKERS = 3\n")
        cls.app_dir = os.path.join(cls.tmp, "app")
        os.mkdir(cls.app_dir)
        for name, text in (("probe.py", PROBE_APP), ("flaskprobe.py", FLASK_APP)):
            with open(os.path.join(cls.app_dir, name), "w") as f:
                f.write(text)
        cls.env = {k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"}

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def server(self, app, *flags, env=None, chdir=None, cwd=None):
        """A Server whose environment is exactly self.env plus `env`."""
        server = harness.Server(app, *flags, chdir=chdir or self.app_dir, cwd=cwd)
        server.env = dict(self.env, **(env or {}))
        return server

    def probe(self, *flags, env=None):
        with self.server("probe:app", *flags, env=env) as server:
            status, body = harness.get(server.url + "/")
            self.assertEqual(status, 200)
            return json.loads(body)

    def test_worker_runs_in_the_virtualenv(self):
        for flag in ("--virtualenv", "-H", "--home"):
            with self.subTest(flag=flag):
                info = self.probe(flag, self.venv)
                self.assertEqual(info["prefix"], self.venv)
                self.assertEqual(info["base_prefix"], "/usr")
                self.assertTrue(info["pkg"].startswith(site_packages(self.venv)), info)

    def test_relative_path_is_the_start_directorys_whatever_chdir_says(self):
        # Started in tmp/, --chdir app: "venv" is tmp/venv for the master and the workers.
        with self.server("probe:app", "--virtualenv", "venv", chdir="app",
                         cwd=self.tmp) as server:
            status, body = harness.get(server.url + "/")
        self.assertEqual(json.loads(body)["prefix"], self.venv)
        with self.server("probe:app", chdir="app", cwd=self.tmp,
                         env={"VIRTUAL_ENV": "venv"}) as server:
            status, body = harness.get(server.url + "/")
        self.assertEqual(json.loads(body)["prefix"], self.venv)
        proc = subprocess.run([harness.WSGID, "--check-config", "--chdir", "app",
                               "--virtualenv", "./venv/", "probe:app"], env=self.env,
                              cwd=self.tmp, capture_output=True, text=True, timeout=60)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        # app/inner is a venv as seen from app/, but the path is the start directory's.
        inner = os.path.join(self.app_dir, "inner")
        os.makedirs(os.path.join(inner, "bin"), exist_ok=True)
        shutil.copy(os.path.join(self.venv, "pyvenv.cfg"), inner)
        for check in ((), ("--check-config",)):
            with self.subTest(check=check):
                code, err = self.refused(*check, "--virtualenv", "inner", cwd=self.tmp)
                self.assertEqual(code, 2, err)
                self.assertIn("--virtualenv %s: not a virtualenv" %
                              os.path.join(self.tmp, "inner"), err)

    def test_gunicorn_conf_is_read_by_the_virtualenvs_python(self):
        # The file imports what only the venv has: the master's reader must run there.
        conf = os.path.join(self.tmp, "venvconf.py")
        with open(conf, "w") as f:
            f.write("import venv_only_pkg\nworkers = venv_only_pkg.WORKERS\n")
        for args, env in ((("--virtualenv", self.venv), None),
                          (("-H", "venv"), None),
                          ((), {"VIRTUAL_ENV": self.venv})):
            with self.subTest(args=args, env=env):
                proc = subprocess.run(
                    [harness.WSGID, "--print-config", "-c", conf, *args, "probe:app"],
                    env=dict(self.env, **(env or {})), cwd=self.tmp, capture_output=True,
                    text=True, timeout=60)
                self.assertEqual(proc.returncode, 0, proc.stderr)
                self.assertRegex(proc.stdout, r"(?m)^workers += 3  # file$")
        # Without the venv the embedded Python reads it, and cannot import the package.
        proc = subprocess.run([harness.WSGID, "--print-config", "-c", conf, "probe:app"],
                              env=self.env, cwd=self.tmp, capture_output=True, text=True,
                              timeout=60)
        self.assertEqual(proc.returncode, 2, proc.stderr)
        self.assertIn("venv_only_pkg", proc.stderr)

    def test_virtual_env_variable_is_the_default(self):
        info = self.probe(env={"VIRTUAL_ENV": self.venv})
        self.assertEqual(info["prefix"], self.venv)

    def test_without_a_virtualenv_the_venv_package_is_not_importable(self):
        proc = subprocess.run([harness.WSGID, "-b", "127.0.0.1:%d" % harness.free_port(),
                               "--ops-bind", "off", "--control-socket", "off", "-w", "1",
                               "--chdir", self.app_dir, "probe:app"],
                              env=self.env, capture_output=True, text=True, timeout=60)
        self.assertNotEqual(proc.returncode, 0)
        self.assertIn("venv_only_pkg", proc.stdout + proc.stderr)

    def test_debian_flask_from_a_system_site_packages_venv(self):
        with self.server("flaskprobe:app", "--virtualenv", self.venv) as server:
            status, body = harness.get(server.url + "/")
        info = json.loads(body)
        self.assertEqual(info["prefix"], self.venv)
        self.assertTrue(info["flask"].startswith("/usr/lib/python3/dist-packages/"), info)

    def test_debian_django_from_a_system_site_packages_venv(self):
        with self.server("examplesite.wsgi:application", "--virtualenv", self.venv,
                         "-e", "DJANGO_SETTINGS_MODULE=examplesite.settings",
                         chdir=os.path.join(harness.EXAMPLES, "django_site")) as server:
            request = urllib.request.Request(server.url + "/", headers={"Host": "localhost"})
            with urllib.request.urlopen(request, timeout=10) as response:
                self.assertEqual(response.status, 200)
                self.assertIn(b"csrfmiddlewaretoken", response.read())

    def refused(self, *args, env=None, cwd=None):
        """Runs wsgid expecting a refusal at start: (exit code, stderr)."""
        proc = subprocess.run([harness.WSGID, "-b", "127.0.0.1:%d" % harness.free_port(),
                               "--ops-bind", "off", "--control-socket", "off", "-w", "1",
                               "--chdir", self.app_dir, *args, "probe:app"],
                              env=env or self.env, capture_output=True, text=True, timeout=60,
                              cwd=cwd)
        self.assertEqual(workers_serving(self.app_dir), [], "a process was left running")
        return proc.returncode, proc.stderr

    def test_wrong_version_is_refused_with_both_versions(self):
        python = other_python()
        if python:
            venv = make_venv(python, os.path.join(self.tmp, "other"))
        else:  # no pyenv: a pyvenv.cfg as venv writes it is what is checked
            venv = os.path.join(self.tmp, "other")
            os.makedirs(os.path.join(venv, "bin"), exist_ok=True)
            with open(os.path.join(venv, "pyvenv.cfg"), "w") as f:
                f.write("home = /opt/python/bin\ninclude-system-site-packages = false\n"
                        "version = 3.12.1\n")
        with open(os.path.join(venv, "pyvenv.cfg")) as f:
            venv_version = [l.split("=")[1].strip() for l in f if l.startswith("version")][0]
        debian = "%d.%d.%d" % tuple(json.loads(subprocess.run(
            [DEBIAN_PYTHON, "-c", "import sys,json;print(json.dumps(sys.version_info[:3]))"],
            capture_output=True, text=True, check=True).stdout))
        for args, env in ((("--virtualenv", venv), None), (("-H", venv), None),
                          (("--check-config", "--home", venv), None),
                          ((), dict(self.env, VIRTUAL_ENV=venv))):
            with self.subTest(args=args, env=bool(env)):
                code, err = self.refused(*args, env=env)
                self.assertEqual(code, 2, err)
                self.assertIn("Python " + venv_version, err)
                self.assertIn("Python " + debian, err)

    def test_not_a_virtualenv_is_refused(self):
        for args in (("--virtualenv", self.app_dir),
                     ("--check-config", "--virtualenv", self.app_dir),
                     ("--virtualenv", os.path.join(self.tmp, "missing"))):
            with self.subTest(args=args):
                code, err = self.refused(*args)
                self.assertEqual(code, 2, err)
                self.assertIn("not a virtualenv", err)

    def test_check_config_accepts_a_matching_virtualenv(self):
        # --check-config imports the app too (issue 15): from the app's folder.
        proc = subprocess.run([harness.WSGID, "--check-config", "--virtualenv", self.venv,
                               "--chdir", self.app_dir, "probe:app"], env=self.env, capture_output=True, text=True,
                              timeout=60)
        self.assertEqual(proc.returncode, 0, proc.stderr)

    def test_version_names_the_embedded_python(self):
        out = subprocess.run([harness.WSGID, "--version"], capture_output=True, text=True,
                             timeout=30, check=True).stdout
        embedded = subprocess.run([DEBIAN_PYTHON, "-c", "import platform;"
                                   "print(platform.python_version())"],
                                  capture_output=True, text=True, check=True).stdout.strip()
        if harness.BIN_DIR == os.path.join(harness.REPO, "build", "bin"):
            self.assertIn("Python " + embedded, out)
        else:
            self.assertRegex(out, r"Python 3\.\d+\.\d+")


if __name__ == "__main__":
    unittest.main()
