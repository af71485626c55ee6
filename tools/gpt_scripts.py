"""Run Karpathy's nanoGPT and minGPT unchanged, under torch and under chainrule, and compare
what they print.

The scripts are the repositories' own (github.com/karpathy/nanoGPT, github.com/karpathy/minGPT),
run as they are with short settings on the CPU; for the chainrule run the import hook of
``torch_examples.py`` makes ``torch`` resolve to ``chainrule``. nanoGPT trains its
character-level Shakespeare configuration (``config/train_shakespeare_char.py``, made small, on
a corpus of Python's own license texts in place of the download), resumes from its checkpoint,
samples from it (``sample.py``; ``tiktoken``, which it imports for GPT-2's tokenizer and does not
use for a character model, gets an inert stand-in when missing), and trains again with
``--compile=True`` (torch's inductor against ``chainrule.compile``). minGPT trains its
``projects/adder`` GPT for a few hundred steps and scores it. Both libraries see the same data and
seeds; the printouts are compared line by line with numbers to a relative tolerance (timings and
the model-flops utilisation dropped; warnings only one library prints are dropped too).

It is a report, not a test: it needs the repositories.

    git clone --depth 1 https://github.com/karpathy/nanoGPT
    git clone --depth 1 https://github.com/karpathy/minGPT
    python tools/gpt_scripts.py --nanogpt nanoGPT --mingpt minGPT
"""
import argparse
import re
import shutil
import sysconfig
import tempfile
import textwrap
from pathlib import Path

from torch_examples import ALIAS, run, verdict   # (tools/ is the script's directory)

# name: (repository, [command lines], relative tolerance)
NANOGPT_SMALL = ("train.py config/train_shakespeare_char.py --device=cpu --eval_iters=2 "
                 "--eval_interval=10 --log_interval=1 --block_size=32 --batch_size=8 "
                 "--n_layer=2 --n_head=4 --n_embd=64 --lr_decay_iters=30 --dtype=float32 "
                 "--always_save_checkpoint=True --out_dir={tmp}/out --max_iters=")
SCRIPTS = {
    "nanoGPT train, resume, sample": ("nanogpt", [
        "data/shakespeare_char/prepare.py",
        NANOGPT_SMALL + "20 --compile=False --dropout=0.1",
        NANOGPT_SMALL + "30 --compile=False --dropout=0.1 --init_from=resume",
        "sample.py --out_dir={tmp}/out --device=cpu --num_samples=2 --max_new_tokens=60 "
        "--compile=False --dtype=float32"], 1e-4),
    "nanoGPT train --compile=True": ("nanogpt", [
        "data/shakespeare_char/prepare.py",
        NANOGPT_SMALL + "10 --dropout=0.0"], 1e-4),
    # 300 steps of float32 with dropout: the losses drift apart at the 1e-5 level by step 190
    "minGPT adder": ("mingpt", ["projects/adder/adder.py --trainer.max_iters=301 "
                                "--trainer.num_workers=0"], 1e-2),
}

# what differs by design: timings, nanoGPT's flops utilisation (from the timings), warnings
# that only one library gives (torch's inductor, deprecations) and the lines that show them
_TIMING = re.compile(r"iter_dt [\d.]+ms|time [\d.]+ms|mfu -?[\d.]+%|ms/batch\s+[\d.]+")
_NOISE = re.compile(r"Warning|^\s|^Overriding|^compiling")


def _printout(text):
    return "\n".join(line for line in text.splitlines() if not _NOISE.search(line))


def _prepare(nanogpt, mingpt, tmp):
    """Copies of the repositories; nanoGPT's character corpus from Python's license texts."""
    shutil.copytree(nanogpt, tmp / "nanogpt", ignore=shutil.ignore_patterns(".git"))
    shutil.copytree(mingpt, tmp / "mingpt", ignore=shutil.ignore_patterns(".git"))
    licenses = sorted(Path(sysconfig.get_paths()["stdlib"]).glob("LICENSE*"))
    text = "".join(p.read_text(errors="ignore") for p in licenses) * 8
    (tmp / "nanogpt/data/shakespeare_char/input.txt").write_text(text[:300_000])
    for library, code in (("chainrule", ALIAS), ("torch", "")):
        (tmp / library).mkdir()
        (tmp / library / "sitecustomize.py").write_text(textwrap.dedent(code))
        try:
            import tiktoken  # noqa: F401
        except ImportError:
            (tmp / library / "tiktoken.py").write_text(
                "def get_encoding(name):\n    raise RuntimeError('no tiktoken installed')\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nanogpt", type=Path, required=True, help="a checkout of nanoGPT")
    parser.add_argument("--mingpt", type=Path, required=True, help="a checkout of minGPT")
    parser.add_argument("--only", default="", help="comma-separated script names")
    parser.add_argument("--timeout", type=int, default=1200, help="seconds per command")
    args = parser.parse_args()
    wanted = [w for w in args.only.split(",") if w]
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        _prepare(args.nanogpt, args.mingpt, tmp)
        for name, (repo, commands, rtol) in SCRIPTS.items():
            if wanted and not any(w in name for w in wanted):
                continue
            outputs = {}
            for lib in ("torch", "chainrule"):
                shutil.rmtree(tmp / "out", ignore_errors=True)
                # minGPT imports its package from the repository root
                where = tmp / repo
                extra = str(where) if repo == "mingpt" else ""
                outputs[lib] = _printout(run(lib, where, [c.format(tmp=tmp) for c in commands],
                                             tmp, args.timeout, extra))
            lines = len(outputs["torch"].splitlines())
            print(f"{name:32s} {verdict(outputs, rtol, _TIMING)} ({lines} lines)")


if __name__ == "__main__":
    main()
