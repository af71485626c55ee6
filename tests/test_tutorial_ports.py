"""Ports of real code: twelve short scripts in the style of PyTorch's beginner tutorials
(tests/ports/), each run twice — as written, with torch, and with only its import lines changed
to chainrule's (``import torch`` → ``import chainrule as torch``, ``torchvision`` →
``chainrule.vision``) — and their printouts compared: the same text, the same numbers (to float32
rounding of a few training steps).

torchvision is not a test dependency (PyPI's wheel needs torch's CUDA build), so in the torch run
a few lines of torch code stand in for the three torchvision names the MNIST script imports,
following torchvision's documented formulas."""
import contextlib
import io
import re
import sys
import types
from pathlib import Path

import numpy as np
import pytest
import torch

from test_vision_transforms import write_mnist

PORTS = sorted((Path(__file__).parent / "ports").glob("p*.py"))
_NUMBER = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?")


def to_chainrule(source):
    """The script with its import lines changed, and nothing else."""
    rules = [(r"^import torch$", "import chainrule as torch"),
             (r"^import torch\.(\S+) as (\w+)$", r"import chainrule.\1 as \2"),
             (r"^from torchvision(\.\S+)? import", r"from chainrule.vision\1 import"),
             (r"^from torch(\.\S+)? import", r"from chainrule\1 import")]
    lines = []
    for line in source.splitlines():
        for pattern, replacement in rules:
            line = re.sub(pattern, replacement, line)
        lines.append(line)
    return "\n".join(lines) + "\n"


def _torchvision_standin():
    """torchvision.datasets.MNIST, transforms.Compose/ToTensor/Normalize for the torch run."""
    class MNIST(torch.utils.data.Dataset):
        def __init__(self, root, train=True, download=False, transform=None):
            prefix = "train" if train else "t10k"
            raw = Path(root) / "MNIST" / "raw"
            read = lambda name, skip: np.frombuffer((raw / name).read_bytes()[skip:], np.uint8)
            self.data = read(f"{prefix}-images-idx3-ubyte", 16).reshape(-1, 28, 28)
            self.targets = read(f"{prefix}-labels-idx1-ubyte", 8).astype(np.int64)
            self.transform = transform

        def __len__(self):
            return len(self.data)

        def __getitem__(self, i):
            image = self.data[i]
            return (self.transform(image) if self.transform else image), int(self.targets[i])

    class Compose:
        def __init__(self, transforms):
            self.transforms = transforms

        def __call__(self, x):
            for t in self.transforms:
                x = t(x)
            return x

    def to_tensor(image):           # HW or HWC uint8 -> CHW float32 in [0, 1]
        t = torch.from_numpy(np.array(image, copy=True))
        t = t[None] if t.ndim == 2 else t.permute(2, 0, 1)
        return t.float().div(255)

    class Normalize:
        def __init__(self, mean, std):
            self.mean, self.std = torch.tensor(mean)[:, None, None], torch.tensor(std)[:, None, None]

        def __call__(self, t):
            return (t - self.mean) / self.std

    transforms = types.ModuleType("torchvision.transforms")
    transforms.Compose, transforms.ToTensor, transforms.Normalize = Compose, lambda: to_tensor, Normalize
    datasets = types.ModuleType("torchvision.datasets")
    datasets.MNIST = MNIST
    package = types.ModuleType("torchvision")
    package.datasets, package.transforms = datasets, transforms
    return {"torchvision": package, "torchvision.datasets": datasets,
            "torchvision.transforms": transforms}


def run(source):
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(source, "<port>", "exec"), {"__name__": "__main__"})
    return out.getvalue()


def assert_same_printout(mine, theirs, rtol=1e-4, atol=1e-5):
    """Equal text between the numbers, and numbers equal to float32 rounding."""
    assert _NUMBER.split(mine) == _NUMBER.split(theirs), (mine, theirs)
    a = np.array([float(n) for n in _NUMBER.findall(mine)])
    b = np.array([float(n) for n in _NUMBER.findall(theirs)])
    np.testing.assert_allclose(a, b, rtol=rtol, atol=atol)


@pytest.fixture
def data_root(tmp_path, monkeypatch):
    """A working directory with ./data/MNIST/raw (a few IDX images), as the tutorials expect."""
    monkeypatch.chdir(tmp_path)
    raw = tmp_path / "data" / "MNIST" / "raw"
    raw.mkdir(parents=True)
    write_mnist(str(raw), n=48, seed=0, prefix="train")
    write_mnist(str(raw), n=20, seed=1, prefix="t10k")
    return tmp_path


def test_the_import_change_is_the_only_change():
    source = "import torch\nimport torch.nn.functional as F\nfrom torch import nn\nx = torch.ones(1)\n"
    assert to_chainrule(source) == ("import chainrule as torch\nimport chainrule.nn.functional as F\n"
                                    "from chainrule import nn\nx = torch.ones(1)\n")


def test_printout_comparison_can_fail():
    with pytest.raises(AssertionError):
        assert_same_printout("loss 0.5000", "loss 0.5100")
    with pytest.raises(AssertionError):
        assert_same_printout("tensor([1.])", "tensor([1.], grad_fn=<AddBackward0>)")


@pytest.fixture
def settings_restored():
    """A port may change process-wide settings at its top, as scripts do (determinism, default
    dtype, matmul precision, grad mode): both frameworks' are put back after it."""
    import chainrule as cr
    saved = [(lib, lib.are_deterministic_algorithms_enabled(), lib.get_default_dtype(),
              lib.get_float32_matmul_precision(), lib.is_grad_enabled()) for lib in (torch, cr)]
    cudnn = (torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark)
    yield
    for lib, deterministic, dtype, precision, grad in saved:
        lib.use_deterministic_algorithms(deterministic)
        lib.set_default_dtype(dtype)
        lib.set_float32_matmul_precision(precision)
        lib.set_grad_enabled(grad)
    torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark = cudnn


@pytest.mark.parametrize("port", PORTS, ids=[p.stem for p in PORTS])
def test_tutorial_port_prints_what_torch_prints(port, data_root, monkeypatch, settings_restored):
    source = port.read_text()
    for name, module in _torchvision_standin().items():
        monkeypatch.setitem(sys.modules, name, module)
    theirs = run(source).replace("torch", "chainrule")
    for name in list(_torchvision_standin()):
        monkeypatch.delitem(sys.modules, name)
    mine = run(to_chainrule(source))
    assert_same_printout(mine, theirs)
