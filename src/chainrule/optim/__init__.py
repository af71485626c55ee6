"""Optimizers and learning-rate schedules (``torch.optim``).

The deck's "adaptive heuristic optimizers": plain gradient descent θ_{t+1} = θ_t − η_t g_t
(:class:`SGD`, with momentum v_t = γ v_{t−1} + η g_t), :class:`Adagrad` (s_t = Σ g_t²),
:class:`RMSprop`, :class:`Adam` and :class:`AdamW`; schedules live in
:mod:`chainrule.optim.lr_scheduler`.
"""
from . import lr_scheduler
from .adagrad import Adagrad
from .adam import Adam
from .adamw import AdamW
from .optimizer import Optimizer
from .rmsprop import RMSprop
from .sgd import SGD

__all__ = ["Optimizer", "SGD", "Adagrad", "RMSprop", "Adam", "AdamW", "lr_scheduler"]
