"""What the commands build by name: data sets (as NumPy arrays), models and optimizers.

Data sets come from :mod:`chainrule.datasets` (the copies scikit-learn ships, or MNIST /
Fashion-MNIST / CIFAR-10 files in ``--data-dir``); models from :mod:`chainrule.models` and
:mod:`chainrule.nn`; optimizers from :mod:`chainrule.optim`.

A model named ``pkg.module:factory`` is code, not data: :func:`load_factory` imports it only
from the Python path without the current directory (which ``python -m`` puts first, so that a
file dropped beside a run folder cannot shadow a module), and checks that the factory is a
callable accepting ``input_shape`` and ``num_outputs`` before anything calls it. Whether a
name read from a file may be imported at all is the commands' decision (``--trust-model-code``).
"""
from __future__ import annotations

import contextlib
import importlib
import inspect
import os
import pickle
import re
import sys

import numpy as np

from ._compat import to_numpy

# name -> (constructor in chainrule.optim, fixed options, default lr)
OPTIMIZER_SPECS = {
    "sgd": ("SGD", {}, 0.1),
    "momentum": ("SGD", {"momentum": 0.9}, 0.05),
    "nesterov": ("SGD", {"momentum": 0.9, "nesterov": True}, 0.05),
    "adagrad": ("Adagrad", {}, 0.05),
    "rmsprop": ("RMSprop", {}, 1e-3),
    "adam": ("Adam", {}, 1e-3),
    "adamw": ("AdamW", {}, 1e-3),
}

TRAIN_MODELS = ("mlp", "lenet5", "resnet20", "glm", "perceptron", "linear")
TRAIN_DATASETS = ("digits", "iris", "breast_cancer", "diabetes", "mnist", "fashion_mnist",
                  "cifar10")
IMAGE_DATASETS = ("digits", "mnist", "fashion_mnist", "cifar10")


FACTORY_NAME = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$")


def is_factory_name(name) -> bool:
    """Whether ``name`` has the form ``pkg.module:factory`` (a model that is code)."""
    return isinstance(name, str) and bool(FACTORY_NAME.match(name))


def default_lr(name: str) -> float:
    """The usual learning rate of optimizer ``name`` (what ``--lr`` defaults to)."""
    return OPTIMIZER_SPECS[name][2]


def make_optimizer(name, params, lr=None, weight_decay=0.0):
    """``chainrule.optim`` optimizer ``name`` (sgd, momentum, nesterov, adagrad, rmsprop, adam,
    adamw) over ``params``; ``lr=None`` takes the method's usual rate."""
    from .. import optim
    if name not in OPTIMIZER_SPECS:
        raise ValueError(f"optimizer: unknown {name!r}; allowed: {', '.join(OPTIMIZER_SPECS)}")
    cls, kw, default_lr = OPTIMIZER_SPECS[name]
    kw = dict(kw)
    if weight_decay:
        kw["weight_decay"] = weight_decay
    return getattr(optim, cls)(params, lr=default_lr if lr is None else lr, **kw)


# ---------------------------------------------------------------------------- data sets
def _arrays(obj):
    """(X, y) as NumPy arrays from what a loader returns: a pair, a Bunch-like object with
    ``data``/``target`` (or ``targets``), or a Dataset with ``data`` and ``targets``."""
    if isinstance(obj, tuple) and len(obj) == 2:
        return to_numpy(obj[0]), to_numpy(obj[1])
    data = obj["data"] if isinstance(obj, dict) else getattr(obj, "data")
    target = (obj.get("target", obj.get("targets")) if isinstance(obj, dict)
              else getattr(obj, "target", getattr(obj, "targets", None)))
    return to_numpy(data), to_numpy(target)


class Data:
    """A data set as arrays: ``X`` (N, ...) float32, ``y`` (N,) int64 labels or float32 targets;
    ``X_test``/``y_test`` when the set comes with its own test split; ``image_shape`` (C, H, W)
    for images; ``scale``: what raw values are divided by (255 for 8-bit pixels)."""

    def __init__(self, name, X, y, X_test=None, y_test=None, image_shape=None, scale=1.0,
                 task="classification", classes=None):
        self.name, self.X, self.y, self.X_test, self.y_test = name, X, y, X_test, y_test
        self.image_shape, self.scale, self.task = image_shape, scale, task
        self.classes = classes if classes is not None else (
            sorted(np.unique(y).tolist()) if task == "classification" else None)


def load_data(name: str, data_dir: str | None = None, download: bool = False) -> Data:
    """Load data set ``name`` as :class:`Data`; ``download``: fetch missing MNIST /
    Fashion-MNIST / CIFAR-10 files into ``data_dir`` (checksums checked)."""
    from . import _compat
    if name in ("digits", "iris", "breast_cancer", "diabetes"):
        X, y = _arrays(_compat.load_bundled(name))
        X = X.astype(np.float32)
        if name == "diabetes":
            return Data(name, X, y.astype(np.float32), task="regression")
        y = y.astype(np.int64)
        if name == "digits":             # 8×8 images with ink values 0 … 16
            return Data(name, X.reshape(-1, 1, 8, 8), y, image_shape=(1, 8, 8), scale=16.0)
        return Data(name, X, y)
    if name in ("mnist", "fashion_mnist", "cifar10"):
        if not data_dir:
            raise ValueError(f"dataset {name!r} reads its files from --data-dir (the folder "
                             "holding them); none was given")
        cls = {"mnist": "MNIST", "fashion_mnist": "FashionMNIST", "cifar10": "CIFAR10"}[name]
        try:
            train = _compat.dataset_class(cls)(data_dir, train=True, download=download)
            test = _compat.dataset_class(cls)(data_dir, train=False, download=download)
        except (RuntimeError, pickle.UnpicklingError, OSError, EOFError) as e:
            # the loaders say which files are missing and where they go, or which global a
            # CIFAR batch names that the restricted unpickler refuses; the commands show that
            # as a user error (ValueError), not a traceback
            raise ValueError(f"dataset {name!r}: {e}") from None
        (X, y), (Xt, yt) = _arrays(train), _arrays(test)
        if X.ndim == 3:                  # (N, H, W) grey images
            X, Xt = X[:, None], Xt[:, None]
        elif X.ndim == 4 and X.shape[-1] in (1, 3):   # (N, H, W, C) → (N, C, H, W)
            X, Xt = X.transpose(0, 3, 1, 2), Xt.transpose(0, 3, 1, 2)
        scale = 255.0 if X.dtype == np.uint8 else 1.0
        return Data(name, X.astype(np.float32), y.astype(np.int64), Xt.astype(np.float32),
                    yt.astype(np.int64), image_shape=tuple(X.shape[1:]), scale=scale)
    raise ValueError(f"dataset: unknown {name!r}; allowed: {', '.join(TRAIN_DATASETS)}")


# ---------------------------------------------------------------------------- models
def lenet_style(in_channels: int, size: int, num_classes: int):
    """LeNet-5's layout (conv → pool → conv → pool → 120 → 84 → classes) for small images:
    ``chainrule.models.LeNet5`` for 28×28 / 32×32 input; for smaller ones (the 8×8 digits) the
    same layout with 3×3 'same' convolutions so two 2×2 poolings still fit."""
    from .. import nn
    if size >= 28:
        from ..models import LeNet5
        if size not in (28, 32):
            raise ValueError(f"model 'lenet5': LeNet5 takes 28×28 or 32×32 images, got {size}×{size}")
        return LeNet5(in_channels=in_channels, num_classes=num_classes, input_size=size)
    if size < 4:        # two 2×2 poolings need at least 4 pixels a side
        raise ValueError(f"model 'lenet5': needs images of at least 4×4 pixels, got {size}×{size}")
    after = size // 4
    return nn.Sequential(
        nn.Conv2d(in_channels, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(32 * after * after, 120), nn.ReLU(),
        nn.Linear(120, 84), nn.ReLU(),
        nn.Linear(84, num_classes))


@contextlib.contextmanager
def _without_current_directory():
    """sys.path without the entries that mean "the current directory" ('' and its absolute
    path) for the duration of an import."""
    saved = list(sys.path)
    here = os.path.abspath(os.getcwd())
    sys.path[:] = [p for p in sys.path if p not in ("", ".") and os.path.abspath(p) != here]
    try:
        yield
    finally:
        sys.path[:] = saved


def load_factory(name: str):
    """The callable ``pkg.module:factory`` names, imported from the Python path without the
    current directory, checked to accept ``factory(input_shape=..., num_outputs=...)``.
    Raises ValueError (the commands' user error) when it cannot be loaded or called so."""
    if not is_factory_name(name):
        raise ValueError(f"model: {name!r} is not a factory name; expected pkg.module:function")
    mod, _, fn = name.partition(":")
    try:
        with _without_current_directory():
            module = importlib.import_module(mod)
    except ImportError as e:
        raise ValueError(f"model: cannot load factory {name!r} ({e}); factory modules are "
                         "imported from PYTHONPATH and installed packages, not from the current "
                         "directory (PYTHONPATH=. adds it)") from None
    except Exception as e:    # noqa: BLE001 — the module's own code failed on import
        raise ValueError(f"model: importing {mod!r} for factory {name!r} failed: "
                         f"{type(e).__name__}: {e}") from None
    factory = getattr(module, fn, None)
    if factory is None:
        raise ValueError(f"model: cannot load factory {name!r} (module {mod!r} has no "
                         f"attribute {fn!r})")
    if not callable(factory) or isinstance(factory, type) and not hasattr(factory, "forward"):
        raise ValueError(f"model: factory {name!r} is a {type(factory).__name__}, not a "
                         "function returning a model")
    try:
        inspect.signature(factory).bind(input_shape=(1,), num_outputs=1)
    except (TypeError, ValueError) as e:
        raise ValueError(f"model: factory {name!r} must accept factory(input_shape=..., "
                         f"num_outputs=...) ({e}); refusing to call it") from None
    return factory


def build_model(name: str, input_shape: tuple, num_outputs: int, *, hidden=(128, 64),
                activation="relu", family=None):
    """Model ``name`` for inputs of shape ``input_shape`` (one sample) and ``num_outputs``
    outputs (classes, or 1 for regression). ``name`` may be ``pkg.module:factory``
    (:func:`load_factory`): it is called as ``factory(input_shape=..., num_outputs=...)`` and
    must return an nn.Module."""
    from .. import models, nn
    if ":" in name:
        factory = load_factory(name)
        try:
            model = factory(input_shape=tuple(input_shape), num_outputs=num_outputs)
        except Exception as e:    # noqa: BLE001 — the user's code failed: say whose
            raise ValueError(f"model: factory {name!r} failed: {type(e).__name__}: {e}") from None
        if not (hasattr(model, "parameters") and callable(model)) and not is_estimator(model):
            raise ValueError(f"model: factory {name!r} returned a {type(model).__name__}, not "
                             "a chainrule.nn.Module")
        return model
    features = int(np.prod(input_shape))
    if name == "mlp":
        mlp = models.MLP(features, list(hidden), num_outputs, activation=activation)
        return nn.Sequential(nn.Flatten(), mlp) if len(input_shape) > 1 else mlp
    if name == "linear":
        lin = nn.Linear(features, num_outputs)
        return nn.Sequential(nn.Flatten(), lin) if len(input_shape) > 1 else lin
    if name in ("lenet5", "resnet20"):
        if len(input_shape) != 3:
            raise ValueError(f"model {name!r} needs images (C, H, W); this data set has feature "
                             f"vectors of shape {tuple(input_shape)}")
        if name == "lenet5":
            return lenet_style(input_shape[0], input_shape[1], num_outputs)
        return models.resnet20(num_classes=num_outputs, in_channels=input_shape[0])
    if name in ("glm", "perceptron") and num_outputs > 2:
        raise ValueError(f"model {name!r} is a binary classifier (or, for glm, a regression); "
                         f"this data set has {num_outputs} classes — use breast_cancer or "
                         "diabetes, or --model mlp")
    if name == "glm":
        return models.GLM(family or ("gaussian" if num_outputs == 1 else "bernoulli"))
    if name == "perceptron":
        if num_outputs != 2:
            raise ValueError("model 'perceptron' is a binary classifier; use breast_cancer")
        return models.Perceptron()
    raise ValueError(f"model: unknown {name!r}; allowed: {', '.join(TRAIN_MODELS)} or "
                     "pkg.module:factory")


def is_estimator(model) -> bool:
    """True for the scikit-learn-style models (fit/predict, no optimizer): GLM, Perceptron."""
    return hasattr(model, "fit") and hasattr(model, "predict") and not hasattr(model, "forward")
