"""``make bench``: chainrule vs torch vs hand-written NumPy, each workload in its own process.

    python benchmarks/run.py [--workloads tiny,mlp,...] [--threads 2] [--seconds 3]

Prints a table (steps/s, chainrule ÷ torch, chainrule ÷ numpy, first loss, peak RSS growth)
and writes benchmarks/results/latest.json. Ratios > 1 mean chainrule is faster. Only ratios
from the same run are meaningful: these machines vary 1.4–1.6× between runs.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
WORKLOADS = ["tiny", "mlp", "mlp_infer", "lenet", "lenet_infer", "resnet20", "resnet20_infer"]
FRAMEWORKS = ["chainrule", "torch", "numpy"]


def run_one(workload, framework, threads, seconds):
    env = dict(os.environ)
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env[var] = str(threads)
    cmd = [sys.executable, os.path.join(HERE, "worker.py"), "--workload", workload,
           "--framework", framework, "--threads", str(threads), "--seconds", str(seconds)]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if proc.returncode:
        return {"error": proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else "failed"}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workloads", default=",".join(WORKLOADS))
    ap.add_argument("--frameworks", default=",".join(FRAMEWORKS))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--json", default=os.path.join(HERE, "results", "latest.json"))
    args = ap.parse_args()
    results = {}
    header = f"{'workload':<16}{'framework':<11}{'steps/s':>10}{'µs/step':>11}{'÷torch':>8}{'÷numpy':>8}{'first loss':>13}{'RSS MB':>8}"
    print(header)
    print("-" * len(header))
    for w in args.workloads.split(","):
        row = {f: run_one(w, f, args.threads, args.seconds) for f in args.frameworks.split(",")}
        results[w] = row
        for f, r in row.items():
            if "steps_per_s" not in r:
                print(f"{w:<16}{f:<11}  {r.get('error') or r.get('skipped')}")
                continue
            ratio = lambda other: (f"{r['steps_per_s'] / row[other]['steps_per_s']:.2f}"
                                   if other in row and "steps_per_s" in row[other] and other != f else "")
            print(f"{w:<16}{f:<11}{r['steps_per_s']:>10.1f}{r['us_per_step']:>11.1f}{ratio('torch'):>8}"
                  f"{ratio('numpy'):>8}{r['first_loss']:>13.6f}{r['rss_growth_mb']:>8.1f}")
    os.makedirs(os.path.dirname(args.json), exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(args.json))
    with os.fdopen(fd, "w") as f:
        json.dump({"threads": args.threads, "seconds": args.seconds, "results": results}, f, indent=1)
    os.replace(tmp, args.json)
    print(f"\nwrote {args.json}")


if __name__ == "__main__":
    main()
