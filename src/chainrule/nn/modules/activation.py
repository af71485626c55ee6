"""Activation modules: thin wrappers of ``chainrule.nn.functional``; each docstring gives g and
g'. MultiheadAttention lives here too, where torch keeps it (``torch.nn.modules.activation``)."""
from __future__ import annotations

from ... import creation
from ..._device import check_device
from .. import functional as F
from .. import init as nn_init
from ..parameter import Parameter
from .linear import NonDynamicallyQuantizableLinear
from .module import Module


class ReLU(Module):
    """ReLU(z) = max(0, z) = z·I(z > 0);  ReLU'(z) = I(z > 0)."""

    def __init__(self, inplace: bool = False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input):
        return F.relu(input, self.inplace)

    def extra_repr(self):
        return "inplace=True" if self.inplace else ""


class LeakyReLU(Module):
    """g(z) = max(εz, z), ε = negative_slope ≪ 1;  g'(z) = 1 for z > 0, ε otherwise."""

    def __init__(self, negative_slope: float = 0.01, inplace: bool = False):
        super().__init__()
        self.negative_slope, self.inplace = negative_slope, inplace

    def forward(self, input):
        return F.leaky_relu(input, self.negative_slope, self.inplace)

    def extra_repr(self):
        return f"negative_slope={self.negative_slope}" + (", inplace=True" if self.inplace else "")


class Sigmoid(Module):
    """σ(a) = 1/(1 + e^{−a});  σ'(a) = σ(a)(1 − σ(a)). Saturates (σ' → 0) for large |a|."""

    def forward(self, input):
        return F.sigmoid(input)


class Tanh(Module):
    """tanh(z) = (e^z − e^{−z})/(e^z + e^{−z}), zero-centred in (−1, 1);  tanh' = 1 − tanh²."""

    def forward(self, input):
        return F.tanh(input)


class Heaviside(Module):
    """The step H(x) (1 for x > 0, 0 for x < 0, ``values`` at 0); its gradient is zero, so it
    cannot be trained by gradient descent (see ``functional.heaviside``)."""

    def __init__(self, values: float = 0.0):
        super().__init__()
        self.values = values

    def forward(self, input):
        return F.heaviside(input, self.values)


class ELU(Module):
    """ELU(z) = z for z > 0, α(e^z − 1) otherwise;  derivative 1 or αe^z."""

    def __init__(self, alpha: float = 1.0, inplace: bool = False):
        super().__init__()
        self.alpha, self.inplace = alpha, inplace

    def forward(self, input):
        return F.elu(input, self.alpha, self.inplace)

    def extra_repr(self):
        return f"alpha={self.alpha}" + (", inplace=True" if self.inplace else "")


class GELU(Module):
    """GELU(z) = z·Φ(z) (exact, via erf) or its tanh approximation;  derivative (exact)
    Φ(z) + z·φ(z), φ the standard normal density (see ``functional.gelu`` for tanh's)."""

    def __init__(self, approximate: str = "none"):
        super().__init__()
        self.approximate = approximate

    def forward(self, input):
        return F.gelu(input, self.approximate)

    def extra_repr(self):
        return f"approximate={self.approximate!r}"


class SiLU(Module):
    """SiLU(z) = z·σ(z);  derivative σ(z)(1 + z(1 − σ(z)))."""

    def __init__(self, inplace: bool = False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input):
        return F.silu(input, self.inplace)

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace else ""


class Softplus(Module):
    """Softplus(z) = (1/β) log(1 + e^{βz}) (linear above ``threshold``);  derivative σ(βz)."""

    def __init__(self, beta: float = 1.0, threshold: float = 20.0):
        super().__init__()
        self.beta, self.threshold = beta, threshold

    def forward(self, input):
        return F.softplus(input, self.beta, self.threshold)

    def extra_repr(self):
        return f"beta={self.beta}, threshold={self.threshold}"


class Softmax(Module):
    """softmax(z)_i = e^{z_i}/Σ_j e^{z_j} along ``dim`` (stable: max subtracted);
    ∂s_i/∂z_j = s_i(δ_ij − s_j)."""

    def __init__(self, dim=None):
        super().__init__()
        self.dim = dim

    def forward(self, input):
        return F.softmax(input, self.dim)

    def extra_repr(self):
        return f"dim={self.dim}"


class LogSoftmax(Module):
    """log softmax(z)_i = z_i − log Σ_j e^{z_j} (the log-sum-exp trick);
    ∂ℓ_i/∂z_j = δ_ij − softmax(z)_j."""

    def __init__(self, dim=None):
        super().__init__()
        self.dim = dim

    def forward(self, input):
        return F.log_softmax(input, self.dim)

    def extra_repr(self):
        return f"dim={self.dim}"


def _inplace_str(inplace, lead=", "):
    return f"{lead}inplace=True" if inplace else ""


class Threshold(Module):
    """y = z if z > threshold else value;  derivative I(z > threshold)."""

    def __init__(self, threshold: float, value: float, inplace: bool = False):
        super().__init__()
        self.threshold, self.value, self.inplace = threshold, value, inplace

    def forward(self, input):
        return F.threshold(input, self.threshold, self.value, self.inplace)

    def extra_repr(self):
        return f"threshold={self.threshold}, value={self.value}{_inplace_str(self.inplace)}"


class Hardtanh(Module):
    """Clip to [min_val, max_val];  derivative 1 strictly inside, 0 elsewhere."""

    def __init__(self, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False):
        super().__init__()
        if max_val <= min_val:
            raise AssertionError(f"Hardtanh: max_val ({max_val}) must be greater than min_val "
                             f"({min_val})")
        self.min_val, self.max_val, self.inplace = min_val, max_val, inplace

    def forward(self, input):
        return F.hardtanh(input, self.min_val, self.max_val, self.inplace)

    def extra_repr(self):
        return f"min_val={self.min_val}, max_val={self.max_val}{_inplace_str(self.inplace)}"


class ReLU6(Hardtanh):
    """ReLU6(z) = min(max(0, z), 6);  derivative 1 on (0, 6), 0 elsewhere."""

    def __init__(self, inplace: bool = False):
        super().__init__(0.0, 6.0, inplace)

    def extra_repr(self):
        return _inplace_str(self.inplace, "")


class CELU(Module):
    """CELU(z) = max(0, z) + min(0, α(e^{z/α} − 1));  derivative 1 or e^{z/α}."""

    def __init__(self, alpha: float = 1.0, inplace: bool = False):
        super().__init__()
        self.alpha, self.inplace = alpha, inplace

    def forward(self, input):
        return F.celu(input, self.alpha, self.inplace)

    def extra_repr(self):
        return f"alpha={self.alpha}{_inplace_str(self.inplace)}"


class SELU(Module):
    """SELU(z) = λ·(z for z > 0, α(e^z − 1) otherwise), λ ≈ 1.0507, α ≈ 1.6733."""

    def __init__(self, inplace: bool = False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input):
        return F.selu(input, self.inplace)

    def extra_repr(self):
        return _inplace_str(self.inplace, "")


class GLU(Module):
    """GLU(x) = a ⊗ σ(b), a, b the halves of x along ``dim``. Shapes: (*₁, 2M, *₂) -> (*₁, M, *₂)."""

    def __init__(self, dim: int = -1):
        super().__init__()
        self.dim = dim

    def forward(self, input):
        return F.glu(input, self.dim)

    def extra_repr(self):
        return f"dim={self.dim}"


class Hardswish(Module):
    """Hardswish(z) = z·ReLU6(z + 3)/6;  derivative 0, z/3 + ½, 1 on z ≤ −3, (−3, 3), z ≥ 3."""

    def __init__(self, inplace: bool = False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input):
        return F.hardswish(input, self.inplace)


class Hardsigmoid(Module):
    """Hardsigmoid(z) = ReLU6(z + 3)/6;  derivative 1/6 on (−3, 3), 0 elsewhere."""

    def __init__(self, inplace: bool = False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input):
        return F.hardsigmoid(input, self.inplace)


class Mish(Module):
    """Mish(z) = z·tanh(softplus(z));  derivative t + z·σ(z)(1 − t²), t = tanh(softplus z)."""

    def __init__(self, inplace: bool = False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input):
        return F.mish(input, self.inplace)

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace else ""


class Softsign(Module):
    """Softsign(z) = z/(1 + |z|);  derivative 1/(1 + |z|)²."""

    def forward(self, input):
        return F.softsign(input)


class Tanhshrink(Module):
    """Tanhshrink(z) = z − tanh z;  derivative tanh² z."""

    def forward(self, input):
        return F.tanhshrink(input)


class Hardshrink(Module):
    """Hardshrink(z) = z if |z| > λ else 0;  derivative I(|z| > λ)."""

    def __init__(self, lambd: float = 0.5):
        super().__init__()
        self.lambd = lambd

    def forward(self, input):
        return F.hardshrink(input, self.lambd)

    def extra_repr(self):
        return f"{self.lambd}"


class Softshrink(Hardshrink):
    """Softshrink(z) = z − λ·sign z where |z| > λ, else 0;  derivative I(|z| > λ)."""

    def forward(self, input):
        return F.softshrink(input, self.lambd)


class LogSigmoid(Module):
    """log σ(z) = −log(1 + e^{−z});  derivative σ(−z)."""

    def forward(self, input):
        return F.logsigmoid(input)


class Softmin(Module):
    """softmin(z)_i = e^{−z_i}/Σ_j e^{−z_j} along ``dim``."""

    def __init__(self, dim=None):
        super().__init__()
        self.dim = dim

    def forward(self, input):
        return F.softmin(input, self.dim)

    def extra_repr(self):
        return f"dim={self.dim}"


class PReLU(Module):
    """PReLU(z) = max(0, z) + a·min(0, z) with a learnt slope a per channel (``num_parameters``
    = C) or shared (1). Parameter ``weight`` (num_parameters,), initialised to ``init``.
    Shapes: (N, C, *) -> same."""

    def __init__(self, num_parameters: int = 1, init: float = 0.25, device=None, dtype=None):
        super().__init__()
        check_device(device, "PReLU")
        self.num_parameters, self.init = num_parameters, init
        self.weight = Parameter(creation.empty(num_parameters, dtype=dtype))
        self.reset_parameters()

    def reset_parameters(self):
        nn_init.constant_(self.weight, self.init)

    def forward(self, input):
        return F.prelu(input, self.weight)

    def extra_repr(self):
        return f"num_parameters={self.num_parameters}"


class Softmax2d(Module):
    """softmax over the channels (dim −3) at every position. Shapes: (N, C, H, W) or (C, H, W)."""

    def forward(self, input):
        if input.ndim not in (3, 4):
            raise ValueError(f"Softmax2d: expected input to be 3D or 4D, got {input.ndim}D instead")
        return F.softmax(input, -3)


class RReLU(Module):
    """Randomized leaky ReLU: slope a ~ U(lower, upper) per non-positive element in training,
    (lower + upper)/2 in evaluation (see ``F.rrelu``)."""

    def __init__(self, lower: float = 1.0 / 8, upper: float = 1.0 / 3, inplace: bool = False):
        super().__init__()
        self.lower, self.upper, self.inplace = lower, upper, inplace

    def forward(self, input):
        return F.rrelu(input, self.lower, self.upper, self.training, self.inplace)

    def extra_repr(self):
        return f"lower={self.lower}, upper={self.upper}{_inplace_str(self.inplace)}"


class MultiheadAttention(Module):
    """MultiHead(Q, K, V) = concat(head₁…head_h) W_oᵀ + b_o,
    headᵢ = softmax((Q W_qᵢ)(K W_kᵢ)ᵀ/√d + M)(V W_vᵢ), d = embed_dim/num_heads.

    Args: embed_dim, num_heads, dropout=0.0 (on the attention weights), bias=True,
    add_bias_kv=False, add_zero_attn=False, kdim=None, vdim=None (default embed_dim),
    batch_first=False. Parameters (torch's names): ``in_proj_weight`` (3E, E) when
    kdim = vdim = E, else ``q_proj_weight`` (E, E), ``k_proj_weight`` (E, kdim),
    ``v_proj_weight`` (E, vdim); ``in_proj_bias`` (3E,); ``bias_k``, ``bias_v`` (1, 1, E);
    ``out_proj`` a Linear(E, E). Init as torch: out_proj's Linear init, then xavier_uniform_ for
    the in-projection, zero biases, xavier_normal_ for bias_k/bias_v.

    Shapes: query (L, N, E) ((N, L, E) with batch_first, or unbatched (L, E)), key (S, N, kdim),
    value (S, N, vdim) -> (output (L, N, E), weights (N, L, S) or None)."""

    def __init__(self, embed_dim, num_heads, dropout=0.0, bias=True, add_bias_kv=False,
                 add_zero_attn=False, kdim=None, vdim=None, batch_first=False, device=None,
                 dtype=None):
        super().__init__()
        check_device(device, "MultiheadAttention")
        if embed_dim <= 0 or num_heads <= 0:
            raise ValueError(f"embed_dim and num_heads must be greater than 0, got "
                             f"embed_dim={embed_dim} and num_heads={num_heads} instead")
        self.embed_dim = embed_dim
        self.kdim = kdim if kdim is not None else embed_dim
        self.vdim = vdim if vdim is not None else embed_dim
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        self.num_heads, self.dropout, self.batch_first = num_heads, dropout, batch_first
        self.head_dim = embed_dim // num_heads
        if self.head_dim * num_heads != embed_dim:
            raise AssertionError("embed_dim must be divisible by num_heads")

        def empty(*shape):
            return Parameter(creation.empty(*shape, dtype=dtype))
        if not self._qkv_same_embed_dim:
            self.q_proj_weight = empty(embed_dim, embed_dim)
            self.k_proj_weight = empty(embed_dim, self.kdim)
            self.v_proj_weight = empty(embed_dim, self.vdim)
            self.register_parameter("in_proj_weight", None)
        else:
            self.in_proj_weight = empty(3 * embed_dim, embed_dim)
            self.register_parameter("q_proj_weight", None)
            self.register_parameter("k_proj_weight", None)
            self.register_parameter("v_proj_weight", None)
        if bias:
            self.in_proj_bias = empty(3 * embed_dim)
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = NonDynamicallyQuantizableLinear(embed_dim, embed_dim, bias=bias,
                                                        dtype=dtype)
        if add_bias_kv:
            self.bias_k = empty(1, 1, embed_dim)
            self.bias_v = empty(1, 1, embed_dim)
        else:
            self.bias_k = self.bias_v = None
        self.add_zero_attn = add_zero_attn
        self._reset_parameters()

    def _reset_parameters(self):
        if self._qkv_same_embed_dim:
            nn_init.xavier_uniform_(self.in_proj_weight)
        else:
            nn_init.xavier_uniform_(self.q_proj_weight)
            nn_init.xavier_uniform_(self.k_proj_weight)
            nn_init.xavier_uniform_(self.v_proj_weight)
        if self.in_proj_bias is not None:
            nn_init.constant_(self.in_proj_bias, 0.0)
            nn_init.constant_(self.out_proj.bias, 0.0)
        if self.bias_k is not None:
            nn_init.xavier_normal_(self.bias_k)
        if self.bias_v is not None:
            nn_init.xavier_normal_(self.bias_v)

    def forward(self, query, key, value, key_padding_mask=None, need_weights: bool = True,
                attn_mask=None, average_attn_weights: bool = True, is_causal: bool = False):
        """(attn_output, attn_weights or None); see the class docstring for the shapes.
        ``key_padding_mask`` (N, S): True (or −∞) ignores that key; ``attn_mask`` (L, S) or
        (N·h, L, S): True (or −∞) forbids that pair, a float is added to the score."""
        batched = query.ndim == 3
        if self.batch_first and batched:
            if key is value:
                if query is key:
                    query = key = value = query.transpose(1, 0)
                else:
                    query, key = query.transpose(1, 0), key.transpose(1, 0)
                    value = key
            else:
                query, key, value = (x.transpose(1, 0) for x in (query, key, value))
        separate = not self._qkv_same_embed_dim
        out, weights = F.multi_head_attention_forward(
            query, key, value, self.embed_dim, self.num_heads, self.in_proj_weight,
            self.in_proj_bias, self.bias_k, self.bias_v, self.add_zero_attn, self.dropout,
            self.out_proj.weight, self.out_proj.bias, training=self.training,
            key_padding_mask=key_padding_mask, need_weights=need_weights, attn_mask=attn_mask,
            use_separate_proj_weight=separate, q_proj_weight=self.q_proj_weight,
            k_proj_weight=self.k_proj_weight, v_proj_weight=self.v_proj_weight,
            average_attn_weights=average_attn_weights, is_causal=is_causal)
        if self.batch_first and batched:
            out = out.transpose(1, 0)
        return out, weights

    def merge_masks(self, attn_mask, key_padding_mask, query):
        """torch's helper for its fused kernel: (mask of shape (N, heads, L, L), mask type) from
        ``attn_mask`` (L, L) or (N·heads, L, L) and ``key_padding_mask`` (N, L) — type 1 for the
        padding mask alone, 2 when an attention mask is given (the two summed); (None, None)
        without masks. ``query`` (N, L, E) gives the sizes."""
        mask_type, merged = None, None
        if key_padding_mask is not None:
            mask_type, merged = 1, key_padding_mask
        if attn_mask is not None:
            batch_size, seq_len, _ = query.shape
            mask_type = 2
            if attn_mask.ndim == 3:
                merged = attn_mask.reshape(batch_size, -1, seq_len, seq_len)
            else:
                merged = attn_mask.reshape(1, 1, seq_len, seq_len).expand(
                    (batch_size, self.num_heads, seq_len, seq_len))
            if key_padding_mask is not None:
                merged = merged + key_padding_mask.reshape(batch_size, 1, 1, seq_len).expand(
                    (batch_size, self.num_heads, 1, seq_len))
        return merged, mask_type
