"""deploy/docker/Dockerfile, checked without a container engine (none runs here).

The build context is the top of the checkout (`docker build -f deploy/docker/Dockerfile .`).
Checked: Debian bookworm stages; every COPY source exists in the context and is not
excluded by Dockerfile.dockerignore; the build stage installs the Makefile's build packages,
copies every directory CMake needs and runs `make build`; what it copies out of the build
stage is what `make build` produces; the runtime stage installs a package for every shared
library the built binaries load (ldd on this Debian 12 build); the entry point is exec form
and its arguments are valid wsgid options serving an app the image contains, on exposed
ports, as a non-root user, with a writable control socket directory and a health check on
/readyz.
"""
import json
import os
import sys
import re
import shlex
import subprocess
import unittest
from fnmatch import fnmatch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

DOCKERFILE = os.path.join(harness.REPO, "deploy", "docker", "Dockerfile")
IGNORE = DOCKERFILE + ".dockerignore"


def instructions():
    """[(stage index, KEYWORD, argument text)] with continuations joined, comments dropped."""
    with open(DOCKERFILE) as f:
        lines = f.read().splitlines()
    out, buf, stage = [], "", -1
    for line in lines:
        if not buf and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if buf and line.lstrip().startswith("#"):
            continue  # a comment inside a continued instruction
        if line.rstrip().endswith("\\"):
            buf += line.rstrip()[:-1] + " "
            continue
        buf += line
        keyword, _, arg = buf.strip().partition(" ")
        keyword = keyword.upper()
        if keyword == "FROM":
            stage += 1
        out.append((stage, keyword, arg.strip()))
        buf = ""
    return out


def apt_packages(arg):
    m = re.search(r"apt-get install ([^&]*)", arg)
    return [w for w in m.group(1).split() if not w.startswith("-")] if m else []


def copy_parts(arg):
    """(--from value or None, [sources], destination) of a COPY."""
    words = shlex.split(arg)
    frm = None
    while words and words[0].startswith("--"):
        if words[0].startswith("--from="):
            frm = words[0].split("=", 1)[1]
        words.pop(0)
    return frm, words[:-1], words[-1]


def ignored(path):
    """Whether the .dockerignore excludes path (or a directory above it). Patterns match
    from the context root; a leading **/ matches at any depth."""
    with open(IGNORE) as f:
        patterns = [p.strip().rstrip("/") for p in f if p.strip() and not p.startswith("#")]
    parts = path.rstrip("/").split("/")
    for i in range(1, len(parts) + 1):
        prefix = "/".join(parts[:i])
        for p in patterns:
            if fnmatch(prefix, p):
                return True
            if p.startswith("**/") and fnmatch(parts[i - 1], p[3:]):
                return True
    return False


def installed_depends():
    """{package: set of packages it depends on} for every installed package (first
    alternative of each dependency)."""
    proc = subprocess.run(["dpkg-query", "-W", "-f=${Package}\t${Depends},${Pre-Depends}\n"],
                          capture_output=True, text=True, check=True)
    out = {}
    for line in proc.stdout.splitlines():
        package, _, deps = line.partition("\t")
        names = set()
        for dep in deps.split(","):
            dep = dep.split("|")[0].strip()
            if dep:
                names.add(re.split(r"[\s(:]", dep)[0])
        out.setdefault(package, set()).update(names)
    return out


def closure(packages):
    depends = installed_depends()
    seen, todo = set(), list(packages)
    while todo:
        p = todo.pop()
        if p not in seen:
            seen.add(p)
            todo.extend(depends.get(p, set()) - seen)
    return seen


class DockerfileTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.ins = instructions()
        cls.stages = [a for _, k, a in cls.ins if k == "FROM"]
        cls.final = len(cls.stages) - 1

    def of(self, keyword, stage=None):
        return [a for s, k, a in self.ins if k == keyword and (stage is None or s == stage)]

    def test_syntax_directive_and_known_instructions(self):
        with open(DOCKERFILE) as f:
            self.assertTrue(f.readline().startswith("# syntax=docker/dockerfile:1"))
        known = {"FROM", "RUN", "COPY", "WORKDIR", "ENV", "USER", "EXPOSE", "STOPSIGNAL",
                 "HEALTHCHECK", "ENTRYPOINT", "CMD", "ARG", "LABEL"}
        self.assertEqual({k for _, k, _ in self.ins} - known, set())

    def test_debian_bookworm(self):
        self.assertEqual(len(self.stages), 2)
        for frm in self.stages:
            image = frm.split()[0]
            self.assertRegex(image, r"^debian:bookworm(-slim)?$")
        self.assertRegex(self.stages[0], r" AS build$")

    def test_build_stage_runs_make_build_with_the_makefile_packages(self):
        runs = " ".join(self.of("RUN", 0))
        self.assertIn("make build", runs)
        with open(os.path.join(harness.REPO, "Makefile")) as f:
            makefile = f.read().replace("\\\n", " ")
        needed = re.search(r"^BUILD_PACKAGES :=(.*)$", makefile, re.M).group(1).split()
        self.assertEqual(set(needed) - set(apt_packages(runs)), set())

    def test_copy_sources_exist_in_the_context(self):
        copied = []
        for arg in self.of("COPY"):
            frm, sources, _ = copy_parts(arg)
            if frm is not None:
                continue
            for src in sources:
                with self.subTest(src):
                    path = os.path.join(harness.REPO, src)
                    self.assertTrue(os.path.exists(path), "COPY %s: no such file" % src)
                    self.assertFalse(ignored(src), "COPY %s is excluded by .dockerignore" % src)
                    copied.append(src.rstrip("/"))
        # What CMake reads: the top files and every add_subdirectory.
        with open(os.path.join(harness.REPO, "CMakeLists.txt")) as f:
            subdirs = re.findall(r"add_subdirectory\((\w+)\)", f.read())
        self.assertEqual(set(subdirs + ["CMakeLists.txt", "Makefile"]) - set(copied), set())
        self.assertTrue(ignored("build/CMakeCache.txt"))
        self.assertTrue(ignored("worker/__pycache__/x.pyc"))
        self.assertFalse(ignored("worker/server.cc"))

    def test_copies_from_the_build_stage_are_built_binaries(self):
        workdir = self.of("WORKDIR", 0)[-1]
        for arg in self.of("COPY"):
            frm, sources, dest = copy_parts(arg)
            if frm is None:
                continue
            self.assertEqual(frm, "build")
            for src in sources:
                self.assertTrue(src.startswith(workdir + "/build/bin/"), src)
                self.assertTrue(os.path.exists(os.path.join(harness.BIN_DIR,
                                                            os.path.basename(src))), src)
            self.assertEqual(dest, "/usr/local/bin/")
            names = {os.path.basename(s) for s in sources}
            self.assertLessEqual({"wsgid", "wsgid-worker"}, names)  # found next to wsgid

    def test_runtime_packages_cover_the_shared_libraries(self):
        libs = set()
        for name in ("wsgid", "wsgid-worker", "wsgictl"):
            out = subprocess.run(["ldd", os.path.join(harness.BIN_DIR, name)],
                                 capture_output=True, text=True, check=True).stdout
            libs.update(re.findall(r"=> (/\S+)", out))
        paths = sorted({p for lib in libs for p in (lib, os.path.realpath(lib))})
        owners = {}  # one dpkg -S for all (it is slow per call)
        out = subprocess.run(["dpkg", "-S"] + paths, capture_output=True, text=True).stdout
        for line in out.splitlines():
            package, _, path = line.partition(": ")
            owners[path] = package.split(":")[0]
        needed = set()
        for lib in libs:
            owner = owners.get(os.path.realpath(lib)) or owners.get(lib)
            self.assertIsNotNone(owner, "no package owns %s" % lib)
            needed.add(owner)
        installed = apt_packages(" ".join(self.of("RUN", self.final)))
        self.assertIn("python3", installed)  # the standard library and gunicorn.conf.py
        # bookworm-slim has apt (and so libstdc++6) and the required packages.
        provided = closure(installed + ["apt", "libc6"])
        self.assertEqual(needed - provided, set(), "shared libraries the image lacks")

    def test_entrypoint_and_cmd_serve_the_example(self):
        entry = json.loads(self.of("ENTRYPOINT")[-1])  # exec form: wsgid is PID 1
        cmd = json.loads(self.of("CMD")[-1])
        self.assertEqual(entry, ["wsgid"])
        # --check-config imports the app (issue 15): the image's /srv/app is examples/ here
        proc = subprocess.run([harness.WSGID, "--check-config"]
                              + [harness.EXAMPLES if a == "/srv/app" else a for a in cmd],
                              capture_output=True, text=True, timeout=30)
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        args = dict(zip(cmd, cmd[1:]))
        module = cmd[-1].split(":")[0]
        # The app is copied into the --chdir directory.
        dests = {}
        for arg in self.of("COPY", self.final):
            frm, sources, dest = copy_parts(arg)
            if frm is None:
                for s in sources:
                    dests[os.path.join(dest, os.path.basename(s))] = s
        self.assertIn(os.path.join(args["--chdir"], module + ".py"), dests)
        self.assertEqual(self.of("WORKDIR", self.final)[-1], args["--chdir"])
        # Ports: bound on every interface and exposed.
        exposed = {int(p) for e in self.of("EXPOSE") for p in e.split()}
        for opt in ("--bind", "--ops-bind"):
            host, _, port = args[opt].rpartition(":")
            self.assertEqual(host, "0.0.0.0", opt)
            self.assertIn(int(port), exposed, opt)
        # The control socket's directory is created for the runtime user.
        control_dir = os.path.dirname(args["--control-socket"])
        self.assertTrue(any(re.search(r"install -d -o wsgid -g wsgid .*%s\b" % control_dir, r)
                            for r in self.of("RUN", self.final)))
        # Health check on /readyz of the ops port.
        health = self.of("HEALTHCHECK")[-1]
        self.assertIn("127.0.0.1:%s/readyz" % args["--ops-bind"].rpartition(":")[2], health)

    def test_runs_as_non_root(self):
        user = self.of("USER", self.final)[-1]
        uid = user.split(":")[0]
        self.assertTrue(uid.isdigit() and int(uid) != 0, user)  # numeric: runAsNonRoot works
        self.assertEqual(self.of("STOPSIGNAL"), ["SIGTERM"])


if __name__ == "__main__":
    unittest.main()
