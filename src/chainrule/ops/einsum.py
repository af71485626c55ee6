"""einsum: sums of products over named indices, and its derivative — another einsum.

For out = einsum("s₁,…,sₙ->o", x₁, …, xₙ), the product is linear in each operand, so the VJP
for xᵢ contracts the gradient with all the *other* operands back onto xᵢ's indices:

    x̄ᵢ = einsum("s₁,…,(no sᵢ),…,sₙ,o->sᵢ", x₁, …, ḡ, …, xₙ)

(broadcast along the indices only xᵢ had, which it summed alone), and the JVP is the sum over i
of the same einsum with xᵢ replaced by its tangent. One primitive, :class:`Einsum`, in the plain
form (explicit output, no "...", no index repeated within an operand); the public function
rewrites torch's full syntax into that form with differentiable ops first: "..." becomes named
indices, a repeated index (a trace, "ii->i") takes the diagonal, size-1 dims broadcast.
"""
from __future__ import annotations

import functools
import math
import string

import numpy as np

from .. import _dtype
from .._graph import Node
from ..backends.namespace import matmul as _matmul
from ._util import check_tensor
from .rearrange import diagonal
from .shape import expand


class Einsum(Node):
    """out = np.einsum(equation, *xs) in the plain form "ab,bc->ac" (see the module doc)."""

    params = ("equation",)

    def forward(self, *xs):
        ins, out = self.equation.split("->")
        terms = ins.split(",")
        if "" in terms:   # NumPy's parser miscounts empty terms: a 0-d operand as shape (1,)
            fresh = next(c for c in string.ascii_letters if c not in self.equation)
            xs = [x.reshape(1) if t == "" else x for t, x in zip(terms, xs)]
            terms = [t or fresh for t in terms]
        elif len(xs) == 2:
            product = _pair_as_matmul(*terms, out, *xs)
            if product is not None:
                return product
        elif len(xs) > 2:
            product = _pairwise(terms, out, xs)
            if product is not None:
                return product
        return np.einsum(",".join(terms) + "->" + out, *xs, optimize=len(xs) > 1)

    def _terms(self):
        ins, out = self.equation.split("->")
        return ins.split(","), out

    def _contract_into(self, xp, i, operands, g):
        """Σ over every index but operand i's: the einsum of the other operands and ``g`` onto
        operand i's indices, broadcast along the ones nothing else has."""
        subs, out = self._terms()
        others = [s for j, s in enumerate(subs) if j != i] + [out]
        present = set("".join(others))
        kept = "".join(c for c in subs[i] if c in present)
        values = [x for j, x in enumerate(operands) if j != i] + [g]
        part = xp.apply(Einsum, *values, equation=",".join(others) + "->" + kept)
        shape = tuple(xp.data(operands[i]).shape)
        if kept != subs[i]:
            part = xp.expand(xp.reshape(part, tuple(s if c in present else 1
                                                    for c, s in zip(subs[i], shape))), shape)
        return part

    def vjp(self, xp, g, *xs):
        return [self._contract_into(xp, i, xs, g) if need else None
                for i, need in enumerate(self.needs_input_grad)]

    def jvp(self, xp, tangents, *xs):
        out = None
        for i, t in enumerate(tangents):
            if t is None:
                continue
            term = xp.apply(Einsum, *[t if j == i else x for j, x in enumerate(xs)],
                            equation=self.equation)
            out = term if out is None else out + term
        return out


def _pair_as_matmul(ta, tb, out, a, b):
    """einsum(ta,tb->out) of two floating-point arrays as one batched matrix product (torch's
    lowering), so that it runs where chainrule's products run (oneDNN's threads where NumPy's
    BLAS would wake a pool of its own beside them; ``backends.namespace.matmul``): the indices
    one operand has alone are summed out first, then with batch indices β (in both and in
    out), free ones λ (a's) and ρ (b's) and contracted ones κ (in both, not in out),
    C[β, λ, ρ] = Σ_κ A[β, λ, κ]·B[β, κ, ρ], permuted to out's order. None (NumPy's einsum
    instead) for other dtypes and for an operand with a broadcast (stride-0) dim, which the
    reshapes would copy out to its full size."""
    if a.dtype.kind not in "fc" or a.dtype != b.dtype or 0 in a.strides or 0 in b.strides:
        return None
    size = {**dict(zip(ta, a.shape)), **dict(zip(tb, b.shape))}
    alone = [i for i, c in enumerate(ta) if c not in tb and c not in out]
    if alone:
        a, ta = np.add.reduce(a, tuple(alone)), "".join(c for c in ta if c in tb or c in out)
    alone = [i for i, c in enumerate(tb) if c not in ta and c not in out]
    if alone:
        b, tb = np.add.reduce(b, tuple(alone)), "".join(c for c in tb if c in ta or c in out)
    batch = [c for c in out if c in ta and c in tb]
    left, right = [c for c in ta if c not in tb], [c for c in tb if c not in ta]
    inner = [c for c in ta if c in tb and c not in out]
    nb, nl, nk, nr = (math.prod(size[c] for c in group) for group in (batch, left, inner, right))
    lead = (nb,) if batch else ()   # no batch index: one matrix product
    lhs = a.transpose([ta.index(c) for c in batch + left + inner]).reshape(lead + (nl, nk))
    rhs = b.transpose([tb.index(c) for c in batch + inner + right]).reshape(lead + (nk, nr))
    order = batch + left + right
    product = _matmul(lhs, rhs).reshape([size[c] for c in order])
    return product.transpose([order.index(c) for c in out])


def _pairwise(terms, out, xs):
    """einsum of three or more operands as products of two (``_pair_as_matmul``), in the order
    NumPy's greedy path finds for these shapes (cached per equation and shapes), each
    intermediate keeping the indices a later operand or the output still needs — as torch
    contracts them, so that every product runs where chainrule's products run (NumPy's
    einsum would call its BLAS, whose threads spin beside oneDNN's: a 3-operand einsum after a
    convolution ran 2.4× slower at 2 threads than at 1). None (NumPy's einsum instead) where
    the path sums an operand alone or a pair is not a product."""
    path = _path(",".join(terms) + "->" + out, tuple(x.shape for x in xs))
    operands = list(zip(terms, xs))
    for pair in path:
        if len(pair) != 2:
            return None
        (ta, a), (tb, b) = (operands[k] for k in pair)
        rest = [o for k, o in enumerate(operands) if k not in pair]
        later = set("".join(t for t, _ in rest) + out)
        keep = "".join(dict.fromkeys(c for c in ta + tb if c in later)) if rest else out
        product = _pair_as_matmul(ta, tb, keep, a, b)
        if product is None:
            return None
        operands = rest + [(keep, product)]
    return operands[0][1]


@functools.lru_cache(maxsize=256)
def _path(equation, shapes):
    """NumPy's greedy contraction order for ``equation`` on operands of ``shapes``: a list of
    tuples of operand positions, each contracted into one operand appended at the end."""
    dummies = [np.lib.stride_tricks.as_strided(np.zeros(1), shape, [0] * len(shape))
               for shape in shapes]
    return np.einsum_path(equation, *dummies, optimize="greedy")[0][1:]


def _parse(equation, operands):
    """Torch's einsum syntax -> (input subscripts, output subscripts) with "..." named."""
    eq = equation.replace(" ", "")
    lhs, arrow, rhs = eq.partition("->")
    terms = lhs.split(",")
    if len(terms) != len(operands):
        raise RuntimeError("einsum(): more operands were provided than specified in the equation"
                         if len(operands) > len(terms) else
                         "einsum(): fewer operands were provided than specified in the equation")
    used = set(c for c in eq if c.isalpha())
    for c in eq:
        if not (c.isalpha() or c in ",.->"):
            raise RuntimeError(f"einsum(): invalid subscript given at index {eq.index(c)} in the "
                               f"equation string, subscripts must be in [a-zA-Z]")
    free = [c for c in string.ascii_letters if c not in used]
    ell_rank = 0
    for term, x in zip(terms, operands):
        if term.count("...") > 1 or term.replace("...", "").count(".") > 0:
            raise RuntimeError("einsum(): found '.' for operand that is not part of any ellipsis")
        letters = len(term.replace("...", ""))
        if "..." in term:
            ell_rank = max(ell_rank, x.ndim - letters)
        elif letters != x.ndim:
            raise RuntimeError(f"einsum(): the number of subscripts in the equation ({letters}) "
                               f"does not match the number of dimensions ({x.ndim}) for operand "
                               f"{terms.index(term)} and no ellipsis was given")
    ell = "".join(free[:ell_rank])
    named = []
    for term, x in zip(terms, operands):
        k = x.ndim - len(term.replace("...", ""))
        named.append(term.replace("...", ell[ell_rank - k:] if k else ""))
    if arrow:
        if rhs.count("...") > 1:
            raise RuntimeError("einsum(): found '.' for output that is not part of any ellipsis")
        out = rhs.replace("...", ell)
        for c in out:
            if c not in "".join(named):
                raise RuntimeError(f"einsum(): output subscript {c} does not appear in the "
                                   "equation for any input operand")
        if len(set(out)) != len(out):
            raise RuntimeError("einsum(): output subscript appears more than once in the output")
    else:   # implicit output: the broadcast dims, then the indices seen once, alphabetically
        counts = {}
        for term in named:
            for c in term:
                counts[c] = counts.get(c, 0) + 1
        out = ell + "".join(sorted((c for c, n in counts.items() if n == 1 and c not in ell),
                                   key=lambda c: (c.islower(), c)))
    return named, out


def _single_indices(term, x):
    """Take the diagonal for each index repeated within one operand (a trace): 'ii' -> 'i'."""
    while len(set(term)) != len(term):
        c = next(c for c in term if term.count(c) > 1)
        a = term.index(c)
        b = term.index(c, a + 1)
        if x.shape[a] != x.shape[b]:
            raise RuntimeError(f"einsum(): subscript {c} is repeated for operand but the sizes "
                               f"don't match, {x.shape[a]} != {x.shape[b]}")
        x = diagonal(x, 0, a, b)                      # the diagonal becomes the last dim
        term = "".join(t for k, t in enumerate(term) if k not in (a, b)) + c
    return term, x


def einsum(equation, *operands):
    """Sum of products over named indices, torch's syntax: ``einsum("ij,jk->ik", a, b)`` is
    a @ b; "..." stands for broadcast dims; without "->" the output is the broadcast dims and
    the indices that appear once, in alphabetical order. Dims of size 1 broadcast. Also
    ``einsum(eq, [a, b])``."""
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    if not isinstance(equation, str):
        raise TypeError(f"einsum(): the equation must be a string, got {type(equation).__name__}")
    for x in operands:
        check_tensor(x, "einsum", "each operand")
    terms, out = _parse(equation, operands)
    pairs = [_single_indices(t, x) for t, x in zip(terms, operands)]
    sizes = {}
    for term, x in pairs:
        for c, s in zip(term, x.shape):
            if c not in sizes or sizes[c] == 1:
                sizes[c] = s
            elif s not in (1, sizes[c]):
                raise RuntimeError(f"einsum(): operands do not broadcast with remapped shapes "
                                   f"(original->remapped): subscript {c} has sizes "
                                   f"{sizes[c]} and {s}")
    xs = [expand(x, *[sizes[c] for c in term]) if tuple(x.shape) != tuple(sizes[c] for c in term)
          else x for term, x in pairs]
    dtypes = {x._data.dtype for x in xs}
    if len(dtypes) > 1:
        raise RuntimeError(f"einsum(): expected all operands to have the same dtype, got "
                           f"{sorted(str(d) for d in dtypes)}")
    plain = ",".join(t for t, _ in pairs) + "->" + out
    if xs[0]._data.dtype.kind in "biu" and any(
            set(t) - set(out) - set().union(*(set(u) for j, (u, _) in enumerate(pairs) if j != i))
            for i, (t, _) in enumerate(pairs)):
        # torch first sums out an index only one operand has, with sum: integers count in int64
        xs = [x.to(_dtype.int64) for x in xs]
    return Einsum.apply(*xs, equation=plain)

