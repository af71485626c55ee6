"""``chainrule predict RUN_DIR INPUT``: classify an image file or a .npy array with a trained
run; prints the class and the class probabilities of each sample.

INPUT is
* a ``.npy`` array of raw inputs on the data set's own scale (digits: ink 0 … 16; MNIST: 0 …
  255): one sample of the model's input shape, or a batch of them (for images, a leading
  channel axis may be left out);
* an image file (PNG, JPEG, ...; read with Pillow, which the `viz` extra brings): converted to
  grey (or RGB for 3-channel models), resized to the model's input size, and turned into ink on
  a dark background like the digits when its background is light.
"""
from __future__ import annotations

import os
import warnings

import numpy as np

from . import CLIError, limits


MAX_IMAGE_PIXELS = 50_000_000     # a photo is ~12 MP; more is a decompression bomb
MAX_NPY_BYTES = 2 * 2 ** 30


def add_parser(sub):
    from .evaluate import add_model_options
    p = sub.add_parser("predict", help="classify an image file or a .npy array",
                       description="Classify INPUT (an image file, or a .npy array of one sample "
                       "or a batch, on the data set's raw scale) with the model of a run folder; "
                       "prints the class and the probabilities.")
    p.add_argument("run_dir", metavar="RUN_DIR")
    p.add_argument("input", metavar="INPUT", help="an image file or a .npy array")
    p.add_argument("--top", type=limits.flag("top"), default=3,
                   help="probabilities shown per sample (default 3)")
    add_model_options(p)
    p.set_defaults(func=main)
    return p


def read_image(path: str, shape: tuple, raw_max: float) -> np.ndarray:
    """An image file as one raw input sample of ``shape`` (C, H, W) on the scale 0 … raw_max."""
    try:
        from PIL import Image
    except ImportError:
        raise CLIError("reading image files needs Pillow: pip install 'chainrule[viz]' "
                       "(or pass a .npy array)") from None
    c, h, w = shape
    try:
        with warnings.catch_warnings():
            # Pillow warns above MAX_IMAGE_PIXELS and raises above twice that; both are refused
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as img:
                if img.width * img.height > MAX_IMAGE_PIXELS:
                    raise CLIError(f"{path} claims {img.width}×{img.height} pixels, "
                                   f"more than {MAX_IMAGE_PIXELS:,}; resize it first")
                img = img.convert("L" if c == 1 else "RGB")
                img = img.resize((w, h), Image.BILINEAR)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as e:
        raise CLIError(f"{path} is too large to decode safely ({e})") from None
    except (OSError, ValueError, SyntaxError, EOFError) as e:
        # Pillow raises these for unreadable, truncated or malformed files
        raise CLIError(f"cannot read image {path}: {e}") from None
    a = np.asarray(img, dtype=np.float32) / 255.0
    a = a[None] if c == 1 else a.transpose(2, 0, 1)
    if c == 1 and a.mean() > 0.5:       # dark ink on white paper → light ink on black
        a = 1.0 - a
    return (a * raw_max)[None]


def read_npy(path: str) -> np.ndarray:
    """A .npy file as a float32 array of numbers; anything else is a CLIError."""
    if os.path.getsize(path) > MAX_NPY_BYTES:
        raise CLIError(f"{path} is over {MAX_NPY_BYTES // 2 ** 30} GiB; split it into "
                       "smaller batches")
    try:
        a = np.load(path, allow_pickle=False)
    except ValueError as e:
        if "pickle" in str(e):      # NumPy's advice to allow pickles is not ours to give
            raise CLIError(f"{path} is not a .npy array of numbers (a pickle, or not a .npy file "
                           "at all); chainrule never unpickles input files") from None
        raise CLIError(f"{path} is not a plain .npy array ({e})") from None
    except (OSError, EOFError) as e:
        raise CLIError(f"{path} cannot be read as a .npy array "
                       f"({getattr(e, 'strerror', None) or e})") from None
    if not isinstance(a, np.ndarray):          # np.load gives an NpzFile for a .npz renamed
        raise CLIError(f"{path} is not a .npy array (a .npz archive?)")
    if a.dtype.kind not in "biuf":
        raise CLIError(f"{path} holds {a.dtype} values; expected numbers")
    if a.size == 0:
        raise CLIError(f"{path} holds an empty array of shape {a.shape}; expected at "
                       "least one sample")
    a = a.astype(np.float32)
    if not np.isfinite(a).all():
        where = tuple(int(i) for i in np.argwhere(~np.isfinite(a))[0])
        raise CLIError(f"{path} contains NaN or infinite values (first at index "
                       f"{where}); expected finite numbers")
    return a


def read_input(path: str, config: dict, pre) -> np.ndarray:
    """INPUT as a raw batch of shape (N, *input_shape)."""
    shape = tuple(config["input_shape"])
    if not os.path.exists(path):
        raise CLIError(f"no such file {path}")
    if os.path.isdir(path):
        raise CLIError(f"{path} is a folder; expected an image file or a .npy array")
    if path.lower().endswith(".npy"):
        a = read_npy(path)
        n = int(np.prod(shape))
        if a.shape == shape:
            return a[None]
        if a.shape[1:] == shape:
            return a
        if len(shape) == 3 and shape[0] == 1:
            if a.shape == shape[1:]:
                return a[None, None]
            if a.shape[1:] == shape[1:]:
                return a[:, None]
        if a.ndim >= 1 and a.shape[-1] == n and a.size % n == 0:
            return a.reshape((-1,) + shape)
        raise CLIError(f"{path} holds an array of shape {a.shape}; the model takes one "
                       f"sample of shape {shape} or a batch (N, {', '.join(map(str, shape))})")
    if len(shape) != 3:
        raise CLIError(f"the model takes feature vectors of shape {shape}; pass them "
                       "as a .npy array")
    return read_image(path, shape, pre.scale)


def predict(run_dir: str, input_path: str, trust_model_code: bool = False,
            which: str = "last"):
    """(predicted classes (N,), probabilities (N, C), class names) for INPUT."""
    from .evaluate import load_run, scores_of
    config, model, pre = load_run(run_dir, trust_model_code, which)
    X = read_input(input_path, config, pre)
    with np.errstate(over="ignore", invalid="ignore"):
        scores = scores_of(model, pre(X), config)
    if not np.isfinite(scores).all():
        bad = int(np.argwhere(~np.isfinite(scores.reshape(len(scores), -1)).all(axis=1))[0][0]) \
            if scores.ndim else 0
        raise CLIError(f"the model's output for sample {bad} of {input_path} is not "
                       "finite (NaN/Inf): the input is far outside the data the model was "
                       "trained on (raw values on the data set's own scale are expected)")
    if config["task"] == "regression":
        return scores.reshape(-1), None, None
    if scores.ndim == 1:
        return scores.astype(int), None, config["classes"]
    z = scores - scores.max(axis=1, keepdims=True)
    probs = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    return probs.argmax(axis=1), probs, config["classes"]


def main(args) -> int:
    try:
        pred, probs, classes = predict(args.run_dir, args.input, args.trust_model_code,
                                       args.checkpoint)
    except (ValueError, ImportError) as e:      # the model rejected the input's values
        raise CLIError(f"{e}") from None
    for i, k in enumerate(pred):
        if probs is None:
            print(f"sample {i}: {'prediction' if classes is None else 'class'} {k}")
            continue
        order = np.argsort(-probs[i])[:max(1, args.top)]
        shown = ", ".join(f"{classes[j]}: {probs[i, j]:.3f}" for j in order)
        print(f"sample {i}: class {classes[k]}  (p = {shown})")
    return 0
