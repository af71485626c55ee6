"""AdamW: Adam with decoupled weight decay."""
from __future__ import annotations

from .adam import Adam


class AdamW(Adam):
    r"""AdamW (Loshchilov & Hutter, 2019; ``torch.optim.AdamW``).

    Adam whose weight decay shrinks the weights directly instead of entering the gradient, so
    the decay is not rescaled by the adaptive denominator::

        θ_{t−1} ← θ_{t−1} (1 − η λ)
        m_t = β₁ m_{t−1} + (1 − β₁) g_t,   v_t = β₂ v_{t−1} + (1 − β₂) g_t²
        θ_t = θ_{t−1} − η / (1 − β₁^t) · m_t / (√v̂_t / √(1 − β₂^t) + ε)

    Same arguments and state as :class:`Adam`, with ``weight_decay`` defaulting to 1e-2.
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2,
                 amsgrad=False, *, maximize=False, foreach=None, capturable=False,
                 differentiable=False, fused=None):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, foreach=foreach,
                         maximize=maximize, capturable=capturable,
                         differentiable=differentiable, fused=fused,
                         decoupled_weight_decay=True)

    def load_state_dict(self, state_dict):
        super().load_state_dict(state_dict)
        for group in self.param_groups:  # AdamW always decouples, as torch's
            group["decoupled_weight_decay"] = True
