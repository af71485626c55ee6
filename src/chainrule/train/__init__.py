"""The training loop (``cr.train``): :class:`Trainer`, callbacks and checkpoints.

The deck's three steps — forward pass, backward pass, weight update — run by
:meth:`Trainer.fit` over mini-batches and epochs, with validation and metrics, LR schedules,
early stopping, gradient clipping and monitoring (vanishing / exploding gradients), NaN/Inf
detection, and atomic, pickle-free checkpoints from which a run resumes bit-identically.
"""
from .callbacks import (Callback, EarlyStopping, GradientClipping, GradientMonitor,
                        LearningRateScheduler, ModelCheckpoint)
from .checkpoint import load_checkpoint, save_checkpoint
from .trainer import NonFiniteError, Trainer

__all__ = ["Trainer", "NonFiniteError", "Callback", "EarlyStopping", "ModelCheckpoint",
           "LearningRateScheduler", "GradientClipping", "GradientMonitor", "save_checkpoint",
           "load_checkpoint"]
