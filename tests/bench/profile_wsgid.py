#!/usr/bin/python3
"""Profiles wsgid's request path: perf (software clock) on the workers under h2load.

Starts wsgid exactly as run.py does for a workload (default hello: 2 workers x 1 thread),
warms it up, then records both workers with

    perf record -e cpu-clock -F 2000 -g -p WORKER1,WORKER2 -- sleep DURATION

while `h2load --h1 -c 32 -t 2 -D DURATION` loads it, and prints `perf report` summaries: the
share of samples per DSO (kernel, libpython, wsgid-worker, libc ...) and the top symbols by
self time. --dwarf records with `--call-graph dwarf` instead (wsgid-worker at -O2 and Debian's
libpython keep no frame pointers) and adds the inclusive time per function. Hardware counters
are not available in the VM, hence cpu-clock.

    /usr/bin/python3 tests/bench/profile_wsgid.py [--workload hello] [--duration 8] [--dwarf]
                                                  [--out DIR] [--wsgid-flags "..."]

--out DIR keeps perf.data and report.txt there (default: a temp dir, removed). Every process
started is stopped at the end, also on errors and Ctrl-C.
"""
import argparse
import os
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run  # noqa: E402
from benchlib import (BenchError, TreeSampler, cleanup_all, find_tool, log,  # noqa: E402
                      run_client, spawn, raise_interrupt)


def perf_report(perf, data, args, timeout=120):
    r = subprocess.run([perf, "report", "-i", data, "--stdio", "--no-header"] + args,
                       capture_output=True, text=True, timeout=timeout)
    return "\n".join(l for l in r.stdout.splitlines()
                     if l.strip() and not l.startswith("#")) + "\n"


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--duration", type=int, default=8)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--workload", default="hello", choices=[
        w.name for w in run.WORKLOADS.values() if w.kind == "load"])
    p.add_argument("--bin-dir", default=os.path.join(run.REPO, "build", "bin"))
    p.add_argument("--wsgid-flags", default="")
    p.add_argument("--out", help="keep perf.data and the reports in this directory")
    p.add_argument("--top", type=int, default=25, help="symbols to print (default 25)")
    p.add_argument("--dwarf", action="store_true",
                   help="unwind with DWARF (--call-graph dwarf) instead of frame pointers, "
                        "which wsgid-worker (-O2) and libpython do not keep, and also print "
                        "the inclusive (children) time per function")
    opts = p.parse_args()
    perf = find_tool("perf")
    if not perf or not find_tool("h2load"):
        log("perf and h2load are needed")
        return 1
    signal.signal(signal.SIGTERM, raise_interrupt)
    tmp = tempfile.mkdtemp(prefix="wsgid-profile-")
    try:
        return profile(opts, perf, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def profile(opts, perf, tmp):
    out = os.path.abspath(opts.out) if opts.out else tmp
    os.makedirs(out, exist_ok=True)
    ropts = argparse.Namespace(bin_dir=os.path.abspath(opts.bin_dir), keep_alive=300,
                               wsgid_flags=opts.wsgid_flags, duration=opts.duration)
    run.write_data_files(ropts, tmp)
    server = run.Wsgid(ropts, tmp, run.WORKLOADS[opts.workload])
    sampler = None
    data = os.path.join(out, "perf.data")
    try:
        log("starting: " + server.describe())
        server.start()
        sampler = TreeSampler(server.proc.pid)
        server.wait_ready(sampler, 30)
        workers = [pid for pid in sampler.alive_descendants()]
        if not workers:
            raise BenchError("no worker processes found")
        run_client(run.h2load_cmd(server, opts.warmup, ropts), opts.warmup + 30)
        cg = ["--call-graph", "dwarf,16384", "-F", "500"] if opts.dwarf else ["-g", "-F",
                                                                              "2000"]
        cmd = [perf, "record", "-e", "cpu-clock"] + cg + ["-o", data,
               "-p", ",".join(map(str, workers)), "--", "sleep", str(opts.duration)]
        log("recording: " + " ".join(shlex.quote(a) for a in cmd))
        rec = spawn(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        time.sleep(0.3)
        h2, _ = run_client(run.h2load_cmd(server, opts.duration, ropts), opts.duration + 30)
        rec_out, _ = rec.communicate(timeout=opts.duration + 60)
        if rec.returncode != 0:
            raise BenchError("perf record failed:\n" + rec_out.decode(errors="replace"))
        rps = run.parse_h2load(h2)["rps"]
    except KeyboardInterrupt:
        log("interrupted")
        return 130
    except BenchError as e:
        log("ERROR: %s" % e)
        return 1
    finally:
        if sampler is not None:
            server.stop(sampler)
        cleanup_all()
    reports = []
    reports.append("wsgid, workload %s, under h2load --h1 -c 32 -t 2 -D %d: %.0f req/s "
                   "(while perf records both workers)\n" % (opts.workload, opts.duration, rps))
    reports.append("== samples per DSO (self) ==\n" + perf_report(
        perf, data, ["--no-children", "--sort", "dso", "-g", "none", "--percent-limit",
                     "0.5"]))
    reports.append("== top symbols (self) ==\n" + "\n".join(perf_report(
        perf, data, ["--no-children", "--sort", "dso,sym", "-g", "none", "--percent-limit",
                     "0.4"]).splitlines()[:opts.top + 12]))
    if opts.dwarf:
        reports.append("== inclusive time per function (children) ==\n" + "\n".join(
            perf_report(perf, data, ["--children", "--sort", "sym", "-g", "none",
                                     "--percent-limit", "2"]).splitlines()[:60]))
    text = "\n".join(reports)
    print(text)
    with open(os.path.join(out, "report.txt"), "w") as f:
        f.write(text)
    if opts.out:
        log("perf.data and report.txt kept in " + out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
