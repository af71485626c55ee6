"""Basis-function models: f(x; θ) = W φ(x; θ₂) + b.

The raw input x is replaced by features φ(x; θ₂) with their own parameters θ₂; a Linear
layer on top gives W and b. With fixed θ₂ this is linear regression on new features; with
trainable θ₂ (RBF centres and widths, Fourier frequencies) the features are learned too.
"""
from __future__ import annotations

import itertools
import math

import numpy as np

from .. import nn
from ..creation import randn, tensor
from ..nn import init
from .._modes import no_grad
from ..ops import cat, cos, exp, sin, stack
from ..optim import Adam
from ..random import manual_seed
from .mlp import MLP


class PolynomialFeatures(nn.Module):
    """φ(x) = all monomials of x₁..x_d of total degree 1..``degree`` (no constant: the Linear
    layer's bias plays that role).  Shapes: (N, d) -> (N, number of monomials)."""

    def __init__(self, degree: int = 2):
        super().__init__()
        if degree < 1:
            raise ValueError(f"PolynomialFeatures: degree must be >= 1, got {degree}")
        self.degree = degree

    def forward(self, x):
        if x.ndim != 2:
            raise ValueError(f"PolynomialFeatures: expected input (N, d), got {tuple(x.shape)}")
        cols = [x[:, i] for i in range(x.shape[1])]
        feats = []
        for deg in range(1, self.degree + 1):
            for combo in itertools.combinations_with_replacement(range(len(cols)), deg):
                term = cols[combo[0]]
                for j in combo[1:]:
                    term = term * cols[j]
                feats.append(term)
        return stack(feats, 1)

    def extra_repr(self):
        return f"degree={self.degree}"


class RBF(nn.Module):
    """Gaussian radial basis functions φ_k(x) = exp(−‖x − c_k‖² / (2 s_k²)).

    θ₂ = centres c (num_centers, in_features) and log-widths log s (num_centers,), learned by
    gradient descent when ``trainable`` (else fixed buffers).
    Shapes: (N, in_features) -> (N, num_centers). Centres start ~ N(0, 1), widths at 1.
    """

    def __init__(self, in_features: int, num_centers: int, trainable: bool = True):
        super().__init__()
        self.in_features, self.num_centers, self.trainable = in_features, num_centers, trainable
        centres, log_widths = randn(num_centers, in_features), randn(num_centers) * 0
        if trainable:
            self.centers = nn.Parameter(centres)
            self.log_widths = nn.Parameter(log_widths)
        else:
            self.register_buffer("centers", centres)
            self.register_buffer("log_widths", log_widths)

    def forward(self, x):
        if x.ndim != 2 or x.shape[1] != self.in_features:
            raise ValueError(f"RBF: expected input (N, {self.in_features}), got {tuple(x.shape)}")
        d2 = ((x.unsqueeze(1) - self.centers.unsqueeze(0)) ** 2).sum(-1)   # (N, K)
        return exp(-d2 / (2 * exp(2 * self.log_widths)))

    def extra_repr(self):
        return f"in_features={self.in_features}, num_centers={self.num_centers}, " \
               f"trainable={self.trainable}"


class FourierFeatures(nn.Module):
    """Random Fourier features φ(x) = [cos(2π xBᵀ), sin(2π xBᵀ)] with frequencies B
    (num_features, in_features) ~ N(0, scale²), learned when ``trainable``.
    Shapes: (N, in_features) -> (N, 2·num_features)."""

    def __init__(self, in_features: int, num_features: int, trainable: bool = True,
                 scale: float = 1.0):
        super().__init__()
        self.in_features, self.num_features, self.trainable = in_features, num_features, trainable
        freqs = randn(num_features, in_features) * scale
        if trainable:
            self.frequencies = nn.Parameter(freqs)
        else:
            self.register_buffer("frequencies", freqs)

    def forward(self, x):
        if x.ndim != 2 or x.shape[1] != self.in_features:
            raise ValueError(f"FourierFeatures: expected input (N, {self.in_features}), got "
                             f"{tuple(x.shape)}")
        proj = (2 * math.pi) * (x @ self.frequencies.T)
        return cat([cos(proj), sin(proj)], 1)

    def extra_repr(self):
        return f"in_features={self.in_features}, num_features={self.num_features}, " \
               f"trainable={self.trainable}"


def basis_model(basis: nn.Module, out_features: int, in_features: int) -> nn.Sequential:
    """f(x) = W φ(x) + b: ``basis`` followed by a Linear layer sized to its output."""
    with no_grad():
        width = basis(tensor([[0.0] * in_features])).shape[-1]
    return nn.Sequential(basis, nn.Linear(width, out_features))


def fit_universal_approximator(fn, width: int, x, steps: int = 500, lr: float = 1e-3,
                               seed: int = 0):
    """Fit a one-hidden-layer tanh MLP f(x) = Σ_k a_k tanh(w_k x + c_k) + b with ``width`` units
    to y = fn(x) on the points ``x`` (a 1-d tensor); returns (model, mean squared error).

    The hidden units' bends are spread over the interval at random, the output layer starts at
    its (ridge) least-squares optimum, then Adam fine-tunes all weights. The universal approximation
    theorem says the error can be made as small as we like by widening the layer; the returned
    error shows it shrinking with ``width``.
    """

    manual_seed(seed)
    X = x.reshape(-1, 1)
    Y = fn(X)
    model = MLP(1, [width], 1, activation="tanh")
    hidden, out = model[0], model[2]
    span = max(float(X.abs().max().item()), 1e-12)
    init.uniform_(hidden.weight, -4.0 / span, 4.0 / span)
    init.uniform_(hidden.bias, -3.0, 3.0)
    xs = X.numpy().astype(np.float64)
    H = np.tanh(xs @ hidden.weight.detach().numpy().T.astype(np.float64) + hidden.bias.detach().numpy())
    H = np.concatenate([H, np.ones((len(xs), 1))], 1)
    # a little ridge keeps the coefficients moderate, so float32 evaluation does not cancel
    coef = np.linalg.solve(H.T @ H + 1e-6 * np.eye(H.shape[1]), H.T @ Y.numpy().astype(np.float64))
    out.weight._data[...] = coef[:-1].T
    out.bias._data[...] = coef[-1]
    opt = Adam(model.parameters(), lr=lr)
    best = None
    for _ in range(steps):
        opt.zero_grad()
        loss = ((model(X) - Y) ** 2).mean()
        best = loss.item() if best is None else min(best, loss.item())
        loss.backward()
        opt.step()
    with no_grad():
        final = ((model(X) - Y) ** 2).mean().item()
    return model, min(final, best)
