"""``make bench``: chainrule vs torch vs hand-written NumPy, each workload in its own process.

    python benchmarks/run.py [--workloads tiny,mlp,...] [--frameworks chainrule,no-onednn,torch,numpy]
                             [--threads 2] [--seconds 3] [--repeat 1] [--keep-openblas-env]

For every workload and framework, ``benchmarks/worker.py`` runs in a fresh process with the
thread variables set (OMP/OPENBLAS/MKL_NUM_THREADS, and torch.set_num_threads in the worker),
builds the same model from the same NumPy-drawn data and weights, runs one step (its loss is
the "first loss" column, which must agree across frameworks), warms up, and times steps for
``--seconds``. With ``--repeat N`` the frameworks take turns N times and the best rate counts
(the machines are shared and noisy; turns spread the noise evenly).

Prints a table — steps/s, chainrule ÷ torch and chainrule ÷ numpy (speed ratios: > 1 means
chainrule is faster), first loss, peak RSS growth during the timed steps — then the issue-8,
-19 and -20 targets met or missed, and writes benchmarks/results/latest.json (git-ignored).
The convolution workloads run twice for chainrule: on oneDNN where it is installed
("chainrule") and on the NumPy kernels ("no-onednn").
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from worker import WORKLOADS  # noqa: E402  (the registry of workloads)

# compiled: chainrule.compile; no-onednn: chainrule with its convolutions on the NumPy kernels
FRAMEWORKS = ["chainrule", "compiled", "no-onednn", "torch", "numpy"]
THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
# Set on some of these machines, they pin OpenBLAS to an older kernel and cache size and slow
# down current NumPy; benchmarks unset both together (tests and CI never touch them).
OPENBLAS_TUNING_VARS = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")

# issue 8: (workload, minimum chainrule ÷ torch speed ratio)
SPEED_TARGETS = [("tiny", 2.0), ("mlp", 1.2), ("mlp_infer", 1.0), ("lenet", 1.0),
                 ("lenet_infer", 1.0), ("resnet20", 0.8), ("resnet20_infer", 1.0)]
NUMPY_TARGETS = [("mlp", 0.9)]
# issue 19: chainrule.compile's (workload, minimum compiled ÷ torch speed ratio); the tiny
# step's targets are times: ≤ 1.5× the NumPy reference's and ≤ 0.2× torch's
COMPILED_TARGETS = [("mlp", 1.3), ("mlp_infer", 1.3)]
MEMORY_TARGETS = ["mlp", "lenet", "resnet20"]
# issue 20 (convolutions on oneDNN): (workload, minimum chainrule ÷ torch, at this --threads or
# None for any); resnet20 training: ≥ 1.0× at one thread, ≥ 0.9× at two
ONEDNN_TARGETS = [("lenet", 1.2, None), ("resnet20", 1.0, 1), ("resnet20", 0.9, 2),
                  ("lenet_infer", 1.0, None), ("resnet20_infer", 1.0, None)]


def worker_env(threads, keep_openblas_env):
    env = dict(os.environ)
    for var in THREAD_VARS:
        env[var] = str(threads)
    unset = []
    if not keep_openblas_env:
        for var in OPENBLAS_TUNING_VARS:
            if env.pop(var, None) is not None:
                unset.append(var)
    return env, unset


def run_one(workload, framework, args, env):
    cmd = [sys.executable, os.path.join(HERE, "worker.py"), "--workload", workload,
           "--framework", framework, "--threads", str(args.threads), "--seconds", str(args.seconds)]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if proc.returncode:
        lines = proc.stderr.strip().splitlines()
        return {"error": lines[-1] if lines else f"exit status {proc.returncode}"}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def best(results):
    """The run with the highest rate among repeats (errors and skips pass through)."""
    ok = [r for r in results if "steps_per_s" in r]
    if not ok:
        return results[0]
    top = dict(max(ok, key=lambda r: r["steps_per_s"]))
    top["rss_growth_mb"] = min(r["rss_growth_mb"] for r in ok)
    peaks = [r.get("step_peak_mb") for r in ok]
    top["step_peak_mb"] = None if None in peaks else min(peaks)
    top["all_steps_per_s"] = [r["steps_per_s"] for r in ok]
    return top


def ratio(row, a, b):
    if a in row and b in row and "steps_per_s" in row[a] and "steps_per_s" in row[b]:
        return row[a]["steps_per_s"] / row[b]["steps_per_s"]
    return None


def first_loss_check(row):
    losses = [r["first_loss"] for r in row.values() if "first_loss" in r]
    if len(losses) < 2:
        return True
    ref = losses[0]
    return all(abs(x - ref) <= 1e-4 * max(1.0, abs(ref)) for x in losses)


def print_table(results):
    header = (f"{'workload':<15}{'framework':<11}{'steps/s':>11}{'time/step':>12}{'÷torch':>8}"
              f"{'÷numpy':>8}{'first loss':>12}{'peak RSS +MB':>14}")
    print(header)
    print("-" * len(header))
    for w, row in results.items():
        for f, r in row.items():
            if "steps_per_s" not in r:
                print(f"{w:<15}{f:<11}  {r.get('error') or r.get('skipped')}")
                continue
            us = r["us_per_step"]
            t = f"{us:.1f} µs" if us < 1e3 else f"{us / 1e3:.2f} ms"
            rt = ratio(row, f, "torch") if f != "torch" else None
            rn = ratio(row, f, "numpy") if f != "numpy" else None
            print(f"{w:<15}{f:<11}{r['steps_per_s']:>11.1f}{t:>12}{'' if rt is None else f'{rt:.2f}':>8}"
                  f"{'' if rn is None else f'{rn:.2f}':>8}{r['first_loss']:>12.6f}{r['rss_growth_mb']:>14.1f}")
        if not first_loss_check(row):
            print(f"{'':<15}!! first losses differ: the frameworks are not training the same model")


def onednn_targets(results, threads):
    """[(description, value, met)] for the issue-20 targets of this thread count."""
    out = []
    for w, need, at in ONEDNN_TARGETS:
        r = ratio(results.get(w, {}), "chainrule", "torch")
        if r is not None and at in (None, threads):
            numpy_path = ratio(results.get(w, {}), "no-onednn", "torch")
            also = "" if numpy_path is None else f" (NumPy kernels: {numpy_path:.2f}×)"
            out.append((f"{w}: ≥ {need}× torch's steps/s", f"{r:.2f}×{also}", r >= need))
    return out


def targets(results):
    """[(description, value, met)] for the issue-8 targets whose workloads were run."""
    out = []
    for w, need in SPEED_TARGETS:
        r = ratio(results.get(w, {}), "chainrule", "torch")
        if r is not None:
            if w == "tiny":
                out.append(("tiny: time ≤ 0.5× torch's", f"{1 / r:.2f}×", r >= need))
            else:
                out.append((f"{w}: ≥ {need}× torch's steps/s", f"{r:.2f}×", r >= need))
    for w, need in NUMPY_TARGETS:
        r = ratio(results.get(w, {}), "chainrule", "numpy")
        if r is not None:
            out.append((f"{w}: ≥ {need}× the NumPy reference", f"{r:.2f}×", r >= need))
    tiny = results.get("tiny", {})
    for other, need in (("numpy", 1 / 1.5), ("torch", 5.0)):
        r = ratio(tiny, "compiled", other)
        if r is not None:
            out.append((f"tiny compiled: time ≤ {1 / need:.1f}× {other}'s", f"{1 / r:.2f}×",
                        r >= need))
    for w, need in COMPILED_TARGETS:
        r = ratio(results.get(w, {}), "compiled", "torch")
        if r is not None:
            out.append((f"{w} compiled: ≥ {need}× torch's steps/s", f"{r:.2f}×", r >= need))
    row = results.get("resnet20", {})
    if "rss_growth_mb" in row.get("compiled", {}) and "rss_growth_mb" in row.get("chainrule", {}):
        # the whole run's (the capture and the generated program included); step_peak_mb in
        # the JSON is the timed steps' own, above the RSS they start from
        c, e = row["compiled"]["rss_growth_mb"], row["chainrule"]["rss_growth_mb"]
        out.append(("resnet20 compiled: peak RSS growth ≤ eager's", f"{c:.1f} vs {e:.1f} MB",
                    c <= e))
    for w in MEMORY_TARGETS:
        row = results.get(w, {})
        if "rss_growth_mb" in row.get("chainrule", {}) and "rss_growth_mb" in row.get("torch", {}):
            c, t = row["chainrule"]["rss_growth_mb"], row["torch"]["rss_growth_mb"]
            out.append((f"{w}: peak RSS growth ≤ torch's", f"{c:.1f} vs {t:.1f} MB", c <= t))
    return out


def machine():
    info = {"python": platform.python_version(), "cpus": os.cpu_count(), "platform": platform.platform()}
    try:
        with open("/proc/cpuinfo") as f:
            info["cpu"] = next((l.split(":", 1)[1].strip() for l in f if l.startswith("model name")), None)
    except OSError:
        pass
    try:
        info["loadavg_at_start"] = os.getloadavg()
    except OSError:
        pass
    for mod in ("numpy", "torch"):
        try:
            info[mod] = __import__(mod).__version__
        except ImportError:
            info[mod] = None
    return info


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workloads", default=",".join(WORKLOADS),
                    help=f"comma-separated, from: {', '.join(WORKLOADS)}")
    ap.add_argument("--frameworks", default=",".join(FRAMEWORKS))
    ap.add_argument("--threads", type=int, default=2, help="BLAS/OpenMP/torch threads (default 2)")
    ap.add_argument("--seconds", type=float, default=3.0, help="timed seconds per run (default 3)")
    ap.add_argument("--repeat", type=int, default=1, help="turns per framework; the best counts")
    ap.add_argument("--keep-openblas-env", action="store_true",
                    help="keep OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE in the workers' environment")
    ap.add_argument("--json", default=os.path.join(HERE, "results", "latest.json"))
    args = ap.parse_args()
    workloads = [w for w in args.workloads.split(",") if w]
    unknown = [w for w in workloads if w not in WORKLOADS]
    if unknown:
        ap.error(f"unknown workloads {unknown}; choose from {list(WORKLOADS)}")
    frameworks = [f for f in args.frameworks.split(",") if f]
    try:
        import torch  # noqa: F401
    except ImportError:
        frameworks = [f for f in frameworks if f != "torch"]
        print("torch is not installed: chainrule vs NumPy only")
    env, unset = worker_env(args.threads, args.keep_openblas_env)
    info = machine()
    print(f"{info.get('cpu')}, {info['cpus']} CPUs, load {info.get('loadavg_at_start')}; numpy "
          f"{info['numpy']}, torch {info['torch']}; {args.threads} threads, {args.seconds} s per run"
          f", best of {args.repeat}" + (f"; unset for the workers: {', '.join(unset)}" if unset else ""))
    started = time.time()
    results = {}
    for w in workloads:
        runs = {f: [] for f in frameworks}
        for _ in range(args.repeat):
            for f in frameworks:
                runs[f].append(run_one(w, f, args, env))
        results[w] = {f: best(rs) for f, rs in runs.items()}
    print()
    print_table(results)
    met = targets(results)
    if met:
        print("\nissue-8 targets (this run):")
        for desc, value, ok in met:
            print(f"  {'met   ' if ok else 'MISSED'} {desc:<42} {value}")
    met20 = onednn_targets(results, args.threads)
    if met20:
        print(f"\nissue-20 targets (oneDNN convolutions, {args.threads} threads, this run):")
        for desc, value, ok in met20:
            print(f"  {'met   ' if ok else 'MISSED'} {desc:<42} {value}")
    blas = next((r.get("blas") for row in results.values() for f, r in row.items()
                 if f == "numpy" and r.get("blas")), None)
    if blas:
        print("\nNumPy's BLAS in the workers: " + "; ".join(
            f"{b['internal_api']} {b['version']} ({b['architecture']}, {b['num_threads']} threads)" for b in blas))
    os.makedirs(os.path.dirname(args.json), exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(args.json), suffix=".tmp")
    with os.fdopen(fd, "w") as f:
        json.dump({"machine": info, "threads": args.threads, "seconds": args.seconds,
                   "repeat": args.repeat, "unset_env": unset, "wall_s": time.time() - started,
                   "workloads": {w: WORKLOADS[w]["what"] for w in workloads},
                   "results": results,
                   "targets": [{"target": d, "value": v, "met": ok} for d, v, ok in met + met20]},
                  f, indent=1)
    os.replace(tmp, args.json)
    print(f"\nwrote {args.json}")


if __name__ == "__main__":
    main()
