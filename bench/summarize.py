"""Turns the raw lines of bench/run-all.sh into the summary table (stdout).

Each raw line is `phase=P mode=M target=T key=value ...`; this only reads and formats them."""

import shlex
import sys


def load(path):
    rows = {}
    env = []
    crashes = []
    with open(path) as f:
        for line in f:
            kv = {}
            for tok in shlex.split(line):
                if "=" in tok:
                    k, v = tok.split("=", 1)
                    kv[k] = v
            phase, target = kv.get("phase"), kv.get("target")
            if kv.get("mode") == "env":
                env.append(kv)
            elif kv.get("mode") == "crash":
                crashes.append((target, phase))
            elif phase and target:
                rows.setdefault((phase, target), []).append(kv)
    return rows, env, crashes


def num(row, key):
    try:
        return float(row[key])
    except (KeyError, TypeError, ValueError):
        return None


def fmt(v, unit="", digits=None):
    if v is None:
        return "n/a"
    if digits is None:
        digits = 0 if abs(v) >= 100 else (1 if abs(v) >= 10 else 2)
    return f"{v:,.{digits}f}{unit}"


def ok_run(row):
    """A measurement that completed without errors."""
    if row is None or row.get("mode") == "failed":
        return False
    if row.get("exit", "0") != "0":
        return False
    return True


def main():
    rows, env, crashes = load(sys.argv[1])

    def get(p, t):
        """The median round by the phase's main figure (a single run is its own median)."""
        rs = rows.get((p, t))
        if not rs:
            return None
        key = KEY.get(p)
        if len(rs) == 1 or not key:
            return rs[-1]
        good = [r for r in rs if num(r, key) is not None]
        if not good:
            return rs[-1]
        # Rounds in which other processes took a quarter core or more are set aside when
        # quiet ones remain: they measure the neighbours as much as the server.
        quiet = [r for r in good if (num(r, "other_cpu_pct") or 0) < NOISY]
        nquiet = len(quiet)
        if quiet:
            good = quiet
        good.sort(key=lambda r: num(r, key))
        med = dict(good[(len(good) - 1) // 2])
        vals = [num(r, key) for r in good]
        rng = f": {fmt(min(vals))}–{fmt(max(vals))}" if len(vals) > 1 else ""
        if nquiet and nquiet < len(rs):
            med["_spread"] = f" [median of the {len(good)} quiet of {len(rs)} rounds{rng}]"
        else:
            med["_spread"] = f" [median of {len(good)} rounds{rng}]"
        if any(not ok_run(r) for r in rs):
            med["exit"] = "1"
        return med
    out = []

    def add(bench, kos, etcd, better, goal="—", met="—"):
        out.append((bench, kos, etcd, better, goal, met))

    def ratio(a, b):
        return f"{a / b:.2f}×" if a and b else "n/a"

    def note(row):
        if row is None:
            return " (missing)"
        if row.get("mode") == "failed":
            return " (FAILED)"
        if not ok_run(row):
            errs = row.get("errors") or row.get("bad_runs") or row.get("lost")
            return f" (errors: {errs})" if errs else " (FAILED)"
        return ""

    # 1. creates
    k, e = get("create", "kos"), get("create", "etcd")
    ko, eo = num(k or {}, "ops_per_s"), num(e or {}, "ops_per_s")
    r = ko / eo if ko and eo else None
    add(f"1. durable creates, ~2 KB, {k.get('conc', '?') if k else '?'} clients (ops/s); kos as "
        "the API server alone (as kube-apiserver beside etcd)",
        fmt(ko) + note(k) + (k or {}).get("_spread", ""),
        fmt(eo) + note(e) + (e or {}).get("_spread", ""), ratio(ko, eo), "kos ≥ 1.5× etcd",
        ("yes" if r and r >= 1.5 and ok_run(k) else "NO") if r else "n/a")
    add("   create latency p50 / p99 (ms)",
        f"{fmt(num(k or {}, 'p50_ms'))} / {fmt(num(k or {}, 'p99_ms'))}",
        f"{fmt(num(e or {}, 'p50_ms'))} / {fmt(num(e or {}, 'p99_ms'))}",
        ratio(num(e or {}, "p99_ms"), num(k or {}, "p99_ms")))
    ka = get("create-all", "kos")
    kao = num(ka or {}, "ops_per_s")
    add("   the same, kos with its scheduler and controllers in the process (ops/s)",
        fmt(kao) + note(ka) + (ka or {}).get("_spread", ""), "(above)", ratio(kao, eo))
    k, e = get("fill", "kos"), get("fill", "etcd")
    add("   (creates that fill the store for 2-6, ops/s)", fmt(num(k or {}, "ops_per_s")) + note(k),
        fmt(num(e or {}, "ops_per_s")) + note(e),
        ratio(num(k or {}, "ops_per_s"), num(e or {}, "ops_per_s")))

    # 2. GET
    for phase, label in (("get-1", "1 client"), ("get-32", "32 clients")):
        k, e = get(phase, "kos"), get(phase, "etcd")
        add(f"2. GET one pod, {label}: p50 / p99 (ms)",
            f"{fmt(num(k or {}, 'p50_ms'), digits=3)} / {fmt(num(k or {}, 'p99_ms'), digits=3)}"
            + note(k),
            f"{fmt(num(e or {}, 'p50_ms'), digits=3)} / {fmt(num(e or {}, 'p99_ms'), digits=3)}"
            + note(e),
            ratio(num(e or {}, "p99_ms"), num(k or {}, "p99_ms")) + " (p99)")
        add(f"   GET {label} (ops/s)", fmt(num(k or {}, "ops_per_s")) + (k or {}).get("_spread", ""),
            fmt(num(e or {}, "ops_per_s")) + (e or {}).get("_spread", ""),
            ratio(num(k or {}, "ops_per_s"), num(e or {}, "ops_per_s")))

    # 3. LIST
    k, e = get("list-all", "kos"), get("list-all", "etcd")
    fill = get("fill", "kos") or {}
    npods = f"{int(num(fill, 'ok')):,}" if num(fill, "ok") is not None else "?"
    kl = num(k or {}, "median_ms")
    crashed = ("kos", "list-all") in crashes
    add(f"3. LIST {npods} pods, full body, median (ms)",
        (fmt(kl) + note(k)) if not crashed else "CRASHED",
        fmt(num(e or {}, "median_ms")) + note(e),
        ratio(num(e or {}, "median_ms"), kl) if ok_run(k) else "n/a", "< 100 ms",
        "yes" if ok_run(k) and kl is not None and kl < 100 else "NO")
    k, e = get("list-500", "kos"), get("list-500", "etcd")
    add(f"   LIST {npods} pods in pages of 500, all pages (ms)",
        fmt(num(k or {}, "median_ms")) + note(k), fmt(num(e or {}, "median_ms")) + note(e),
        ratio(num(e or {}, "median_ms"), num(k or {}, "median_ms")))

    # 7. (issue 3) the same LIST as a Table, and strategic merge patches; kos only
    kt = get("list-table", "kos")
    add(f"7. LIST {npods} pods as meta.k8s.io Table, median (ms)",
        fmt(num(kt or {}, "median_ms")) + note(kt), "(JSON list above)",
        ratio(num(kt or {}, "median_ms"), kl) + " of JSON" if ok_run(kt) and kl else "n/a")
    kp = get("patch", "kos")
    add("7. strategic merge patches of ~2 KB pods (patches/s), p50 / p99 (ms)",
        fmt(num(kp or {}, "ops_per_s")) + note(kp)
        + f", {fmt(num(kp or {}, 'p50_ms'), digits=2)} / {fmt(num(kp or {}, 'p99_ms'), digits=2)}",
        "", "")

    # 4. WATCH
    k, e = get("watch", "kos"), get("watch", "etcd")

    def wline(row):
        if not row or row.get("mode") != "watch":
            return "n/a" + note(row)
        return f"{fmt(num(row, 'p50_ms'))} / {fmt(num(row, 'p99_ms'))}"

    kp99 = num(k or {}, "p99_ms")
    klost = num(k or {}, "lost")
    add(f"4. {k.get('watchers', '?') if k else '?'} watchers, "
        f"{k.get('writes_ok', '?') if k else '?'} updates: delivery p50 / p99 (ms)",
        wline(k), wline(e), ratio(num(e or {}, "p99_ms"), kp99) + " (p99)", "p99 < 50 ms",
        "yes" if kp99 is not None and kp99 < 50 else "NO")

    def lost(row):
        if not row or row.get("mode") != "watch":
            return "n/a"
        s = f"{int(num(row, 'lost'))} of {int(num(row, 'expected')):,}"
        if num(row, "writes_not_issued"):
            s += f" ({int(num(row, 'writes_not_issued'))} writes not issued)"
        return s

    add("   the writer's own update latency p50 / p99 (ms)",
        f"{fmt(num(k or {}, 'write_p50_ms'))} / {fmt(num(k or {}, 'write_p99_ms'))}",
        f"{fmt(num(e or {}, 'write_p50_ms'))} / {fmt(num(e or {}, 'write_p99_ms'))}", "")
    add("   events not delivered (within 10 s after the last write)", lost(k), lost(e), "",
        "none lost", "yes" if klost == 0 and ok_run(k) else "NO")

    # 5. RSS
    def mb(row, key):
        v = num(row or {}, key)
        return v / 1024 if v is not None and v >= 0 else None

    for phase, key, label in (("rss-filled", "rss_kb", f"after creating {npods} pods"),
                              ("start-filled", "rss_first_kb", "after a restart that reloads them")):
        k, e = get(phase, "kos"), get(phase, "etcd")
        km, em = mb(k, key), mb(e, key)
        add(f"5. RSS {label} (MB)", fmt(km), fmt(em), ratio(em, km), "< 100 MB",
            "yes" if km is not None and km < 100 else "NO")
    k, e = get("rss-after-load", "kos"), get("rss-after-load", "etcd")
    add("   (RSS after the GET, LIST and WATCH phases, MB)", fmt(mb(k, "rss_kb")),
        fmt(mb(e, "rss_kb")), ratio(mb(e, "rss_kb"), mb(k, "rss_kb")))

    # 6. start
    for phase, label in (("start-empty", "empty data dir"), ("start-filled", f"{npods} pods")):
        k, e = get(phase, "kos"), get(phase, "etcd")
        add(f"6. exec to ready, {label}, median of {k.get('runs', '?') if k else '?'} (ms)",
            fmt(num(k or {}, "median_ms")) + note(k), fmt(num(e or {}, "median_ms")) + note(e),
            ratio(num(e or {}, "median_ms"), num(k or {}, "median_ms")))

    widths = [max(len(str(r[i])) for r in out + [HEAD]) for i in range(len(HEAD))]
    line = lambda r: "| " + " | ".join(str(c).ljust(widths[i]) for i, c in enumerate(r)) + " |"
    print(line(HEAD))
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for r in out:
        print(line(r))
    print()
    print("'kos better by': etcd/kos for times, latencies and memory; kos/etcd for ops/s.")
    noisy = []
    for (phase, target), rs in rows.items():
        for r in rs:
            o = num(r, "other_cpu_pct")
            if o is not None and o >= NOISY:
                noisy.append((o, f"{phase}/{target}"))
    if noisy:
        noisy.sort(reverse=True)
        print("noise: other processes on the machine used "
              + ", ".join(f"{o:.0f}% of a core during {p}" for o, p in noisy[:6])
              + (" ..." if len(noisy) > 6 else ""))
    else:
        print(f"noise: no phase saw {NOISY}% of a core or more used by other processes")
    for c in crashes:
        print(f"CRASH: {c[0]} died during phase {c[1]}")
    for kv in env:
        if "dsync_4k_write_ms" in kv:
            print(f"disk: one 4 KiB O_DSYNC write takes {kv['dsync_4k_write_ms']} ms (dd)")
        else:
            print(f"{kv.get('phase')}: load average {kv.get('loadavg')}"
                  + (f", total {kv['seconds']} s" if "seconds" in kv else ""))


NOISY = 25  # % of one core used by other processes during a round
KEY = {"create": "ops_per_s", "create-all": "ops_per_s", "fill": "ops_per_s",
       "get-1": "ops_per_s", "get-32": "ops_per_s"}
HEAD = ("benchmark", "kos", "etcd 3.4", "kos better by", "goal", "met")

if __name__ == "__main__":
    main()
