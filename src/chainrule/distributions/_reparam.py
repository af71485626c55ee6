"""Reparameterised gamma and Dirichlet draws (torch's ``_standard_gamma`` and
``_sample_dirichlet`` with their backward rules).

A draw x ~ Gamma(α, 1) is not a closed-form function of α and fixed noise (the sampler
rejects), so its derivative is the implicit one: x moves with α so that its quantile
F(x; α) stays put, dx/dα = −(∂F/∂α)(x; α) / p(x; α) (Figurnov et al. 2018, "Implicit
Reparameterization Gradients"). ∂F/∂α has no closed form; torch evaluates it with
three approximations — a Taylor series of the incomplete gamma function for x < 0.8, Rice's
saddle-point expansion for α > 8, and a bivariate rational fit in (log(x/α), log α) otherwise —
and the same three are used here, in float64, so gradients agree with torch's.

A Dirichlet draw is normalised gammas; torch's gradient goes through the Beta marginals:
∂xᵢ/∂αᵢ is the implicit derivative of xᵢ ~ Beta(αᵢ, Σα − αᵢ) (Taylor series near 0 and 1,
a saddle-point form when both parameters exceed 6, a rational correction to
x(ψ(Σα) − ψ(αᵢ))/(Σα − αᵢ) otherwise), and the chain rule through the normalisation
gives ḡ_α = ∂x/∂α · (ḡ − Σⱼ xⱼḡⱼ).

Both backward rules are once differentiable, as torch's."""
from __future__ import annotations

import numpy as np

from .. import _sampling
from .._rng import stream as _stream
from ..autograd.function import Function, once_differentiable
from ..ops.special import _polygamma_array
from ..tensor import Tensor

__all__ = []

_f32 = np.float32


def _psi(x):
    return _polygamma_array(0, x)


# torch's float literals (0.8f, 0.9f, 1.1f) widened to double, so branch edges match
_X_SMALL, _LO, _HI = float(_f32(0.8)), float(_f32(0.9)), float(_f32(1.1))

_GAMMA_COEF = np.array([
    [0.16009398, -0.094634809, 0.025146376, -0.0030648343, 1, 0.32668115, 0.10406089, 0.0014179084],
    [0.53487893, 0.1298071, 0.065735949, -0.0015649758, 0.16639465, 0.020070113, -0.0035938915,
     -0.00058392623],
    [0.040121004, -0.0065914022, -0.0026286047, -0.0013441777, 0.017050642, -0.0021309326,
     0.00085092367, -1.5247877e-07]])


def standard_gamma_grad(alpha, x):
    """dx/dα for x ~ Gamma(α, 1) (arrays; float64 arithmetic, the result in x's dtype)."""
    dtype = np.result_type(alpha, x)
    a, x = np.broadcast_arrays(np.asarray(alpha, np.float64), np.asarray(x, np.float64))
    with np.errstate(all="ignore"):
        # x < 0.8: the series P(α, x) = xᵅ Σₖ (−x)ᵏ/(k!(α + k)) and its α-derivative
        numer, denom = np.ones_like(x), a.copy()
        s1, s2 = numer / denom, numer / (denom * denom)
        for i in range(1, 6):
            numer = numer * (-x / i)
            denom = denom + 1
            s1 = s1 + numer / denom
            s2 = s2 + numer / (denom * denom)
        pow_xa = x ** a
        pdf = x ** (a - 1) * np.exp(-x)
        cdf = pow_xa * s1
        small = -((np.log(x) - _psi(a)) * cdf - pow_xa * s2) / pdf
        small = np.where(np.isnan(small), 0.0, small)
        # α > 8: Rice's saddle-point expansion (a polynomial form at x ≈ α, its singular point)
        n1 = 1 + 24 * a * (1 + 12 * a)
        n2 = 1440 * (a * a) + 6 * x * (53 - 120 * x) - 65 * x * x / a + a * (107 + 3600 * x)
        near = n1 * n2 / (1244160 * (a * a) * (a * a))
        den = np.sqrt(8 * a)
        term2 = den / (a - x)
        term3 = (x - a - a * np.log(x / a)) ** -1.5
        term23 = np.where(x < a, term2 - term3, term2 + term3)
        term1 = np.log(x / a) * term23 - np.sqrt(2 / a) * (a + x) / ((a - x) * (a - x))
        stirling = 1 + 1 / (12 * a) * (1 + 1 / (24 * a))
        far = -stirling * (x * term1) / den
        large = np.where((_LO * a <= x) & (x <= _HI * a), near, far)
        # otherwise: exp(p/q), p and q cubic in log α with coefficients quadratic in log(x/α)
        u, v = np.log(x / a), np.log(a)
        cv = [_GAMMA_COEF[0, i] + u * (_GAMMA_COEF[1, i] + u * _GAMMA_COEF[2, i]) for i in range(8)]
        p = cv[0] + v * (cv[1] + v * (cv[2] + v * cv[3]))
        q = cv[4] + v * (cv[5] + v * (cv[6] + v * cv[7]))
        rational = np.exp(p / q)
        out = np.where(x < _X_SMALL, small, np.where(a > 8.0, large, rational))
    return out.astype(dtype)


def _beta_grad_alpha_small(x, a, b):
    """∂x/∂α for x ~ Beta(α, β) near 0: the series of the incomplete beta function."""
    factor = _psi(a) - _psi(a + b) - np.log(x)
    numer = np.ones_like(x)
    series = numer / a * (factor + 1 / a)
    for i in range(1, 11):
        numer = numer * ((i - b) * x / i)
        den = a + i
        series = series + numer / den * (factor + 1 / den)
    out = x * (1 - x) ** -b * series
    return np.where(np.isnan(out), 0.0, out)


def _beta_grad_beta_small(x, a, b):
    """∂x/∂β for x ~ Beta(α, β) near 0 (used at 1 − x for the far end)."""
    factor = _psi(a + b) - _psi(b)
    numer, betas, dbetas = np.ones_like(x), np.ones_like(x), np.zeros_like(x)
    series = factor / a
    for i in range(1, 9):
        numer = numer * (-x / i)
        dbetas = dbetas * (b - i) + betas
        betas = betas * (b - i)
        series = series + numer / (a + i) * (dbetas + factor * betas)
    out = -((1 - x) ** (1 - b)) * series
    return np.where(np.isnan(out), 0.0, out)


def _beta_grad_alpha_mid(x, a, b):
    """∂x/∂α for x ~ Beta(α, β), α and β > 6: Rice's saddle-point expansion."""
    total = a + b
    mean = a / total
    std = np.sqrt(a * b / (total + 1)) / total
    poly = 47 * x * (b * b) * (b * b) + a * (
        (43 + 20 * (16 + 27 * b) * x) * (b * b) * b + a * (
            3 * (59 + 180 * b - 90 * x) * (b * b) + a * (
                (453 + 1620 * b * (1 - x) - 455 * x) * b + a * (8 * (1 - x) * (135 * b - 11)))))
    pre_num = (1 + 12 * a) * (1 + 12 * b) / (total * total)
    pre_den = 12960 * a * a * a * b * b * (1 + 12 * total)
    near = pre_num / (1 - x) * poly / pre_den
    prefactor = -x / np.sqrt(2 * a * b / total)
    stirling = ((1 + 1 / (12 * a) + 1 / (288 * a * a)) * (1 + 1 / (12 * b) + 1 / (288 * b * b))
                / (1 + 1 / (12 * total) + 1 / (288 * total * total)))
    term1_num = 2 * (a * a) * (x - 1) + a * b * (x - 1) - x * (b * b)
    axbx = a * (x - 1) + b * x
    term1 = term1_num / (np.sqrt(2 * a / b) * total ** 1.5 * axbx * axbx)
    term2 = 0.5 * np.log(a / (total * x))
    term3 = np.sqrt(8 * a * b / total) / (b * x + a * (x - 1))
    term4 = (b * np.log(b / (total * (1 - x))) + a * np.log(a / (total * x))) ** -1.5
    far = stirling * prefactor * (term1 + term2 * (term3 + np.where(x < mean, term4, -term4)))
    return np.where((mean - 0.1 * std <= x) & (x <= mean + 0.1 * std), near, far)


_DIRICHLET_COEF = np.array([
    [[[1.003668233, -0.01061107488, -0.0657888334, 0.01201642863],
      [0.6336835991, -0.3557432599, 0.05486251648, -0.001465281033],
      [-0.03276231906, 0.004474107445, 0.002429354597, -0.0001557569013]],
     [[0.221950385, -0.3187676331, 0.01799915743, 0.01074823814],
      [-0.2951249643, 0.06219954479, 0.01535556598, 0.001550077057],
      [0.02155310298, 0.004170831599, 0.001292462449, 6.976601077e-05]],
     [[-0.05980841433, 0.008441916499, 0.01085618172, 0.002319392565],
      [0.02911413504, 0.01400243777, -0.002721828457, 0.000751041181],
      [0.005900514878, -0.001936558688, -9.495446725e-06, 5.385558597e-05]]],
    [[[1, -0.02924021934, -0.04438342661, 0.007285809825],
      [0.6357567472, -0.3473456711, 0.05454656494, -0.002407477521],
      [-0.03301322327, 0.004845219414, 0.00231480583, -0.0002307248149]],
     [[0.5925320577, -0.1757678135, 0.01505928619, 0.000564515273],
      [0.1014815858, -0.06589186703, 0.01272886114, -0.0007316646956],
      [-0.007258481865, 0.001096195486, 0.0003934994223, -4.12701925e-05]],
     [[0.06469649321, -0.0236701437, 0.002902096474, -5.896963079e-05],
      [0.001925008108, -0.002869809258, 0.0008000589141, -6.063713228e-05],
      [-0.0003477407336, 6.959756487e-05, 1.097287507e-05, -1.650964693e-06]]]])


def dirichlet_grad(x, alpha, total):
    """∂xᵢ/∂αᵢ for xᵢ ~ Beta(αᵢ, total − αᵢ), the marginal of a Dirichlet coordinate
    (arrays; float64 arithmetic, the result in x's dtype)."""
    dtype = x.dtype
    x, a, t = (np.asarray(v, np.float64) for v in np.broadcast_arrays(x, alpha, total))
    b = t - a
    boundary = t * x * (1 - x)
    with np.errstate(all="ignore"):
        near0 = _beta_grad_alpha_small(x, a, b)
        near1 = -_beta_grad_beta_small(1 - x, b, a)
        mid = _beta_grad_alpha_mid(x, a, b)
        u = np.log(x)
        la = np.log(a) - u
        lb = np.log(t) - la
        p, q = np.zeros_like(x), np.zeros_like(x)
        for i, pu in enumerate((1.0, u, u * u)):
            for j, pa in enumerate((1.0, la, la * la)):
                c0, c1 = _DIRICHLET_COEF[0, i, j], _DIRICHLET_COEF[1, i, j]
                p = p + pu * pa * (c0[0] + lb * (c0[1] + lb * (c0[2] + lb * c0[3])))
                q = q + pu * pa * (c1[0] + lb * (c1[1] + lb * (c1[2] + lb * c1[3])))
        rational = p / q * (x * (_psi(t) - _psi(a)) / b)
        out = np.select([(x <= 0.5) & (boundary < 2.5), (x >= 0.5) & (boundary < 0.75),
                         (a > 6) & (b > 6)], [near0, near1, mid], rational)
    return out.astype(dtype)


class _StandardGamma(Function):
    """x ~ Gamma(α, 1) elementwise; backward ḡ·dx/dα (implicit reparameterisation)."""

    @staticmethod
    def forward(ctx, concentration):
        x = Tensor._make(_sampling.standard_gamma(_stream(None), concentration.detach().numpy()))
        ctx.save_for_backward(concentration, x)
        return x

    @staticmethod
    @once_differentiable
    def backward(ctx, grad):
        concentration, x = ctx.saved_tensors
        return grad * Tensor._make(standard_gamma_grad(concentration.detach().numpy(),
                                                       x.detach().numpy()))


class _Dirichlet(Function):
    """x ~ Dirichlet(α) over the last dim; backward through the Beta marginals."""

    @staticmethod
    def forward(ctx, concentration):
        x = Tensor._make(_sampling.sample_dirichlet(_stream(None), concentration.detach().numpy()))
        ctx.save_for_backward(x, concentration)
        return x

    @staticmethod
    @once_differentiable
    def backward(ctx, grad):
        x, concentration = ctx.saved_tensors
        total = concentration.sum(-1, True).expand_as(concentration)
        g = Tensor._make(dirichlet_grad(x.detach().numpy(), concentration.detach().numpy(),
                                        total.detach().numpy()))
        return g * (grad - (x * grad).sum(-1, True))


def _standard_gamma(concentration):
    """Gamma(concentration, 1) draws, differentiable in concentration (torch._standard_gamma)."""
    return _StandardGamma.apply(concentration)


def _sample_dirichlet(concentration):
    """Dirichlet(concentration) draws over the last dim, differentiable in concentration."""
    return _Dirichlet.apply(concentration)
