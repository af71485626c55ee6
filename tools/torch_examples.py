"""Run pytorch/examples' scripts unchanged, under torch and under chainrule, and compare what
they print.

The scripts are the repository's own (github.com/pytorch/examples), run as they are with short
settings; only the modules change: for the chainrule run an import hook makes ``torch`` and
``torchvision`` resolve to ``chainrule`` and ``chainrule.vision`` (installed through a
``sitecustomize`` so that processes the scripts spawn get it too). torchvision is not
installed next to torch here (its wheel needs torch's CUDA build), so the torch run gets a
stand-in with the few torchvision names the compared scripts use (MNIST read from the IDX files,
``ToTensor``, ``Normalize``, ``Lambda``, ``Compose``; ``save_image`` writes nothing), following
torchvision's documented formulas. Both runs see the same data and seeds; the printouts are
compared line by line with numbers to a relative 1e-4 (timings dropped; one example's float32
drift needs 1e-2, said where). Scripts whose output
is random by design (no seed, or Hogwild's racing workers) are run and their last lines shown.

It is a report, not a test: it needs the repository and the MNIST files.

    git clone --depth 1 https://github.com/pytorch/examples
    python tools/torch_examples.py examples --mnist DIR_WITH_MNIST_GZ [--only mnist,vae]
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# name: (directory, [command lines], relative tolerance or None when the output is random by
# design) — each command line run in that directory
EXAMPLES = {
    "mnist": ("mnist", ["main.py --epochs 1 --dry-run --no-accel"], 1e-4),
    "mnist_rnn": ("mnist_rnn", ["main.py --epochs 1 --dry-run"], 1e-4),
    # float32 sums in another order, amplified by 20 Adam steps on log(1 + e^x): 1e-5 → 0.3%
    "mnist_forward_forward": ("mnist_forward_forward",
                              ["main.py --epochs 20 --train_size 5000 --test_size 1000"], 1e-2),
    "vae": ("vae", ["main.py --epochs 1 --no-accel --log-interval 200"], 1e-4),
    "word_language_model (LSTM)": (
        "word_language_model",
        ["main.py --data {corpus} --epochs 1 --emsize 32 --nhid 32 --batch_size 8 --bptt 10 "
         "--log-interval 10 --lr 0.5 --save {tmp}/model.pt"], 1e-4),
    "word_language_model (Transformer)": (
        "word_language_model",
        ["main.py --data {corpus} --epochs 1 --model Transformer --emsize 32 --nhid 32 "
         "--batch_size 8 --bptt 10 --log-interval 10 --lr 0.5 --save {tmp}/model.pt"], 1e-4),
    "time_sequence_prediction": ("time_sequence_prediction",
                                 ["generate_sine_wave.py", "train.py --steps 2"], 1e-4),
    # no seed at all; racing workers
    "regression": ("regression", ["main.py"], None),
    "mnist_hogwild": ("mnist_hogwild",
                      ["main.py --epochs 1 --num-processes 2 --log-interval 300"], None),
}

ALIAS = '''
import importlib, importlib.abc, importlib.util, sys
class _Alias(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    MAP = (("torchvision", "chainrule.vision"), ("torch", "chainrule"))
    def find_spec(self, name, path, target=None):
        for src, dst in self.MAP:
            if name == src or name.startswith(src + "."):
                return importlib.util.spec_from_loader(name, self)
    def create_module(self, spec):
        for src, dst in self.MAP:
            if spec.name == src or spec.name.startswith(src + "."):
                return importlib.import_module(dst + spec.name[len(src):])
    def exec_module(self, module):
        pass
sys.meta_path.insert(0, _Alias())
'''

TORCHVISION_STAND_IN = '''
import gzip, os, sys, types
import numpy as np
import torch

def _idx(path):
    with gzip.open(path) as f:
        data = f.read()
    n = int.from_bytes(data[4:8], "big")
    if int.from_bytes(data[:4], "big") == 2051:
        return np.frombuffer(data, np.uint8, offset=16).reshape(n, 28, 28)
    return np.frombuffer(data, np.uint8, offset=8)

class MNIST(torch.utils.data.Dataset):
    def __init__(self, root, train=True, download=False, transform=None, target_transform=None):
        raw = os.path.join(root, "MNIST", "raw")
        stem = "train" if train else "t10k"
        self.data = torch.tensor(_idx(os.path.join(raw, stem + "-images-idx3-ubyte.gz")))
        self.targets = torch.tensor(
            _idx(os.path.join(raw, stem + "-labels-idx1-ubyte.gz")).astype(np.int64))
        self.transform, self.target_transform = transform, target_transform
    def __len__(self):
        return len(self.data)
    def __getitem__(self, i):
        img, y = self.data[i].numpy(), int(self.targets[i])
        img = img if self.transform is None else self.transform(img)
        return img, (y if self.target_transform is None else self.target_transform(y))

class ToTensor:            # uint8 H x W (x C) -> float C x H x W in [0, 1]
    def __call__(self, a):
        a = np.asarray(a)
        a = a[None] if a.ndim == 2 else a.transpose(2, 0, 1)
        return torch.tensor(a.astype(np.float32) / 255.0)

class Normalize:
    def __init__(self, mean, std):
        self.mean = torch.tensor(mean).view(-1, 1, 1)
        self.std = torch.tensor(std).view(-1, 1, 1)
    def __call__(self, t):
        return (t - self.mean) / self.std

class Lambda:
    def __init__(self, f):
        self.f = f
    def __call__(self, x):
        return self.f(x)

class Compose:
    def __init__(self, transforms):
        self.transforms = transforms
    def __call__(self, x):
        for t in self.transforms:
            x = t(x)
        return x

_tv = types.ModuleType("torchvision")
for _name, _attrs in (("datasets", {"MNIST": MNIST}),
                      ("transforms", {c.__name__: c
                                      for c in (ToTensor, Normalize, Lambda, Compose)}),
                      ("utils", {"save_image": lambda *args, **kwargs: None})):
    _module = types.ModuleType("torchvision." + _name)
    _module.__dict__.update(_attrs)
    setattr(_tv, _name, _module)
    sys.modules["torchvision." + _name] = _module
sys.modules["torchvision"] = _tv
'''

_NUMBER = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?")
_TIMING = re.compile(r"ms/batch\s+[\d.]+|time:\s+[\d.]+s")


def _corpus(directory):
    """A small word corpus in word_language_model's layout (train/valid/test.txt)."""
    import random
    rng = random.Random(0)
    words = "the cat sat on a mat dog ran to house and then slept big red".split()
    directory.mkdir(parents=True, exist_ok=True)
    for split, lines in (("train", 300), ("valid", 40), ("test", 40)):
        (directory / f"{split}.txt").write_text(
            "".join(" " + " ".join(rng.choice(words) for _ in range(10)) + " \n"
                    for _ in range(lines)))


def run(library, example_dir, commands, env_dir, timeout, extra_path=""):
    """The combined printout of the commands, run under ``library`` ('torch' or 'chainrule'),
    with ``extra_path`` first on the module path when given."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        p for p in [extra_path, str(env_dir / library), str(ROOT / "src"),
                    os.environ.get("PYTHONPATH", "")] if p))
    out = []
    for command in commands:
        result = subprocess.run([sys.executable, *command.split()], cwd=example_dir, env=env,
                                capture_output=True, text=True, timeout=timeout)
        out.append(result.stdout)
        if result.returncode:
            out.append(f"[exit {result.returncode}] " + result.stderr.strip().splitlines()[-1])
            break
    return "".join(out)


def differences(mine, ref, rtol, timing=_TIMING):
    """The first line where the printouts differ beyond ``rtol``, or None (``timing`` matches
    what is dropped from each line first)."""
    a = [timing.sub("", line) for line in mine.strip().splitlines()]
    b = [timing.sub("", line) for line in ref.strip().splitlines()]
    if len(a) != len(b):
        return f"{len(a)} lines, torch {len(b)}"
    for x, y in zip(a, b):
        nx, ny = _NUMBER.findall(x), _NUMBER.findall(y)
        if _NUMBER.sub("#", x) != _NUMBER.sub("#", y) or len(nx) != len(ny) or any(
                abs(float(p) - float(q)) > rtol * max(abs(float(q)), 1e-3)
                for p, q in zip(nx, ny)):
            return f"chainrule: {x.strip()!r}\n{'':28s}torch:     {y.strip()!r}"
    return None


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("examples", type=Path, help="a checkout of pytorch/examples")
    parser.add_argument("--mnist", type=Path, required=True,
                        help="a directory holding the four MNIST .gz files")
    parser.add_argument("--only", default="", help="comma-separated example names")
    parser.add_argument("--timeout", type=int, default=1200, help="seconds per command")
    args = parser.parse_args()
    wanted = [w for w in args.only.split(",") if w]
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        shutil.copytree(args.examples, tmp / "examples", ignore=shutil.ignore_patterns(".git"))
        for sub in ("data", "examples/data", *(f"examples/{d}/data" for d in
                                               ("mnist_forward_forward",))):
            (tmp / sub / "MNIST" / "raw").mkdir(parents=True, exist_ok=True)
            for f in args.mnist.glob("*.gz"):
                shutil.copy(f, tmp / sub / "MNIST" / "raw")
        _corpus(tmp / "corpus")
        for library, code in (("chainrule", ALIAS), ("torch", TORCHVISION_STAND_IN)):
            (tmp / library).mkdir()
            (tmp / library / "sitecustomize.py").write_text(textwrap.dedent(code))
        for name, (directory, commands, rtol) in EXAMPLES.items():
            if wanted and not any(w in name for w in wanted):
                continue
            commands = [c.format(corpus=tmp / "corpus", tmp=tmp) for c in commands]
            where = tmp / "examples" / directory
            outputs = {lib: run(lib, where, commands, tmp, args.timeout)
                       for lib in ("torch", "chainrule")}
            print(f"{name:34s} {verdict(outputs, rtol)}")


def verdict(outputs, rtol, timing=_TIMING):
    """'same printout', 'differs: …' (``differences``), or each library's last line when a run
    failed or the output is random by design (``rtol`` None)."""
    if rtol is not None and "[exit" not in outputs["torch"] + outputs["chainrule"]:
        diff = differences(outputs["chainrule"], outputs["torch"], rtol, timing)
        return "same printout" if diff is None else f"differs: {diff}"
    last = {lib: (out.strip().splitlines() or [""])[-1][:100] for lib, out in outputs.items()}
    return f"chainrule: {last['chainrule']!r}; torch: {last['torch']!r}"


if __name__ == "__main__":
    main()
