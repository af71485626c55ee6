"""The demos' data: scikit-learn's 8×8 digits through ``chainrule.datasets``, split once."""
from __future__ import annotations

import functools

import numpy as np


@functools.lru_cache(maxsize=None)
def _digits_arrays():
    from ..cli._compat import train_test_split
    from ..cli.factories import load_data
    d = load_data("digits")
    X = d.X / np.float32(16.0)                     # (N, 1, 8, 8) in [0, 1]
    idx_tr, idx_te = train_test_split(np.arange(len(X)), 0.25, d.y, 0)
    return X[idx_tr], d.y[idx_tr], X[idx_te], d.y[idx_te]


def digits(flat=False):
    """((X_train, y_train), (X_test, y_test)): images (N, 1, 8, 8) in [0, 1], or (N, 64)."""
    Xtr, ytr, Xte, yte = _digits_arrays()
    if flat:
        Xtr, Xte = Xtr.reshape(len(Xtr), -1), Xte.reshape(len(Xte), -1)
    return (Xtr.copy(), ytr.copy()), (Xte.copy(), yte.copy())


def fit_classifier(model, X, y, epochs, lr=1e-3, batch_size=32, seed=0):
    """Train ``model`` with Adam and cross-entropy through ``chainrule.train.Trainer``; return
    the per-epoch history."""
    import chainrule as cr
    from .. import nn, optim
    from ..train import Trainer
    from ..utils.data import DataLoader, TensorDataset
    dl = DataLoader(TensorDataset(cr.from_numpy(np.ascontiguousarray(X)), cr.from_numpy(y)),
                    batch_size=batch_size, shuffle=True,
                    generator=cr.Generator().manual_seed(seed))
    trainer = Trainer(model, nn.CrossEntropyLoss(), optim.Adam(model.parameters(), lr=lr),
                      progress=False)
    return trainer.fit(dl, epochs=epochs)


def accuracy(model, X, y) -> float:
    """Share of ``X`` that ``model`` classifies as ``y`` (eval mode, no graph)."""
    import chainrule as cr
    model.eval()
    with cr.no_grad():
        pred = model(cr.from_numpy(np.ascontiguousarray(X))).numpy().argmax(axis=1)
    model.train()
    return float(np.mean(pred == y))
