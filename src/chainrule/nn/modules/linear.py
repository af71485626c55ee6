"""Fully connected layers: Identity, Linear (y = xWᵀ + b), Bilinear."""
from __future__ import annotations

import math

import numpy as np

from ... import creation
from ..._device import check_device
from .. import functional as F
from .. import init
from ..._modes import no_grad
from ..parameter import Parameter, UninitializedParameter
from .lazy import LazyModuleMixin
from .module import Module
from ...tensor import Tensor


def _empty(*shape, dtype=None):
    return Parameter(creation.empty(*shape, dtype=dtype))


def _table_shape(embeddings, op):
    if getattr(embeddings, "ndim", None) != 2:   # torch asserts
        raise AssertionError(f"{op}: embeddings parameter is expected to be 2-dimensional, got "
                             f"shape {tuple(getattr(embeddings, 'shape', ()))}")
    return tuple(embeddings.shape)


def _given_table(weight, num_embeddings, embedding_dim):
    """The Parameter over an embedding table passed as ``_weight`` (a Tensor or an array)."""
    if tuple(weight.shape) != (num_embeddings, embedding_dim):
        raise AssertionError(f"Shape of weight {tuple(weight.shape)} does not match "
                             f"num_embeddings and embedding_dim ({num_embeddings}, {embedding_dim})")
    return Parameter(weight if hasattr(weight, "_data") else creation.tensor(np.asarray(weight)))


class Identity(Module):
    """Returns its input unchanged (a placeholder, e.g. for a removed shortcut)."""

    def __init__(self, *args, **kwargs):
        super().__init__()

    def forward(self, input):
        return input


class Linear(Module):
    """y = x Wᵀ + b: every output unit is a weighted sum of all inputs (the deck's x·W).

    Args: in_features, out_features, bias=True, dtype=None.
    Shapes: input (*, in_features) -> output (*, out_features); weight (out, in); bias (out,).
    Init (torch's): W, b ~ U(−1/√in, 1/√in) (kaiming_uniform_ with a = √5 for W).
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True, device=None,
                 dtype=None):
        super().__init__()
        check_device(device, "Linear")
        self.in_features, self.out_features = in_features, out_features
        self.weight = _empty(out_features, in_features, dtype=dtype)
        self.bias = _empty(out_features, dtype=dtype) if bias else None
        if not bias:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            bound = 1 / math.sqrt(self.in_features) if self.in_features > 0 else 0
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input):
        return F.linear(input, self.weight, self.bias)

    def extra_repr(self):
        return f"in_features={self.in_features}, out_features={self.out_features}, " \
               f"bias={self.bias is not None}"


class LazyLinear(LazyModuleMixin, Linear):
    """A :class:`Linear` whose ``in_features`` is inferred from the first input:
    ``in_features = input.shape[-1]``; then W (out, in) and b (out,) are drawn as Linear's
    (the same numbers as torch's under the same seed) and the module becomes a ``Linear``.

    Args: out_features, bias=True, device=None, dtype=None.
    Shapes: input (*, in_features) -> output (*, out_features).
    """

    cls_to_become = Linear

    def __init__(self, out_features: int, bias: bool = True, device=None, dtype=None):
        super().__init__(0, 0, False)
        self.weight = UninitializedParameter(device=device, dtype=dtype)
        self.out_features = out_features
        if bias:
            self.bias = UninitializedParameter(device=device, dtype=dtype)

    def reset_parameters(self):
        if not self.has_uninitialized_params() and self.in_features != 0:
            super().reset_parameters()

    def initialize_parameters(self, input):
        """Materialize W (out, input.shape[-1]) and b (out,), then initialize them."""
        if self.has_uninitialized_params():
            with no_grad():
                self.in_features = input.shape[-1]
                self.weight.materialize((self.out_features, self.in_features))
                if self.bias is not None:
                    self.bias.materialize((self.out_features,))
                self.reset_parameters()
        if self.in_features == 0:   # loaded from a state dict: take in_features from W
            if input.shape[-1] != self.weight.shape[-1]:
                raise AssertionError(f"The in_features inferred from input: {input.shape[-1]} "
                                     f"is not equal to in_features from self.weight: "
                                     f"{self.weight.shape[-1]}")
            self.in_features = input.shape[-1]


class Bilinear(Module):
    """y_k = x₁ᵀ A_k x₂ + b_k.  Shapes: (*, in1), (*, in2) -> (*, out); weight (out, in1, in2).
    Init: U(−1/√in1, 1/√in1)."""

    def __init__(self, in1_features, in2_features, out_features, bias=True, device=None, dtype=None):
        super().__init__()
        check_device(device, "Bilinear")
        self.in1_features, self.in2_features = in1_features, in2_features
        self.out_features = out_features
        self.weight = _empty(out_features, in1_features, in2_features, dtype=dtype)
        self.bias = _empty(out_features, dtype=dtype) if bias else None
        if not bias:
            self.register_parameter("bias", None)
        bound = 1 / math.sqrt(in1_features)
        init.uniform_(self.weight, -bound, bound)
        if self.bias is not None:
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input1, input2):
        return F.bilinear(input1, input2, self.weight, self.bias)

    def extra_repr(self):
        return (f"in1_features={self.in1_features}, in2_features={self.in2_features}, "
                f"out_features={self.out_features}, bias={self.bias is not None}")


class Flatten(Module):
    """Merge dims start_dim..end_dim (default: all but the batch dim)."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1):
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, input):
        return input.flatten(self.start_dim, self.end_dim)

    def extra_repr(self):
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Unflatten(Module):
    """Split dim ``dim`` into ``unflattened_size``."""

    def __init__(self, dim: int, unflattened_size):
        super().__init__()
        self.dim, self.unflattened_size = dim, tuple(unflattened_size)

    def forward(self, input):
        return input.unflatten(self.dim, self.unflattened_size)

    def extra_repr(self):
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"


class NonDynamicallyQuantizableLinear(Linear):
    """A Linear layer: torch's name (and module path) for MultiheadAttention's ``out_proj``,
    kept so that reprs, ``type()`` checks and pickled class names agree with torch's."""


class Embedding(Module):
    """A lookup table: out[..., :] = weight[index[...], :].  weight (num_embeddings, dim) ~ N(0, 1);
    the ``padding_idx`` row starts at zero and gets no gradient."""

    def __init__(self, num_embeddings, embedding_dim, padding_idx=None, max_norm=None,
                 norm_type=2.0, scale_grad_by_freq=False, sparse=False, _weight=None,
                 _freeze=False, device=None, dtype=None):
        super().__init__()
        check_device(device, "Embedding")
        self.num_embeddings, self.embedding_dim = num_embeddings, embedding_dim
        if padding_idx is not None:
            if not -num_embeddings <= padding_idx < num_embeddings:   # torch asserts
                raise AssertionError(f"Embedding: padding_idx must be within num_embeddings, got "
                                     f"padding_idx={padding_idx} for {num_embeddings} rows")
            padding_idx %= num_embeddings
        self.padding_idx = padding_idx
        self.max_norm, self.norm_type = max_norm, norm_type
        self.scale_grad_by_freq, self.sparse = scale_grad_by_freq, sparse
        if _weight is None:
            self.weight = _empty(num_embeddings, embedding_dim, dtype=dtype)
            init.normal_(self.weight)
            if padding_idx is not None:
                self.weight._data[padding_idx] = 0
        else:   # the given table itself (its memory and dtype), as torch
            self.weight = _given_table(_weight, num_embeddings, embedding_dim)
        if _freeze:
            self.weight.requires_grad_(False)

    @classmethod
    def from_pretrained(cls, embeddings, freeze=True, padding_idx=None, max_norm=None,
                        norm_type=2.0, scale_grad_by_freq=False, sparse=False):
        """An Embedding whose weight is ``embeddings`` (N, dim) — its memory and dtype, as
        given (GloVe or word2vec vectors, a trained table); ``freeze`` (default) keeps it
        out of training (``weight.requires_grad = False``)."""
        rows, dim = _table_shape(embeddings, "Embedding.from_pretrained")
        return cls(rows, dim, _weight=embeddings, _freeze=freeze, padding_idx=padding_idx,
                   max_norm=max_norm, norm_type=norm_type,
                   scale_grad_by_freq=scale_grad_by_freq, sparse=sparse)

    def forward(self, input):
        if not isinstance(input, Tensor):
            raise TypeError(f"Embedding: argument 'indices' must be a Tensor, not "
                            f"{type(input).__name__} (wrap it: torch.tensor(...))")
        if input._data.dtype not in (np.int64, np.int32):
            raise RuntimeError(f"Embedding: expected indices of scalar type Long or Int, but got "
                               f"{input.dtype}")
        return F.embedding(input, self.weight, self.padding_idx, self.max_norm, self.norm_type,
                           self.scale_grad_by_freq, self.sparse)

    def extra_repr(self):
        s = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.padding_idx is not None:
            s += f", padding_idx={self.padding_idx}"
        if self.max_norm is not None:
            s += f", max_norm={self.max_norm}"
        if self.norm_type != 2:
            s += f", norm_type={self.norm_type}"
        if self.scale_grad_by_freq is not False:
            s += f", scale_grad_by_freq={self.scale_grad_by_freq}"
        if self.sparse is not False:
            s += ", sparse=True"
        return s
