"""Attention: scaled dot-product attention and the multi-head attention of ``nn.MultiheadAttention``.

Scaled dot-product attention is one primitive (:class:`Attention`): its forward is torch's
reference computation step by step (a model moved from torch gives the same numbers), on arrays,
with the scores' scaling, mask and softmax written over one buffer; its VJP is the chain of the
steps' VJPs written out. Composed of separate primitives it cost a causal GPT block 3× torch's
time (a mask fill, a scaling, a softmax check and their backward passes over (N, H, L, S)
scores, each in a fresh buffer). The multi-head attention asked for its weights is the
composite (it returns them)."""
from __future__ import annotations

import functools
import math

import numpy as np

from ... import creation
from ..._dtype import bool_ as _bool
from ..._graph import Node
from ...backends import onednn
from ...backends.namespace import matmul as _matmul
from ...ops._util import check_tensor
from ...ops.shape import cat, pad
from ...ops.softmax import Softmax, softmax, softmax_array
from ...tensor import Tensor
from .dropout import dropout, dropout_mask
from .linear import linear


def _as_additive(mask, dtype, op, name):
    """A boolean mask (True: may attend) as 0 / −∞ to add to the scores; a float mask as it is."""
    if mask.dtype is _bool:
        return creation.zeros(tuple(mask.shape), dtype=dtype).masked_fill(mask.logical_not(),
                                                                          float("-inf"))
    if not mask.is_floating_point():
        raise RuntimeError(f"{op}: Expected {name} dtype to be bool or float or to match query "
                           f"dtype, but got {name}.dtype: {mask.dtype}")
    return mask


def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p: float = 0.0,
                                 is_causal: bool = False, scale=None,
                                 enable_gqa: bool = False) -> Tensor:
    """Attention(Q, K, V) = softmax(Q Kᵀ·s + M) V, s = ``scale`` (default 1/√E).

    ``attn_mask`` M: boolean (True: the query may attend to the key; False: −∞) or float (added
    to the scores), broadcast to (N, ..., L, S). ``is_causal``: query i attends to keys j ≤ i
    only (the upper-left aligned lower triangle; combined with ``attn_mask`` when both are
    given). ``dropout_p``: dropout on the attention weights (always applied, as torch: pass 0 in
    evaluation). ``enable_gqa``: K and V may have fewer heads (dim −3) than Q, each shared by
    Hq/Hk consecutive query heads. A query whose keys are all masked gets 0.

    Shapes: query (N, ..., Hq, L, E), key (N, ..., H, S, E), value (N, ..., H, S, Ev) ->
    (N, ..., Hq, L, Ev)."""
    op = "scaled_dot_product_attention"
    for name, t in (("query", query), ("key", key), ("value", value)):
        check_tensor(t, op, name)
    if query.dtype is not key.dtype or query.dtype is not value.dtype:
        raise RuntimeError(f"{op}: Expected query, key, and value to have the same dtype, but got "
                           f"query.dtype: {query.dtype} key.dtype: {key.dtype} and value.dtype: "
                           f"{value.dtype} instead.")
    if query.ndim < 2 or key.ndim < 2 or value.ndim < 2:
        raise RuntimeError(f"{op}: expected query, key and value of at least 2 dims, got "
                           f"{query.ndim}, {key.ndim} and {value.ndim}")
    if query.shape[-1] != key.shape[-1]:
        raise RuntimeError(f"{op}: query's last dim ({query.shape[-1]}) must equal key's "
                           f"({key.shape[-1]})")
    if key.shape[-2] != value.shape[-2]:
        raise RuntimeError(f"{op}: key and value must have the same sequence length, got "
                           f"{key.shape[-2]} and {value.shape[-2]}")
    if not 0.0 <= dropout_p <= 1.0:
        raise ValueError(f"{op}: dropout probability has to be between 0 and 1, but got {dropout_p}")
    if enable_gqa and query.ndim >= 3 and key.ndim >= 3 and query.shape[-3] != key.shape[-3]:
        hq, hk = query.shape[-3], key.shape[-3]
        if hq % hk or hq % value.shape[-3]:
            raise RuntimeError(f"{op}: number of heads in key/value must divide number of heads "
                               f"in query, got {hk} and {hq}")
        key, value = _repeat_heads(key, hq // hk), _repeat_heads(value, hq // value.shape[-3])
    if is_causal and attn_mask is not None:
        raise RuntimeError("_scaled_dot_product_attention: Explicit attn_mask should not be set "
                           "when is_causal=True")
    lq, s = query.shape[-2], key.shape[-2]
    factor = 1.0 / math.sqrt(query.shape[-1]) if scale is None else scale
    bias = None   # added to the scores: 0 where a query may attend, −∞ where it may not
    if attn_mask is not None:
        check_tensor(attn_mask, op, "attn_mask")
        bias = _as_additive(attn_mask, query.dtype, op, "attn_mask")
    scores_shape = np.broadcast_shapes(query.shape[:-2], key.shape[:-2]) + (lq, s)
    if bias is not None:
        try:
            scores_shape = np.broadcast_shapes(scores_shape, tuple(bias.shape))
        except ValueError:
            raise RuntimeError(f"{op}: attn_mask of shape {tuple(bias.shape)} does not broadcast "
                               f"to the scores' shape {scores_shape}") from None
    inputs = [query, key, value] + ([bias] if bias is not None else [])
    if dropout_p > 0.0:
        inputs.append(dropout_mask(np.empty(scores_shape, query._data.dtype), dropout_p))
    return Attention.apply(*inputs, scale=factor, causal=bool(is_causal),
                           has_bias=bias is not None, has_noise=dropout_p > 0.0)


@functools.lru_cache(maxsize=4)
def causal_mask(lq: int, s: int) -> np.ndarray:
    """True above the diagonal, where key j > query i may not be attended (torch's upper-left
    aligned causal mask): (L, S) bool, read-only (shared by every call of one shape)."""
    above = np.triu(np.ones((lq, s), np.bool_), 1)
    above.flags.writeable = False
    return above


class Attention(Node):
    """O = D ⊙ softmax(S) V,  S = Q Kᵀ·s + B: scaled dot-product attention as one primitive.

    Inputs Q (…, L, E), K (…, S, E), V (…, S, Ev), then the additive bias B (broadcast to the
    scores (…, L, S); 0 / −∞ for a mask) when ``has_bias``, then the dropout multiplier D
    (0 or 1/(1 − p), of the scores' shape) when ``has_noise``; parameters ``scale`` s and
    ``causal`` (S is then −∞ where :func:`causal_mask` is True). A row of S that is −∞ throughout
    (every key masked) gets weights 0, as torch's, not 0/0.
    VJP, with P = softmax(S), P_D = D ⊙ P:  V̄ = P_Dᵀ Ō;  P̄ = D ⊙ Ō Vᵀ;
    S̄ = P ⊙ (P̄ − Σ_j P̄ ⊙ P) (rows);  B̄ = S̄;  Q̄ = s·S̄ K;  K̄ = s·S̄ᵀ Q.
    JVP: Ṡ = s(Q̇ Kᵀ + Q K̇ᵀ) + Ḃ;  Ṗ = P ⊙ (Ṡ − Σ_j Ṡ ⊙ P);  Ȯ = (D ⊙ Ṗ) V + P_D V̇."""

    params = ("scale", "causal", "has_bias", "has_noise")
    backward_name = "ScaledDotProductFlashAttentionForCpuBackward0"   # torch's, for 4-D inputs
    dead = None   # the rows masked throughout, (…, L, 1) bool, or None when there are none
    p = None      # P, saved by the forward for the VJP on arrays
    dense = None  # Q, K, V as C-contiguous arrays, the same

    def forward(self, *xs):
        # Q, K, V dense, once for both passes: in a GPT they are strided views of one
        # projection, and the five products on views took 2.4 ms more per layer than the three
        # 0.5 MB copies (0.3 ms) with products on them
        q, k, v = self.dense = tuple(np.ascontiguousarray(a) for a in xs[:3])
        scores = _matmul(q, k.swapaxes(-1, -2))
        scores *= scores.dtype.type(self.scale)
        if self.causal:   # (no row is masked throughout: key 0 never is)
            np.copyto(scores, -np.inf, where=causal_mask(*scores.shape[-2:]))
        self.dead = None
        if self.has_bias:
            bias = xs[3]
            if np.broadcast_shapes(scores.shape, bias.shape) == scores.shape:
                scores += bias
            else:   # a mask with more batch dims than the products
                scores = scores + bias
            if scores.size:
                dead = np.maximum.reduce(scores, axis=-1, keepdims=True) == -np.inf
                if dead.any():
                    self.dead = dead
                    np.copyto(scores, 0, where=dead)
        p, _ = softmax_array(scores, scores.ndim - 1, overwrite=True)   # (scores are scratch)
        if self.dead is not None:
            np.copyto(p, 0, where=self.dead)
        self.p = p
        if self.has_noise:
            p = p * xs[-1]
        return _matmul(p, v)

    def _release(self):
        super()._release()
        self.p = self.dense = None   # the weights (…, L, S): the largest array a block keeps

    def _weights(self, xp, q, k, bias):
        """P: the forward's array, or on Tensors recomputed in recorded (differentiable) ops."""
        if not xp.recording:
            return self.p
        scores = xp.matmul(q, xp.mT(k)) * self.scale
        if self.causal:
            scores = xp.where(xp.const(causal_mask(*scores.shape[-2:])), -np.inf, scores)
        if bias is not None:
            scores = scores + bias
        if self.dead is None:
            return xp.apply(Softmax, scores, dim=scores.ndim - 1)
        dead = xp.const(self.dead)
        p = xp.apply(Softmax, xp.where(dead, 0.0, scores), dim=scores.ndim - 1)
        return xp.where(dead, 0.0, p)

    def _parts(self, xs):
        q, k, v = xs[:3]
        return q, k, v, (xs[3] if self.has_bias else None), (xs[-1] if self.has_noise else None)

    def vjp(self, xp, g, *xs):
        q, k, v, bias, noise = self._parts(xs)
        if not xp.recording:
            q, k, v = self.dense
        need_q, need_k, need_v = self.needs_input_grad[:3]
        need_bias = self.has_bias and self.needs_input_grad[3]
        p = self._weights(xp, q, k, bias)
        grads = [None] * len(xs)
        if need_v:
            grads[2] = xp.matmul(xp.mT(p if noise is None else p * noise), g)
        if need_q or need_k or need_bias:
            gp = xp.matmul(g, xp.mT(v))
            if noise is not None:
                gp = gp * noise
            gs = _softmax_vjp(xp, gp, p)
            if need_bias:
                grads[3] = gs
            # s applied to the (L, E) and (S, E) products rather than to S̄ (L, S)
            if need_q:
                grads[0] = xp.matmul(gs, k) * self.scale
            if need_k:
                grads[1] = xp.matmul(xp.mT(gs), q) * self.scale
        return grads

    def jvp(self, xp, tangents, *xs):
        q, k, v, bias, noise = self._parts(xs)
        tq, tk, tv = tangents[:3]
        tb = tangents[3] if self.has_bias else None
        p = self._weights(xp, q, k, bias)
        ts = None
        for term in ((tq @ xp.mT(k)) * self.scale if tq is not None else None,
                     (q @ xp.mT(tk)) * self.scale if tk is not None else None, tb):
            if term is not None:
                ts = term if ts is None else ts + term
        out = None
        if ts is not None:
            tp = _softmax_vjp(xp, ts, p)   # the softmax's Jacobian is symmetric
            out = (tp if noise is None else tp * noise) @ v
        if tv is not None:
            term = (p if noise is None else p * noise) @ tv
            out = term if out is None else out + term
        return out


def _softmax_vjp(xp, g, p):
    """P ⊙ (G − Σ_j G ⊙ P) over the last dim: the VJP (and, the Jacobian being symmetric, the
    JVP) of a softmax whose output is P; on arrays oneDNN's one pass where it takes them,
    written over G (the caller's scratch)."""
    if (not xp.recording and onednn.softmax_supported(p) and g.dtype == p.dtype
            and g.shape == p.shape and g.flags.c_contiguous):
        return onednn.softmax_backward(g, p, out=g)
    return p * (g - xp.sum(g * p, (p.ndim - 1,), True))


def _repeat_heads(t, r):
    """Each head (dim −3) repeated ``r`` times in place: torch's repeat_interleave(r, dim=−3)."""
    shape = tuple(t.shape)
    lead, h = shape[:-3], shape[-3]
    grown = t.unsqueeze(-3).expand(lead + (h, r) + shape[-2:])
    return grown.reshape(lead + (h * r,) + shape[-2:])


def _canonical_mask(mask, name, target_dtype):
    """A key padding or attention mask as torch's MHA takes it: boolean (True: masked out) to
    0 / −∞ of the query's dtype; float as it is; anything else is an error."""
    if mask is None:
        return None
    if mask.dtype is _bool:
        return creation.zeros(tuple(mask.shape), dtype=target_dtype).masked_fill(mask,
                                                                                 float("-inf"))
    if not mask.is_floating_point():
        raise AssertionError(f"only bool and floating types of {name} are supported")
    return mask


def _mha_shape_check(query, key, value, key_padding_mask, attn_mask, num_heads):
    """Whether the input is batched (3-D) or not (2-D), with torch's checks (AssertionError)."""
    if query.ndim == 3:
        if key.ndim != 3 or value.ndim != 3:
            raise AssertionError("For batched (3-D) `query`, expected `key` and `value` to be 3-D "
                                 f"but found {key.ndim}-D and {value.ndim}-D tensors respectively")
        if key_padding_mask is not None and key_padding_mask.ndim != 2:
            raise AssertionError("For batched (3-D) `query`, expected `key_padding_mask` to be "
                                 f"`None` or 2-D but found {key_padding_mask.ndim}-D tensor instead")
        if attn_mask is not None and attn_mask.ndim not in (2, 3):
            raise AssertionError("For batched (3-D) `query`, expected `attn_mask` to be `None`, "
                                 f"2-D or 3-D but found {attn_mask.ndim}-D tensor instead")
        return True
    if query.ndim == 2:
        if key.ndim != 2 or value.ndim != 2:
            raise AssertionError("For unbatched (2-D) `query`, expected `key` and `value` to be "
                                 f"2-D but found {key.ndim}-D and {value.ndim}-D tensors "
                                 "respectively")
        if key_padding_mask is not None and key_padding_mask.ndim != 1:
            raise AssertionError("For unbatched (2-D) `query`, expected `key_padding_mask` to be "
                                 f"`None` or 1-D but found {key_padding_mask.ndim}-D tensor instead")
        if attn_mask is not None:
            if attn_mask.ndim not in (2, 3):
                raise AssertionError("For unbatched (2-D) `query`, expected `attn_mask` to be "
                                     f"`None`, 2-D or 3-D but found {attn_mask.ndim}-D tensor "
                                     "instead")
            expected = (num_heads, query.shape[0], key.shape[0])
            if attn_mask.ndim == 3 and tuple(attn_mask.shape) != expected:
                raise AssertionError(f"Expected `attn_mask` shape to be {expected} but got "
                                     f"{tuple(attn_mask.shape)}")
        return False
    raise AssertionError("query should be unbatched 2D or batched 3D tensor but received "
                         f"{query.ndim}-D query tensor")


def _in_projection_packed(q, k, v, w, b):
    e = q.shape[-1]
    if k is v and q is k:   # self-attention: one matmul for all three
        proj = linear(q, w, b).unflatten(-1, (3, e))
        return proj.select(-2, 0), proj.select(-2, 1), proj.select(-2, 2)
    w_q, w_k, w_v = w.chunk(3)
    b_q, b_k, b_v = (None, None, None) if b is None else b.chunk(3)
    return linear(q, w_q, b_q), linear(k, w_k, b_k), linear(v, w_v, b_v)


def multi_head_attention_forward(query, key, value, embed_dim_to_check: int, num_heads: int,
                                 in_proj_weight, in_proj_bias, bias_k, bias_v,
                                 add_zero_attn: bool, dropout_p: float, out_proj_weight,
                                 out_proj_bias, training: bool = True, key_padding_mask=None,
                                 need_weights: bool = True, attn_mask=None,
                                 use_separate_proj_weight: bool = False, q_proj_weight=None,
                                 k_proj_weight=None, v_proj_weight=None, static_k=None,
                                 static_v=None, average_attn_weights: bool = True,
                                 is_causal: bool = False):
    """Multi-head attention (Vaswani et al. 2017), torch's computation:
    headᵢ = softmax((Q W_qᵢ)(K W_kᵢ)ᵀ/√d + M) (V W_vᵢ),  out = concat(head₁…head_h) W_oᵀ + b_o,
    d = E/h. The in-projection is ``in_proj_weight`` (3E, E) packed, or the separate q/k/v
    weights; ``bias_k``/``bias_v`` append one learnt key/value, ``add_zero_attn`` one zero
    key/value; ``key_padding_mask`` (N, S) (True or −∞: ignore that key) and ``attn_mask``
    (L, S) or (N·h, L, S) (bool: True = masked out; float: added) combine.

    Shapes (sequence first): query (L, N, E), key (S, N, E_k), value (S, N, E_v) (or unbatched
    (L, E), ...) -> (output (L, N, E), weights (N, L, S) averaged over heads, (N, h, L, S) with
    ``average_attn_weights=False``, or None when ``need_weights=False``)."""
    is_batched = _mha_shape_check(query, key, value, key_padding_mask, attn_mask, num_heads)
    if not is_batched:
        query, key, value = query.unsqueeze(1), key.unsqueeze(1), value.unsqueeze(1)
        if key_padding_mask is not None:
            key_padding_mask = key_padding_mask.unsqueeze(0)
    tgt_len, bsz, embed_dim = query.shape
    src_len = key.shape[0]
    key_padding_mask = _canonical_mask(key_padding_mask, "key_padding_mask", query.dtype)
    if is_causal and attn_mask is None:
        raise RuntimeError("Need attn_mask if specifying the is_causal hint. You may use the "
                           "Transformer module method `generate_square_subsequent_mask` to "
                           "create this mask.")
    if is_causal and key_padding_mask is None and not need_weights:
        attn_mask = None   # the hint stands for the mask: sdpa builds it
    else:
        attn_mask = _canonical_mask(attn_mask, "attn_mask", query.dtype)
        if key_padding_mask is not None:
            is_causal = False
    if embed_dim != embed_dim_to_check:
        raise AssertionError(f"was expecting embedding dimension of {embed_dim_to_check}, but "
                             f"got {embed_dim}")
    head_dim = embed_dim // num_heads
    if head_dim * num_heads != embed_dim:
        raise AssertionError(f"embed_dim {embed_dim} not divisible by num_heads {num_heads}")
    if use_separate_proj_weight:
        if tuple(key.shape[:2]) != tuple(value.shape[:2]):
            raise AssertionError(f"key's sequence and batch dims {tuple(key.shape[:2])} do not "
                                 f"match value's {tuple(value.shape[:2])}")
        for name, w in (("q", q_proj_weight), ("k", k_proj_weight), ("v", v_proj_weight)):
            if w is None:
                raise AssertionError(f"use_separate_proj_weight is True but {name}_proj_weight "
                                     "is None")
        b_q, b_k, b_v = (None,) * 3 if in_proj_bias is None else in_proj_bias.chunk(3)
        q, k, v = (linear(query, q_proj_weight, b_q), linear(key, k_proj_weight, b_k),
                   linear(value, v_proj_weight, b_v))
    else:
        if tuple(key.shape) != tuple(value.shape):
            raise AssertionError(f"key shape {tuple(key.shape)} does not match value shape "
                                 f"{tuple(value.shape)}")
        if in_proj_weight is None:
            raise AssertionError("use_separate_proj_weight is False but in_proj_weight is None")
        q, k, v = _in_projection_packed(query, key, value, in_proj_weight, in_proj_bias)

    if attn_mask is not None:
        if attn_mask.ndim == 2:
            if tuple(attn_mask.shape) != (tgt_len, src_len):
                raise RuntimeError(f"The shape of the 2D attn_mask is {tuple(attn_mask.shape)}, "
                                   f"but should be {(tgt_len, src_len)}.")
            attn_mask = attn_mask.unsqueeze(0)
        elif attn_mask.ndim == 3:
            if tuple(attn_mask.shape) != (bsz * num_heads, tgt_len, src_len):
                raise RuntimeError(f"The shape of the 3D attn_mask is {tuple(attn_mask.shape)}, "
                                   f"but should be {(bsz * num_heads, tgt_len, src_len)}.")
        else:
            raise RuntimeError(f"attn_mask's dimension {attn_mask.ndim} is not supported")

    if bias_k is not None and bias_v is not None:
        if static_k is not None or static_v is not None:
            raise AssertionError("bias cannot be added to static key.")
        k = cat([k, bias_k.repeat(1, bsz, 1)])
        v = cat([v, bias_v.repeat(1, bsz, 1)])
        if attn_mask is not None:
            attn_mask = pad(attn_mask, (0, 1))
        if key_padding_mask is not None:
            key_padding_mask = pad(key_padding_mask, (0, 1))
    elif bias_k is not None or bias_v is not None:
        raise AssertionError("bias_k is set but bias_v is None" if bias_k is not None
                             else "bias_v is set but bias_k is None")

    q = q.reshape(tgt_len, bsz * num_heads, head_dim).transpose(0, 1)
    k = (k.reshape(k.shape[0], bsz * num_heads, head_dim).transpose(0, 1) if static_k is None
         else _static(static_k, bsz * num_heads, head_dim, "static_k"))
    v = (v.reshape(v.shape[0], bsz * num_heads, head_dim).transpose(0, 1) if static_v is None
         else _static(static_v, bsz * num_heads, head_dim, "static_v"))
    if add_zero_attn:
        zeros = creation.zeros(bsz * num_heads, 1, head_dim, dtype=k.dtype)
        k, v = cat([k, zeros], 1), cat([v, zeros.to(v.dtype)], 1)
        if attn_mask is not None:
            attn_mask = pad(attn_mask, (0, 1))
        if key_padding_mask is not None:
            key_padding_mask = pad(key_padding_mask, (0, 1))
    src_len = k.shape[1]

    if key_padding_mask is not None:
        if tuple(key_padding_mask.shape) != (bsz, src_len):
            raise AssertionError(f"Expected key_padded_mask.shape to be {(bsz, src_len)}, but got "
                                 f"{tuple(key_padding_mask.shape)}")
        key_padding_mask = key_padding_mask.reshape(bsz, 1, 1, src_len).expand(
            (bsz, num_heads, 1, src_len)).reshape(bsz * num_heads, 1, src_len)
        attn_mask = key_padding_mask if attn_mask is None else attn_mask + key_padding_mask
    if not training:
        dropout_p = 0.0

    if need_weights:
        scores = (q * math.sqrt(1.0 / head_dim)) @ k.transpose(-2, -1)
        if attn_mask is not None:
            scores = scores + attn_mask
        weights = softmax(scores, -1)
        if dropout_p > 0.0:
            weights = dropout(weights, dropout_p)
        out = (weights @ v).transpose(0, 1).reshape(tgt_len * bsz, embed_dim)
        out = linear(out, out_proj_weight, out_proj_bias).reshape(tgt_len, bsz, -1)
        weights = weights.reshape(bsz, num_heads, tgt_len, src_len)
        if average_attn_weights:
            weights = weights.mean(1)
        if not is_batched:
            out, weights = out.squeeze(1), weights.squeeze(0)
        return out, weights
    if attn_mask is not None:
        attn_mask = (attn_mask.unsqueeze(0) if attn_mask.shape[0] == 1 and attn_mask.ndim == 3
                     else attn_mask.reshape(bsz, num_heads, -1, src_len))
    q = q.reshape(bsz, num_heads, tgt_len, head_dim)
    k = k.reshape(bsz, num_heads, src_len, head_dim)
    v = v.reshape(bsz, num_heads, src_len, head_dim)
    out = scaled_dot_product_attention(q, k, v, attn_mask, dropout_p, is_causal)
    out = out.permute(2, 0, 1, 3).reshape(bsz * tgt_len, embed_dim)
    out = linear(out, out_proj_weight, out_proj_bias).reshape(tgt_len, bsz, -1)
    return (out if is_batched else out.squeeze(1)), None


def _static(t, rows, head_dim, name):
    if t.shape[0] != rows:
        raise AssertionError(f"expecting {name}.size(0) of {rows}, but got {t.shape[0]}")
    if t.shape[2] != head_dim:
        raise AssertionError(f"expecting {name}.size(2) of {head_dim}, but got {t.shape[2]}")
    return t
