"""Install and packages (packaging/CMakeLists.txt), from the build tree the tests run
(WSGID_BIN_DIR's parent; nothing is built again):

- `cmake --install` into a temporary prefix puts the binaries, the man pages, the bash
  completions and share/wsgid/{dashboards,deploy} there, and that prefix's wsgid serves an
  app with that prefix's worker;
- `cpack -G DEB` (what `make deb` runs) builds a package whose metadata and contents
  dpkg-deb lists, and whose files, extracted with dpkg-deb -x into a temporary root, serve;
  dpkg -i installs it (the installed wsgid serves) and dpkg -r removes every file of it;
- `man -l` renders both generated pages, with the options of --help;
- the generated completion scripts complete in a real bash: `wsgictl sc` to `scale`.
"""
import glob
import os
import re
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

BUILD_DIR = os.path.dirname(harness.BIN_DIR)


class PrefixServer(harness.Server):
    """harness.Server running another wsgid binary (an installed one)."""

    def __init__(self, wsgid, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.wsgid = wsgid

    def command(self):
        cmd = super().command()
        cmd[0] = self.wsgid
        return cmd


def serves_hello(test, wsgid):
    """Runs `wsgid` (2 workers) on hello:app: it answers, and its workers are the
    wsgid-worker beside it."""
    with PrefixServer(wsgid, "hello:app", workers=2) as server:
        status, body = harness.get(server.url + "/")
        test.assertEqual((status, body), (200, b"Hello, World!"), server.log())
        workers = harness.worker_pids(server.proc.pid)
        test.assertTrue(workers, server.log())
        for pid in workers:
            test.assertEqual(os.readlink("/proc/%d/exe" % pid),
                             os.path.join(os.path.dirname(wsgid), "wsgid-worker"))
        test.assertEqual(server.stop(), 0, server.log())


def complete(script, *words):
    """What bash completes for the command line `words` (the last word being typed)
    with the completion `script` sourced: the list of candidates."""
    program = words[0]
    fn = "_" + re.sub(r"\W", "_", program)
    cmd = ('source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(( $# - 1 )); '
           'COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}; %s; printf "%%s\\n" "${COMPREPLY[@]}"'
           % fn)
    proc = subprocess.run(["bash", "--norc", "--noprofile", "-c", cmd, "bash", script]
                          + list(words), capture_output=True, text=True, timeout=30)
    if proc.returncode != 0:
        raise AssertionError("bash failed: %s" % proc.stderr)
    return [w for w in proc.stdout.splitlines() if w]


class InstallTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.cmake = harness.require_tool("cmake", "Debian: cmake")
        harness.require_binaries("wsgid", "wsgid-worker", "wsgictl")
        cls.tmp = tempfile.TemporaryDirectory(prefix="wsgid-install-")
        cls.prefix = os.path.join(cls.tmp.name, "prefix")
        proc = subprocess.run([cls.cmake, "--install", BUILD_DIR, "--prefix", cls.prefix],
                              capture_output=True, text=True, timeout=120)
        if proc.returncode != 0:
            raise AssertionError("cmake --install failed:\n%s%s" % (proc.stdout, proc.stderr))

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def path(self, *parts):
        return os.path.join(self.prefix, *parts)

    def test_installs_the_files(self):
        for rel in ("bin/wsgid", "bin/wsgid-worker", "bin/wsgictl"):
            self.assertTrue(os.access(self.path(rel), os.X_OK), rel)
        for rel in ("share/man/man1/wsgid.1", "share/man/man1/wsgictl.1",
                    "share/bash-completion/completions/wsgid",
                    "share/bash-completion/completions/wsgictl",
                    "share/wsgid/dashboards/wsgid.json",
                    "share/wsgid/dashboards/wsgid.png",  # the dashboards README shows it
                    "share/wsgid/deploy/RUNBOOK.md",
                    "share/wsgid/deploy/systemd/wsgid.socket",
                    "share/wsgid/deploy/prometheus/wsgid-alerts.yml",
                    "share/wsgid/deploy/k8s/kustomization.yaml",
                    "share/doc/wsgid/README.md"):
            self.assertTrue(os.path.isfile(self.path(rel)), rel)
            self.assertGreater(os.path.getsize(self.path(rel)), 0, rel)
        # The unit names the wsgid of this prefix, not the source's /usr/local/bin.
        with open(self.path("share/wsgid/deploy/systemd/wsgid.service")) as f:
            unit = f.read()
        self.assertEqual(re.findall(r"^ExecStart=(\S+)", unit, re.M), [self.path("bin/wsgid")])
        self.assertNotIn("/usr/local/bin/wsgid", unit)

    def test_the_installed_wsgid_serves(self):
        serves_hello(self, self.path("bin/wsgid"))

    def test_man_pages_render(self):
        man = harness.require_tool("man", "Debian: man-db")
        for prog, options in (("wsgid", ["--workers", "--graceful-timeout", "--ops-bind"]),
                              ("wsgictl", ["--socket", "scale", "wait-ready"])):
            page = self.path("share/man/man1/%s.1" % prog)
            proc = subprocess.run([man, "-l", page], capture_output=True, text=True,
                                  timeout=60, env=dict(os.environ, MANPAGER="cat",
                                                       PAGER="cat", MANWIDTH="100"))
            self.assertEqual(proc.returncode, 0, proc.stderr)
            text = re.sub(r".\x08", "", proc.stdout)  # overstrike bold/underline
            self.assertIn("NAME", text)
            self.assertRegex(text, r"%s\s+-\s+\S" % prog)
            self.assertIn("SYNOPSIS" if "SYNOPSIS" in text else "DESCRIPTION", text)
            for option in options:
                self.assertIn(option, text, "%s.1 lacks %s" % (prog, option))
            self.assertIn(harness_version(), text)

    def test_completion_of_wsgictl(self):
        script = self.path("share/bash-completion/completions/wsgictl")
        self.assertEqual(complete(script, "wsgictl", "sc"), ["scale"])
        self.assertEqual(complete(script, "wsgictl", "-s", "/run/x.sock", "sc"), ["scale"])
        self.assertEqual(complete(script, "wsgictl", "worker", "r"), ["restart"])
        self.assertEqual(complete(script, "wsgictl", "-o", "j"), ["json"])
        self.assertIn("--socket", complete(script, "wsgictl", "--so"))
        # A command's own options (from its help entry), and the global ones after it.
        self.assertEqual(sorted(complete(script, "wsgictl", "top", "--o")), ["--once", "--output"])
        self.assertEqual(complete(script, "wsgictl", "autoscale", "--m"), ["--min", "--max"])
        self.assertEqual(complete(script, "wsgictl", "autoscale", "o"), ["on", "off"])
        self.assertEqual(complete(script, "wsgictl", "stop", "--s"), ["--socket"])
        # Every command of `wsgictl --help` is offered.
        help_text = subprocess.run([self.path("bin/wsgictl"), "--help"], capture_output=True,
                                   text=True, timeout=30).stdout
        commands = re.findall(r"^  ([a-z][a-z-]*)", help_text.split("options:")[0], re.M)
        self.assertIn("scale", commands)
        self.assertEqual(sorted(complete(script, "wsgictl", "")), sorted(commands))

    def test_completion_of_wsgid(self):
        script = self.path("share/bash-completion/completions/wsgid")
        self.assertEqual(complete(script, "wsgid", "--graceful-t"), ["--graceful-timeout"])
        self.assertIn("--workers", complete(script, "wsgid", "--wor"))
        self.assertIn("-w", complete(script, "wsgid", "-"))
        # An option's value is not completed as an option.
        self.assertEqual(complete(script, "wsgid", "--workers", "--"), [])


class PlainBuildTest(unittest.TestCase):
    def test_tests_are_optional(self):
        """-DBUILD_TESTING=OFF configures with GoogleTest made unfindable, and has no test
        target; the install targets are still there. (Configure only: nothing is built.)"""
        cmake = harness.require_tool("cmake", "Debian: cmake")
        with tempfile.TemporaryDirectory(prefix="wsgid-plain-") as tmp:
            proc = subprocess.run(
                [cmake, "-S", harness.REPO, "-B", tmp, "-DPython_EXECUTABLE=" + harness.PYTHON,
                 "-DPYBIND11_FINDPYTHON=ON", "-DBUILD_TESTING=OFF",
                 "-DCMAKE_DISABLE_FIND_PACKAGE_GTest=ON"],
                capture_output=True, text=True, timeout=120)
            self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
            targets = subprocess.run([cmake, "--build", tmp, "--target", "help"],
                                     capture_output=True, text=True, timeout=60).stdout
        names = set(re.findall(r"^\.\.\. (\S+)", targets, re.M))
        self.assertNotIn("unit_tests", names)
        self.assertLessEqual({"wsgid", "wsgid-worker", "wsgictl", "man_pages",
                              "bash_completions", "install", "package"}, names)


def harness_version():
    out = subprocess.run([harness.WSGID, "--version"], capture_output=True, text=True,
                         timeout=30).stdout
    return out.splitlines()[0].split()[-1]  # "wsgid 0.1.0", then the Python line


class DebianPackageTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.cpack = harness.require_tool("cpack", "Debian: cmake")
        cls.dpkg_deb_tool = harness.require_tool("dpkg-deb", "Debian: dpkg")
        harness.require_tool("dpkg-shlibdeps", "Debian: dpkg-dev")
        cls.tmp = tempfile.TemporaryDirectory(prefix="wsgid-deb-")
        # What `make deb` runs, with the package written here instead of the build tree.
        proc = subprocess.run([cls.cpack, "-G", "DEB", "--config",
                               os.path.join(BUILD_DIR, "CPackConfig.cmake"),
                               "-B", cls.tmp.name], capture_output=True, text=True,
                              timeout=300, cwd=BUILD_DIR)
        if proc.returncode != 0:
            raise AssertionError("cpack failed:\n%s%s" % (proc.stdout, proc.stderr))
        debs = glob.glob(os.path.join(cls.tmp.name, "wsgid_*.deb"))
        if len(debs) != 1:
            raise AssertionError("expected one wsgid_*.deb, got %s" % debs)
        cls.deb = debs[0]

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def dpkg_deb(self, *args):
        proc = subprocess.run([self.dpkg_deb_tool] + list(args), capture_output=True, text=True,
                              timeout=60)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        return proc.stdout

    def test_metadata(self):
        info = self.dpkg_deb("-I", self.deb)
        fields = dict(re.findall(r"^ (\S+): (.*)$", info, re.M))
        self.assertEqual(fields.get("Package"), "wsgid")
        self.assertEqual(fields.get("Version"), harness_version())
        self.assertEqual(fields.get("Architecture"),
                         subprocess.run(["dpkg", "--print-architecture"], capture_output=True,
                                        text=True).stdout.strip())
        depends = fields.get("Depends", "")
        # dpkg-shlibdeps found the libraries the binaries link.
        for lib in ("libpython3", "libstdc++6", "python3"):
            self.assertIn(lib, depends)
        self.assertTrue(fields.get("Maintainer"))
        self.assertTrue(fields.get("Description"))

    def test_contents(self):
        listing = self.dpkg_deb("-c", self.deb)
        paths = {line.split()[-1] for line in listing.splitlines()}
        for rel in ("./usr/bin/wsgid", "./usr/bin/wsgid-worker", "./usr/bin/wsgictl",
                    "./usr/share/man/man1/wsgid.1", "./usr/share/man/man1/wsgictl.1",
                    "./usr/share/bash-completion/completions/wsgictl",
                    "./usr/share/wsgid/dashboards/wsgid.json",
                    "./usr/share/wsgid/deploy/systemd/wsgid.service"):
            self.assertIn(rel, paths)
        # Owned by root, nothing outside /usr.
        for line in listing.splitlines():
            self.assertIn(" root/root ", line)
            self.assertTrue(line.split()[-1].startswith("./usr"), line)

    def test_extracted_files_serve(self):
        root = os.path.join(self.tmp.name, "root")
        self.dpkg_deb("-x", self.deb, root)
        with open(os.path.join(root, "usr/share/wsgid/deploy/systemd/wsgid.service")) as f:
            self.assertEqual(re.findall(r"^ExecStart=(\S+)", f.read(), re.M), ["/usr/bin/wsgid"])
        serves_hello(self, os.path.join(root, "usr", "bin", "wsgid"))

    def test_installs_and_removes_cleanly(self):
        """dpkg -i on this machine (its dependencies are the build's, so they are here),
        the installed /usr/bin/wsgid serves, then dpkg -r leaves none of its files and
        no package behind."""
        dpkg = harness.require_tool("dpkg", "Debian: dpkg")
        if os.geteuid() != 0:
            raise AssertionError("installing a package needs root (make test runs as root)")
        if self.package_state() is not None:
            raise AssertionError("a wsgid package is installed already: remove it first")
        files = [line.split()[-1][1:] for line in self.dpkg_deb("-c", self.deb).splitlines()
                 if not line.startswith("d")]
        try:
            proc = subprocess.run([dpkg, "-i", self.deb], capture_output=True, text=True,
                                  timeout=120)
            self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
            self.assertEqual(self.package_state(), "install ok installed")
            serves_hello(self, "/usr/bin/wsgid")
        finally:
            proc = subprocess.run([dpkg, "-r", "wsgid"], capture_output=True, text=True,
                                  timeout=120)
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        self.assertIsNone(self.package_state())
        self.assertEqual([f for f in files if os.path.lexists(f)], [])

    @staticmethod
    def package_state():
        """dpkg's status of the wsgid package, or None when dpkg knows nothing of it."""
        proc = subprocess.run(["dpkg-query", "-W", "-f", "${Status}", "wsgid"],
                              capture_output=True, text=True, timeout=30)
        return proc.stdout.strip() if proc.returncode == 0 else None


if __name__ == "__main__":
    unittest.main()
