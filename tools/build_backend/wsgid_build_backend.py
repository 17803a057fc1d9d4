"""wsgid's PEP 517 build backend: standard library only, so that
`pip install --no-index /path/to/wsgid` builds with no package index reachable.

pip runs it with the Python that runs pip (a venv's python, usually). It configures and
builds wsgid with CMake against that venv's base interpreter (the python.org, pyenv or
distribution CPython the venv was made from: -DPython_EXECUTABLE=base_python()), in a
build folder of its own (never one of the checkout's build folders), and writes a wheel
whose .data/scripts holds wsgid, wsgid-worker and wsgictl: pip puts them in the venv's
bin/ (wsgid finds its worker beside itself, and takes the venv it is installed in as the
app's virtualenv by default). Nothing in the binaries names the venv that built them: pip
caches a wheel built from an sdist or a `name-version` folder and installs it into other
venvs of the same Python, and each must serve from its own venv. The binaries find their
libpython through the rpath CMake gives build-tree binaries. The wheel is tagged for that
CPython (cp312-cp312-linux_x86_64): it is no portable manylinux wheel, it is for the
machine that built it.

Environment:
  WSGID_WHEEL_BUILD_DIR       build there and keep the folder (default: a temporary one)
  CMAKE_BUILD_PARALLEL_LEVEL  compile jobs (default: the number of CPUs)
  CMAKE_CXX_COMPILER_LAUNCHER e.g. ccache: CMake reads it from the environment
  WSGID_BUILD_TYPE            CMake build type (default Release)
"""
import base64
import hashlib
import io
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import tempfile
import zipfile

NAME = "wsgid"
BINARIES = ("wsgid", "wsgid-worker", "wsgictl")
SUMMARY = "A supervising server for Python WSGI applications (Gunicorn-compatible)"
# What an sdist leaves out: build folders, VCS data, caches, bench results.
SDIST_SKIP = re.compile(r"^(build[^/]*|\.git|\.cache|tests/bench/results)(/|$)|__pycache__")


def _source_dir():
    return os.path.abspath(os.getcwd())


def _version():
    """The project version, from the top-level CMakeLists.txt (its one source)."""
    with open(os.path.join(_source_dir(), "CMakeLists.txt"), encoding="utf-8") as f:
        match = re.search(r"project\(\s*wsgid\s+VERSION\s+([0-9.]+)", f.read())
    if not match:
        raise RuntimeError("no `project(wsgid VERSION x.y.z)` in CMakeLists.txt")
    return match.group(1)


def _tag():
    """py-abi-platform of the running interpreter, e.g. cp312-cp312-linux_x86_64."""
    if sys.implementation.name != "cpython":
        raise RuntimeError("wsgid embeds CPython; this is %s" % sys.implementation.name)
    if not (3, 9) <= sys.version_info[:2] <= (3, 13):
        print("wsgid: warning: supported CPython versions are 3.9 to 3.13, this is %d.%d"
              % sys.version_info[:2], file=sys.stderr)
    py = "cp%d%d" % sys.version_info[:2]
    platform = re.sub(r"[-.]", "_", sysconfig.get_platform())
    return "%s-%s%s-%s" % (py, py, getattr(sys, "abiflags", ""), platform)


def _dist_info():
    return "%s-%s.dist-info" % (NAME, _version())


def _metadata():
    return ("Metadata-Version: 2.1\nName: %s\nVersion: %s\nSummary: %s\n"
            "Requires-Python: >=3.9\nLicense: see the source\n" % (NAME, _version(), SUMMARY))


def _wheel_file():
    return ("Wheel-Version: 1.0\nGenerator: wsgid_build_backend\nRoot-Is-Purelib: false\n"
            "Tag: %s\n" % _tag())


def get_requires_for_build_wheel(config_settings=None):
    return []


def get_requires_for_build_sdist(config_settings=None):
    return []


def prepare_metadata_for_build_wheel(metadata_directory, config_settings=None):
    path = os.path.join(metadata_directory, _dist_info())
    os.makedirs(path, exist_ok=True)
    for name, text in (("METADATA", _metadata()), ("WHEEL", _wheel_file())):
        with open(os.path.join(path, name), "w", encoding="utf-8") as f:
            f.write(text)
    return _dist_info()


def _run(cmd):
    print("wsgid_build_backend: " + " ".join(cmd), file=sys.stderr, flush=True)
    # Output to stderr: pip shows it on failure (and with -v).
    subprocess.run(cmd, check=True, stdout=sys.stderr)


def base_python():
    """The interpreter the running venv was made from (sys.executable outside a venv): the
    one the worker embeds, so that the binaries are the same whichever venv built them.
    sys._base_executable names it from 3.11 on; before, it is the venv's own python, and
    the base is found under sys.base_prefix."""
    if sys.prefix == sys.base_prefix:
        return sys.executable
    venv = os.path.realpath(sys.prefix)
    candidates = [getattr(sys, "_base_executable", "")] + [
        os.path.join(sys.base_prefix, "bin", name)
        for name in ("python%d.%d" % sys.version_info[:2], "python3")]
    for exe in candidates:
        if (exe and os.access(exe, os.X_OK)
                and not os.path.abspath(exe).startswith(os.path.abspath(sys.prefix) + os.sep)
                and not os.path.realpath(exe).startswith(venv + os.sep)):
            return exe
    raise RuntimeError("cannot find the Python this venv was made from (looked for %s)"
                       % ", ".join(c for c in candidates if c))


# The checkout's own build folders (make build, the version matrix, the sanitizer and
# fuzzing trees: build/, build-py3.12/, build-matrix-py3.12/, build-asan/, ...). A wheel
# build goes elsewhere: a temporary folder, or WSGID_WHEEL_BUILD_DIR, which may be one of
# the folders kept for it, build-pip-*/ (the pip test's).
DEVELOPER_BUILD_DIR = re.compile(r"^build(-(?!pip-)[^/]*)?$")


def check_build_dir(build_dir, source):
    """Raises RuntimeError when build_dir is, or is inside, a developer build folder of the
    checkout at `source`."""
    rel = os.path.relpath(os.path.realpath(build_dir), os.path.realpath(source))
    if rel == os.pardir or rel.startswith(os.pardir + os.sep):
        return
    top = rel.split(os.sep)[0]
    if DEVELOPER_BUILD_DIR.match(top):
        raise RuntimeError("the wheel is built out of tree: %s/ is a developer build's "
                           "(set WSGID_WHEEL_BUILD_DIR elsewhere)" % top)


def _build_binaries(build_dir):
    """Configures and builds the three binaries against base_python() in build_dir."""
    source = _source_dir()
    check_build_dir(build_dir, source)
    cmake = shutil.which("cmake")
    if cmake is None:
        raise RuntimeError("cmake is not installed (Debian: apt-get install cmake g++ "
                           "pybind11-dev libcpp-httplib-dev nlohmann-json3-dev "
                           "prometheus-cpp-dev pkg-config)")
    _run([cmake, "-S", source, "-B", build_dir,
          "-DPython_EXECUTABLE=" + base_python(), "-DPYBIND11_FINDPYTHON=ON",
          "-DCMAKE_BUILD_TYPE=" + os.environ.get("WSGID_BUILD_TYPE", "Release"),
          "-DBUILD_TESTING=OFF"])
    jobs = os.environ.get("CMAKE_BUILD_PARALLEL_LEVEL") or str(os.cpu_count() or 1)
    _run([cmake, "--build", build_dir, "--parallel", jobs, "--target"] + list(BINARIES))
    return os.path.join(build_dir, "bin")


def _record_line(arcname, data):
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
    return "%s,sha256=%s,%d" % (arcname, digest.decode("ascii"), len(data))


def _write_wheel(path, bin_dir):
    """The wheel: the binaries as scripts (mode 755), the dist-info, RECORD with hashes."""
    scripts = "%s-%s.data/scripts/" % (NAME, _version())
    entries = [(scripts + name, os.path.join(bin_dir, name), 0o755) for name in BINARIES]
    dist_info = _dist_info()
    texts = [(dist_info + "/METADATA", _metadata()), (dist_info + "/WHEEL", _wheel_file())]
    record = []
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as wheel:
        for arcname, source, mode in entries:
            with open(source, "rb") as f:
                data = f.read()
            info = zipfile.ZipInfo(arcname, date_time=(2020, 1, 1, 0, 0, 0))
            info.external_attr = (0o100000 | mode) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            wheel.writestr(info, data)
            record.append(_record_line(arcname, data))
        for arcname, text in texts:
            data = text.encode("utf-8")
            wheel.writestr(arcname, data)
            record.append(_record_line(arcname, data))
        record.append(dist_info + "/RECORD,,")
        wheel.writestr(dist_info + "/RECORD", "\n".join(record) + "\n")


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    keep = os.environ.get("WSGID_WHEEL_BUILD_DIR")
    build_dir = os.path.abspath(keep) if keep else tempfile.mkdtemp(prefix="wsgid-wheel-")
    try:
        bin_dir = _build_binaries(build_dir)
        name = "%s-%s-%s.whl" % (NAME, _version(), _tag())
        os.makedirs(wheel_directory, exist_ok=True)
        _write_wheel(os.path.join(wheel_directory, name), bin_dir)
        return name
    finally:
        if not keep:
            shutil.rmtree(build_dir, ignore_errors=True)


def build_sdist(sdist_directory, config_settings=None):
    """The source tree as NAME-VERSION.tar.gz, without build folders and VCS data."""
    base = "%s-%s" % (NAME, _version())
    name = base + ".tar.gz"
    source = _source_dir()
    with tarfile.open(os.path.join(sdist_directory, name), "w:gz") as tar:
        for root, dirs, files in os.walk(source):
            rel_root = os.path.relpath(root, source)
            dirs[:] = sorted(d for d in dirs if not SDIST_SKIP.search(
                os.path.normpath(os.path.join(rel_root, d))))
            for f in sorted(files):
                rel = os.path.normpath(os.path.join(rel_root, f))
                if not SDIST_SKIP.search(rel):
                    tar.add(os.path.join(root, f), arcname=base + "/" + rel, recursive=False)
        metadata = _metadata().encode("utf-8")
        info = tarfile.TarInfo(base + "/PKG-INFO")
        info.size = len(metadata)
        tar.addfile(info, io.BytesIO(metadata))
    return name
