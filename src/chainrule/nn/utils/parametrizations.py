"""Weight norm and spectral norm as parametrizations (``torch.nn.utils.parametrizations``).

- ``weight_norm``: w = g · v/‖v‖, the norm over every dim but ``dim`` (Salimans & Kingma):
  the direction v and the length g train separately. Originals: ``original0`` = g,
  ``original1`` = v, as torch's.
- ``spectral_norm``: w = W/σ(W), σ the largest singular value of W viewed as a matrix (rows
  along ``dim``), estimated by power iteration on vectors u, v kept as buffers and advanced
  ``n_power_iterations`` steps on each read in training mode (Miyato et al.); in evaluation the
  vectors stay. Bounds the layer's Lipschitz constant, as GAN discriminators use it.
"""
from __future__ import annotations

from ... import ops
from ..._modes import no_grad
from ..functional import normalize
from ..modules.module import Module
from .parametrize import register_parametrization
from .weight_norm import _weight_norm, norm_except_dim

__all__ = ["weight_norm", "spectral_norm"]


class _WeightNorm(Module):
    def __init__(self, dim=0):
        super().__init__()
        self.dim = -1 if dim is None else dim

    def forward(self, weight_g, weight_v):
        return _weight_norm(weight_v, weight_g, self.dim)

    def right_inverse(self, weight):
        return norm_except_dim(weight, 2, self.dim), weight


def weight_norm(module, name="weight", dim=0):
    """Reparametrize ``module.<name>`` as g · v/‖v‖ (norm over every dim but ``dim``; ``None``:
    over the whole tensor). Returns ``module``; checkpoints saved with the older
    ``nn.utils.weight_norm`` (``<name>_g``, ``<name>_v``) load into it."""
    register_parametrization(module, name, _WeightNorm(dim), unsafe=True)

    def _load_old_names(state_dict, prefix, local_metadata, strict, missing_keys,
                        unexpected_keys, error_msgs):
        g, v = f"{prefix}{name}_g", f"{prefix}{name}_v"
        if g in state_dict and v in state_dict:
            state_dict[f"{prefix}parametrizations.{name}.original0"] = state_dict.pop(g)
            state_dict[f"{prefix}parametrizations.{name}.original1"] = state_dict.pop(v)
    module._register_load_state_dict_pre_hook(_load_old_names)
    return module


class _SpectralNorm(Module):
    def __init__(self, weight, n_power_iterations=1, dim=0, eps=1e-12):
        super().__init__()
        ndim = weight.ndim
        if dim >= ndim or dim < -ndim:
            raise IndexError(f"Dimension out of range (expected to be in range of [-{ndim}, "
                             f"{ndim - 1}] but got {dim})")
        if n_power_iterations <= 0:
            raise ValueError(f"Expected n_power_iterations to be positive, but got "
                             f"n_power_iterations={n_power_iterations}")
        self.dim = dim if dim >= 0 else dim + ndim
        self.eps, self.n_power_iterations = eps, n_power_iterations
        if ndim > 1:
            weight_mat = self._reshape_weight_to_matrix(weight)
            h, w = weight_mat.shape
            u = normalize(weight_mat.new_empty(h).normal_(0, 1), dim=0, eps=eps)
            v = normalize(weight_mat.new_empty(w).normal_(0, 1), dim=0, eps=eps)
            self.register_buffer("_u", u)
            self.register_buffer("_v", v)
            self._power_method(weight_mat, 15)     # a good start before the first step

    def _reshape_weight_to_matrix(self, weight):
        if self.dim != 0:                          # rows along dim
            weight = weight.permute(self.dim, *(d for d in range(weight.ndim) if d != self.dim))
        return weight.flatten(1)

    def _power_method(self, weight_mat, n_power_iterations):
        """u ← Wv/‖Wv‖, v ← Wᵀu/‖Wᵀu‖, in place on the buffers (no gradient)."""
        with no_grad():
            for _ in range(n_power_iterations):
                self._u.copy_(normalize(ops.mv(weight_mat, self._v), dim=0, eps=self.eps))
                self._v.copy_(normalize(ops.mv(weight_mat.mT, self._u), dim=0, eps=self.eps))

    def forward(self, weight):
        if weight.ndim == 1:                       # a vector: σ is its norm
            return normalize(weight, dim=0, eps=self.eps)
        weight_mat = self._reshape_weight_to_matrix(weight)
        if self.training:
            self._power_method(weight_mat, self.n_power_iterations)
        u, v = self._u.clone(), self._v.clone()    # (the next step writes the buffers)
        sigma = ops.vdot(u, ops.mv(weight_mat, v))
        return weight / sigma

    def right_inverse(self, value):
        return value       # W itself is the original: σ is recomputed from it


def spectral_norm(module, name="weight", n_power_iterations=1, eps=1e-12, dim=None):
    """Reparametrize ``module.<name>`` as W/σ(W) (see the module doc). ``dim``: the dim of the
    matrix rows, by default 0 (1 for transposed convolutions, whose weight is (C_in, C_out,
    …)). Returns ``module``."""
    weight = getattr(module, name, None)
    if weight is None or not hasattr(weight, "ndim"):
        raise ValueError(f"Module '{module}' has no parameter or buffer with name '{name}'")
    if dim is None:
        from ..modules.conv import _ConvTransposeNd
        dim = 1 if isinstance(module, _ConvTransposeNd) else 0
    register_parametrization(module, name, _SpectralNorm(weight, n_power_iterations, dim, eps))
    return module
