"""Optimizers and learning-rate schedules (``torch.optim``).

The deck's "adaptive heuristic optimizers": plain gradient descent θ_{t+1} = θ_t − η_t g_t
(:class:`SGD`, with momentum v_t = γ v_{t−1} + η g_t), :class:`Adagrad` (s_t = Σ g_t²),
:class:`RMSprop`, :class:`Adam` and :class:`AdamW`, their relatives :class:`Adadelta`,
:class:`Adamax`, :class:`NAdam`, :class:`RAdam`, :class:`ASGD`, the factored :class:`Adafactor`,
the orthogonalizing :class:`Muon` and the quasi-Newton :class:`LBFGS`; schedules live in
:mod:`chainrule.optim.lr_scheduler`.
"""
from . import lr_scheduler
from .adadelta import Adadelta
from .adafactor import Adafactor
from .adagrad import Adagrad
from .adam import Adam
from .adamax import Adamax
from .adamw import AdamW
from .asgd import ASGD
from .lbfgs import LBFGS
from .muon import Muon
from .nadam import NAdam
from .optimizer import Optimizer
from .rprop import Rprop
from .radam import RAdam
from .rmsprop import RMSprop
from .sgd import SGD
from . import swa_utils  # AveragedModel, SWALR, update_bn (torch.optim.swa_utils)

__all__ = ["Optimizer", "SGD", "Adagrad", "RMSprop", "Adam", "AdamW", "Adadelta", "Adamax",
           "NAdam", "RAdam", "ASGD", "LBFGS", "Rprop", "Adafactor", "Muon", "lr_scheduler",
           "swa_utils"]
