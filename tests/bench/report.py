"""Markdown tables, the issue's targets and the PNG charts from run.py's results.

markdown() and errors() use the standard library only; charts() imports matplotlib (Debian's
python3-matplotlib) and raises ImportError when it is missing.
"""
import os

from benchlib import fmt, markdown_table, pyplot
from clients import REQUEST

MB = 2 ** 20
SERVER_ORDER = ["wsgid", "wsgid-alt", "nginx", "uwsgi", "gunicorn-gthread", "gunicorn-sync", "waitress"]
COLORS = {"wsgid": "#1f77b4", "wsgid-alt": "#17becf", "nginx": "#7f7f7f", "uwsgi": "#ff7f0e",
          "gunicorn-gthread": "#2ca02c", "gunicorn-sync": "#98df8a", "waitress": "#9467bd"}


def ratio(num, den):
    if not num or not den:
        return None
    return num / den


def mb(v):
    return v / MB if v else None


def errors(r):
    """Failed requests seen by the load generators in every measured phase of one result."""
    return sum(r.get(k, {}).get("errors", 0) for k in ("h2load", "wrk", "wrk_base")
               if isinstance(r.get(k), dict))


def _by(report):
    """{workload: {server: result}}, and the server order of the run."""
    out = {}
    for r in report["results"]:
        out.setdefault(r["workload"], {})[r["name"]] = r
    return out


def _order(names):
    return sorted(names, key=lambda n: SERVER_ORDER.index(n) if n in SERVER_ORDER else 99)


def _name(r):
    return r["name"] + (" (FAILED)" if "error" in r else "")


def load_table(results):
    ws = results.get("wsgid")
    ok = ws and "error" not in ws
    w_h2 = ok and ws.get("h2load", {}).get("rps")
    w_wrk = ok and ws.get("wrk", {}).get("rps")
    head = ["server", "h2load req/s", "wsgid/x", "client min/mean", "wrk req/s", "wsgid/x",
            "p50 ms", "p90 ms", "p99 ms", "errors", "CPU ms/1k req", "server cores",
            "peak RSS MB", "peak PSS MB"]
    rows = []
    for name in _order(results):
        r = results[name]
        if "skipped" in r:
            continue
        h2, wk = r.get("h2load", {}), r.get("wrk", {})
        reqs = h2.get("requests", 0) + wk.get("requests", 0)
        cpu = r.get("server_cpu_s")
        rows.append([
            _name(r), fmt(h2.get("rps")), fmt(ratio(w_h2, h2.get("rps")), "%.2f"),
            fmt(h2.get("client_min_over_mean"), "%.2f"),
            fmt(wk.get("rps")), fmt(ratio(w_wrk, wk.get("rps")), "%.2f"),
            fmt(wk.get("p50_ms"), "%.2f"), fmt(wk.get("p90_ms"), "%.2f"),
            fmt(wk.get("p99_ms"), "%.2f"),
            fmt(errors(r) if ("rps" in h2 or "rps" in wk) else None, "%d"),
            fmt(cpu * 1e6 / reqs if cpu is not None and reqs else None, "%.1f"),
            fmt(cores(r), "%.2f"),
            fmt(mb(r.get("peak_rss_bytes")), "%.1f"), fmt(mb(r.get("peak_pss_bytes")), "%.1f"),
        ])
    return markdown_table(head, rows)


def cores(r):
    """CPU the server tree used per second of the measured runs (2.0 = both cores)."""
    cpu = wall = 0.0
    for k in ("h2load", "wrk"):
        p = r.get(k, {})
        if "cpu_s" in p and p.get("elapsed_s"):
            cpu += p["cpu_s"]
            wall += p["elapsed_s"]
    return cpu / wall if wall else None


def littles_law(p, clients):
    """Requests in flight implied by wrk's mean latency x req/s; a closed loop of `clients`
    connections cannot exceed `clients`, and falls well below it only if connections stalled."""
    if p.get("latency_mean_ms") and p.get("rps"):
        return p["latency_mean_ms"] / 1e3 * p["rps"]
    return None


def idle_table(results):
    head = ["server", "idle held", "wrk req/s before", "wrk req/s with idle", "p99 ms before",
            "p99 ms with idle", "p99 with/before", "peak RSS MB before",
            "peak RSS MB with idle", "RSS added MB", "still open at end", "errors"]
    rows = []
    for name in _order(results):
        r = results[name]
        if "skipped" in r:
            continue
        b, w, st = r.get("wrk_base", {}), r.get("wrk", {}), r.get("idle_stats", {})
        held = st.get("held")
        held_txt = fmt(held, "%d")
        if st.get("unanswered") or st.get("failed"):
            held_txt += " (%d unanswered, %d failed)" % (st.get("unanswered", 0),
                                                          st.get("failed", 0))
        added = None
        if b.get("peak_rss_bytes") and w.get("peak_rss_bytes"):
            added = (w["peak_rss_bytes"] - b["peak_rss_bytes"]) / MB
        rows.append([
            _name(r), held_txt, fmt(b.get("rps")), fmt(w.get("rps")),
            fmt(b.get("p99_ms"), "%.2f"), fmt(w.get("p99_ms"), "%.2f"),
            fmt(ratio(w.get("p99_ms"), b.get("p99_ms")), "%.2f"),
            fmt(mb(b.get("peak_rss_bytes")), "%.1f"), fmt(mb(w.get("peak_rss_bytes")), "%.1f"),
            fmt(added, "%+.1f"), fmt(st.get("still_open_at_end"), "%d"),
            fmt(errors(r) if ("rps" in b or "rps" in w) else None, "%d"),
        ])
    return markdown_table(head, rows)


def slow_table(results):
    ws = results.get("wsgid")
    w_wrk = ws and "error" not in ws and ws.get("wrk", {}).get("rps")
    head = ["server", "wrk req/s", "wsgid/x", "p50 ms", "p90 ms", "p99 ms", "errors",
            "slow requests answered", "slow answer mean ms", "slow conns closed by server"]
    rows = []
    for name in _order(results):
        r = results[name]
        if "skipped" in r:
            continue
        wk, st = r.get("wrk", {}), r.get("slow_stats", {})
        rows.append([
            _name(r), fmt(wk.get("rps")), fmt(ratio(w_wrk, wk.get("rps")), "%.2f"),
            fmt(wk.get("p50_ms"), "%.2f"), fmt(wk.get("p90_ms"), "%.2f"),
            fmt(wk.get("p99_ms"), "%.2f"), fmt(errors(r) if "rps" in wk else None, "%d"),
            fmt(st.get("completed"), "%d"), fmt(st.get("answer_mean_ms"), "%.1f"),
            fmt(st.get("closed_by_server"), "%d"),
        ])
    return markdown_table(head, rows)


def summary_tables(report, workloads):
    """Two compact tables, server x workload: wrk req/s and wrk p99."""
    by = _by(report)
    wl = [w for w in report["workloads"] if w in by]
    servers = _order({r["name"] for r in report["results"]})
    out = []
    for title, key, spec in (("wrk requests/s", "rps", "%.0f"), ("wrk p99 latency, ms",
                                                                  "p99_ms", "%.2f")):
        head = ["server"] + wl
        rows = []
        for s in servers:
            cells = [s]
            for w in wl:
                r = by[w].get(s)
                if r is None or "skipped" in r:
                    cells.append("n/a")
                    continue
                v = r.get("wrk", {}).get(key)
                cell = fmt(v, spec)
                if "error" in r:
                    cell += " (failed)"
                elif errors(r):
                    cell += " (%d err)" % errors(r)
                cells.append(cell)
            rows.append(cells)
        out.append("%s (idle: with the idle connections held; slow: while clients trickle)\n\n%s"
                   % (title, markdown_table(head, rows)))
    return "\n\n".join(out)


def targets(report):
    """The targets of issue 6, checked on this run: list of (target, value, verdict)."""
    by = _by(report)
    out = []

    def res(w, s):
        r = by.get(w, {}).get(s)
        return None if r is None or "skipped" in r or "error" in r else r

    ws = res("hello", "wsgid")
    if ws:
        w = ws.get("h2load", {}).get("rps")
        for peer, goal in (("uwsgi", 2.0), ("gunicorn-gthread", 6.0), ("nginx", 0.8)):
            p = res("hello", peer)
            q = ratio(w, p and p.get("h2load", {}).get("rps"))
            out.append(("hello, h2load req/s: wsgid >= %.1fx %s" % (goal, peer),
                        fmt(q, "%.2fx"), "n/a" if q is None else
                        ("met" if q >= goal else "MISSED")))
        f = ws.get("h2load", {}).get("client_min_over_mean")
        out.append(("hello: every client served (per-client min >= 0.5 x mean)",
                    fmt(f, "%.2f"), "n/a" if f is None else ("met" if f >= 0.5 else "MISSED")))
    for wname in report["workloads"]:
        mine = res(wname, "wsgid")
        if not mine or "p99_ms" not in mine.get("wrk", {}):
            continue
        p99 = mine["wrk"]["p99_ms"]
        peers = []
        for s, r in by.get(wname, {}).items():
            if s in ("wsgid", "nginx") or "skipped" in r:
                continue
            pv = r.get("wrk", {}).get("p99_ms")
            peers.append((s, pv, errors(r), "error" in r))
        if not peers:
            continue
        beaten = [s for s, pv, e, failed in peers
                  if pv is not None and not e and not failed and pv <= p99]
        caveat = [s for s, pv, e, failed in peers if (e or failed) and pv is not None
                  and pv <= p99]
        best = min((pv for s, pv, e, f in peers if pv is not None), default=None)
        value = "wsgid %.2f ms, best peer %s" % (p99, fmt(best, "%.2f ms"))
        if caveat:
            value += " (lower only with failed requests: %s)" % ", ".join(caveat)
        out.append(("%s: p99 below every peer" % wname, value,
                    "met" if not beaten else "MISSED (%s)" % ", ".join(beaten)))
    idle = res("idle", "wsgid")
    if idle:
        b, w = idle.get("wrk_base", {}), idle.get("wrk", {})
        st = idle.get("idle_stats", {})
        if b.get("peak_rss_bytes") and w.get("peak_rss_bytes"):
            added = (w["peak_rss_bytes"] - b["peak_rss_bytes"]) / MB
            out.append(("idle: %d idle connections add < 50 MB RSS" % st.get("requested", 0),
                        "%+.1f MB (%d held)" % (added, st.get("held", 0)),
                        "met" if added < 50 and st.get("held") == st.get("requested")
                        else "MISSED"))
        q = ratio(w.get("p99_ms"), b.get("p99_ms"))
        if q is not None:
            out.append(("idle: no added p99 for the active clients (within 10% noise)",
                        "%.2f ms -> %.2f ms (%.2fx)" % (b["p99_ms"], w["p99_ms"], q),
                        "met" if q <= 1.10 else "MISSED"))
    return out


def markdown(report, workloads, peers):
    by = _by(report)
    parts = []
    m = report["machine"]
    parts.append("wsgid benchmark: %d clients, %d client threads, %d s per measured run, %d s "
                 "warm-up, %d server processes; %s CPUs (%s), load average before %s, after %s"
                 % (report["clients"], report["client_threads"], report["duration_s"],
                    report["warmup_s"], report["server_processes"], m.get("nproc"),
                    m.get("cpu_model", "?"), " ".join(report.get("loadavg_before") or []),
                    " ".join(report.get("loadavg_after") or [])))
    for wname in report["workloads"]:
        results = by.get(wname)
        if not results:
            continue
        w = workloads[wname]
        if w.kind == "idle":
            title = "%s: %d idle keep-alive connections (one request answered on each, then " \
                    "held), wrk -c %d before and while they are held" % (
                        wname, report["idle_connections"], report["clients"])
            body = idle_table(results)
        elif w.kind == "slow":
            title = "%s: %d clients trickling a %d-byte GET one byte every %g s, wrk -c %d " \
                    "measures the others" % (wname, report["slow_clients"], len(REQUEST),
                                             report["slow_interval_s"], report["clients"])
            body = slow_table(results)
        else:
            title = "%s: %s, %s %s" % (wname, w.title, w.method, w.path)
            body = load_table(results)
        notes = []
        for name in _order(results):
            r = results[name]
            if "skipped" in r:
                notes.append("- %s: n/a (%s)" % (name, r["skipped"]))
            elif "error" in r:
                notes.append("- %s: FAILED: %s" % (name, r["error"].splitlines()[0][:300]))
            elif errors(r):
                notes.append("- %s: %d failed requests (%s)" % (name, errors(r), _err_detail(r)))
            for k in ("wrk_base", "wrk"):
                n = littles_law(r.get(k, {}), report["clients"])
                if n is not None and not errors(r) and not (
                        0.5 * report["clients"] <= n <= 2 * report["clients"]):
                    notes.append("- %s: wrk's mean latency x req/s = %.0f requests in flight "
                                 "for %d connections (Little's law): its latency figures "
                                 "are inconsistent in this run; read h2load's columns" % (
                                     name, n, report["clients"]))
            st = r.get("idle_stats")
            if st and (st.get("unanswered") or st.get("failed") or st.get("closed_by_server")):
                notes.append("- %s: idle connections: %d held, %d never answered, %d failed, "
                             "%d closed by the server by the end (opening stopped by %s after "
                             "%.1f s)" % (name, st.get("held", 0), st.get("unanswered", 0),
                                          st.get("failed", 0), st.get("closed_by_server", 0),
                                          st.get("stopped_by"), st.get("open_s", 0)))
        parts.append("### " + title + "\n\n" + body + ("\n\n" + "\n".join(notes)
                                                        if notes else ""))
    parts.append("### Summary\n\n" + summary_tables(report, workloads))
    t = targets(report)
    if t:
        parts.append("### Targets (issue 6)\n\n" + markdown_table(
            ["target", "this run", "verdict"], [list(x) for x in t]))
    return "\n\n".join(parts)


def _err_detail(r):
    out = []
    for k in ("h2load", "wrk_base", "wrk"):
        v = r.get(k)
        if not isinstance(v, dict) or not v.get("errors"):
            continue
        if k == "h2load":
            out.append("h2load: %d failed, %d errored, %d timeout, %d non-2xx" % (
                v.get("requests_failed", 0), v.get("requests_errored", 0),
                v.get("requests_timeout", 0),
                v.get("status_3xx", 0) + v.get("status_4xx", 0) + v.get("status_5xx", 0)))
        elif v.get("no_response"):
            out.append("%s: not one request answered in the whole run" % k)
        else:
            se = v.get("socket_errors", {})
            out.append("%s: %s, %d non-2xx" % (k, ", ".join(
                "%s %d" % (a, b) for a, b in se.items() if b) or "no socket errors",
                v.get("non_2xx_3xx", 0)))
    return "; ".join(out)


def results_page(report, text, charts, outdir):
    m = report["machine"]
    v = report.get("versions", {})
    lines = [
        "# wsgid benchmark results",
        "",
        "Generated by `tests/bench/run.py` (see `tests/bench/README.md` for what every column "
        "means and why each server is configured the way it is). Compare ratios within this "
        "run, not absolute numbers across runs or machines.",
        "",
        "- command: `%s`" % report["command"],
        "- run: %s to %s (%.0f s)" % (report["started"], report["finished"],
                                      report.get("elapsed_s", 0)),
        "- machine: `nproc` = %s, CPU (`lscpu` model name): %s%s, %s MB RAM, kernel %s, "
        "Debian %s, Python %s" % (m.get("nproc"), m.get("cpu_model", "?"),
                                  (", %s guest" % m["hypervisor"]) if m.get("hypervisor")
                                  else "", m.get("mem_total_mb", "?"), m.get("kernel"),
                                  m.get("debian", "?"), m.get("python")),
        "- load average before / after: %s / %s (the load generators share the cores with "
        "the servers; the machine is shared with other work)"
        % (" ".join(report.get("loadavg_before") or []),
           " ".join(report.get("loadavg_after") or [])),
        "- versions: %s" % "; ".join(
            v[k] if v[k].lower().startswith(k) else "%s %s" % (k, v[k]) for k in sorted(v)),
    ]
    embedded = report.get("embedded_python", {})
    if embedded:
        lines.append("- the Python each wsgid row embeds: %s" % "; ".join(
            "%s: %s" % (name, embedded[name]) for name in sorted(embedded)))
    lines += [
        "",
    ]
    if charts:
        for c in charts:
            name = os.path.basename(c)
            lines += ["![%s](%s)" % (name, name), ""]
    lines.append(text)
    lines.append("")
    return "\n".join(lines)


def charts(report, workloads, outdir):
    """bench_rps.png and bench_p99.png: one panel per workload, one bar per server."""
    plt = pyplot()
    by = _by(report)
    wl = [w for w in report["workloads"] if w in by]
    servers = _order({r["name"] for r in report["results"]})
    paths = []
    m = report["machine"]
    subtitle = "%s CPUs (%s), %d s per run, %d clients, 2 server processes; wrk" % (
        m.get("nproc"), m.get("cpu_model", "?"), report["duration_s"], report["clients"])
    for key, fname, ylabel, spec in (("rps", "bench_rps.png", "requests/s", "%.0f"),
                                     ("p99_ms", "bench_p99.png", "p99 latency, ms (lower is "
                                      "better)", "%.1f")):
        ncols = min(4, len(wl))
        nrows = (len(wl) + ncols - 1) // ncols
        fig, axes = plt.subplots(nrows, ncols, figsize=(4.2 * ncols, 3.6 * nrows),
                                 squeeze=False)
        for i, wname in enumerate(wl):
            ax = axes[i // ncols][i % ncols]
            names, values, colors, marks = [], [], [], []
            for s in servers:
                r = by[wname].get(s)
                if r is None or "skipped" in r:
                    continue
                v = r.get("wrk", {}).get(key)
                names.append(s.replace("gunicorn-", "gunicorn\n"))
                values.append(v or 0)
                colors.append(COLORS.get(s, "#333333"))
                marks.append("failed" if "error" in r else
                             ("%d err" % errors(r) if errors(r) else ""))
            bars = ax.bar(range(len(names)), values, color=colors)
            ax.set_xticks(range(len(names)))
            ax.set_xticklabels(names, fontsize=7)
            title = workloads[wname].title if wname in workloads else wname
            if wname == "idle":
                title = "%d idle conns held" % report.get("idle_connections", 0)
            elif wname == "slow":
                title = "%d slow clients trickling" % report.get("slow_clients", 0)
            ax.set_title("%s: %s" % (wname, title), fontsize=9)
            ax.tick_params(axis="y", labelsize=7)
            top = max(values + [1])
            for b, v, mk in zip(bars, values, marks):
                label = (spec % v) if v else ("0" if key == "rps" else "n/a")
                if mk:
                    label += "\n" + mk
                ax.text(b.get_x() + b.get_width() / 2, b.get_height() + top * 0.01, label,
                        ha="center", va="bottom", fontsize=6,
                        color="#c00000" if mk else "black")
            ax.set_ylim(0, top * 1.25)
            if i % ncols == 0:
                ax.set_ylabel(ylabel, fontsize=8)
        for j in range(len(wl), nrows * ncols):
            axes[j // ncols][j % ncols].axis("off")
        fig.suptitle("wsgid vs peers: %s per workload\n%s" % (ylabel, subtitle), fontsize=10)
        fig.tight_layout()
        path = os.path.join(outdir, fname)
        fig.savefig(path, dpi=110)
        plt.close(fig)
        paths.append(path)
    return paths
