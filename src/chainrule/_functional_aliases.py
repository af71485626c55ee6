"""The neural-network functions torch also exposes at its top level (``torch.conv2d``,
``torch.max_pool2d``, ``torch.dropout(x, p, train)``, ``torch.embedding(weight, indices)``, ...):
the functions of :mod:`chainrule.nn.functional`, under torch's top-level signatures where
those differ (a required ``train`` flag, ``stride=()`` for "the kernel size", the embedding's
weight first and ``padding_idx=-1`` for none)."""
from __future__ import annotations

from .nn import functional as F

__all__ = ["alpha_dropout", "avg_pool1d", "bilinear", "celu", "conv1d", "conv2d", "conv3d",
           "conv_transpose1d", "conv_transpose2d", "conv_transpose3d", "dropout", "embedding",
           "feature_alpha_dropout", "hardshrink", "layer_norm", "max_pool1d", "max_pool2d",
           "max_pool3d", "pixel_shuffle", "pixel_unshuffle", "prelu", "rms_norm", "rrelu",
           "selu", "threshold"]

conv1d, conv2d, conv3d = F.conv1d, F.conv2d, F.conv3d
conv_transpose1d, conv_transpose2d, conv_transpose3d = (F.conv_transpose1d, F.conv_transpose2d,
                                                        F.conv_transpose3d)
pixel_shuffle, pixel_unshuffle, bilinear, prelu = (F.pixel_shuffle, F.pixel_unshuffle, F.bilinear,
                                                   F.prelu)


def _pool(fn):
    def pool(input, kernel_size, stride=(), padding=0, dilation=1, ceil_mode=False):
        return fn(input, kernel_size, stride if stride not in ((), []) else None, padding,
                  dilation, ceil_mode)
    pool.__name__ = pool.__qualname__ = fn.__name__
    pool.__doc__ = (f"``{fn.__name__}`` at torch's top level: ``nn.functional.{fn.__name__}`` "
                    "(an empty ``stride`` means the kernel size).")
    return pool


max_pool1d, max_pool2d, max_pool3d = _pool(F.max_pool1d), _pool(F.max_pool2d), _pool(F.max_pool3d)


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
    """``nn.functional.avg_pool1d``."""
    return F.avg_pool1d(input, kernel_size, stride if stride not in ((), []) else None, padding,
                        ceil_mode, count_include_pad)


def dropout(input, p, train):
    """``nn.functional.dropout(input, p, training=train)``: ``train`` is required."""
    return F.dropout(input, p, train)


def alpha_dropout(input, p, train):
    """``nn.functional.alpha_dropout(input, p, training=train)``."""
    return F.alpha_dropout(input, p, train)


def feature_alpha_dropout(input, p, train):
    """``nn.functional.feature_alpha_dropout(input, p, training=train)``."""
    return F.feature_alpha_dropout(input, p, train)


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5, cudnn_enable=True):
    """``nn.functional.layer_norm`` (``cudnn_enable`` has no effect)."""
    return F.layer_norm(input, normalized_shape, weight, bias, eps)


def rms_norm(input, normalized_shape, weight=None, eps=None):
    """``nn.functional.rms_norm``."""
    return F.rms_norm(input, normalized_shape, weight, eps)


def embedding(weight, indices, padding_idx=-1, scale_grad_by_freq=False, sparse=False):
    """``nn.functional.embedding(indices, weight)``: torch's top level takes the weight first
    and ``padding_idx=-1`` for none."""
    return F.embedding(indices, weight, None if padding_idx == -1 else padding_idx,
                       scale_grad_by_freq=scale_grad_by_freq, sparse=sparse)


def celu(input, alpha=1.0):
    """``nn.functional.celu``."""
    return F.celu(input, alpha)


def selu(input):
    """``nn.functional.selu``."""
    return F.selu(input)


def threshold(input, threshold, value):
    """``nn.functional.threshold``."""
    return F.threshold(input, threshold, value)


def hardshrink(input, lambd=0.5):
    """``nn.functional.hardshrink``."""
    return F.hardshrink(input, lambd)


def rrelu(input, lower=1.0 / 8, upper=1.0 / 3, training=False, generator=None):
    """``nn.functional.rrelu`` (the slope drawn from the default generator)."""
    if generator is not None:
        raise TypeError("rrelu: generator= is not supported; seed the default generator instead")
    return F.rrelu(input, lower, upper, training)
