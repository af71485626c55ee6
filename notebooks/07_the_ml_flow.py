# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %%

# %% [markdown]
# # 7 · The machine-learning flow on a real data set
#
# The deck's five steps, on scikit-learn's bundled handwritten digits (no download):
#
# 1. **Define the task** — what goes in, what comes out, what counts as success;
# 2. **Represent the data** — features and their scaling;
# 3. **Select the data** — train / validation / test, without leaks;
# 4. **Select the metrics** — accuracy, per-class F1, the confusion matrix;
# 5. **Develop the model** — a baseline first, then models chosen on the validation split,
#    and the test split used once at the end.

# %%
import matplotlib.pyplot as plt
import numpy as np

import chainrule as cr
from chainrule import data, datasets, metrics, models, nn, optim
from chainrule.train import EarlyStopping, Trainer
from chainrule.utils.data import DataLoader, TensorDataset

cr.manual_seed(0)

# %% [markdown]
# ## 1 · The task
#
# Input: an 8×8 grey-level image of a handwritten digit. Output: its class 0–9. Success: the
# share of unseen digits classified correctly, clearly above what guessing the most frequent
# class achieves.

# %%
X_img, y = datasets.load_digits(images=True)
print("images", tuple(X_img.shape), "labels", tuple(y.shape), "classes", y.unique().tolist())
assert tuple(X_img.shape) == (1797, 1, 8, 8) and y.unique().tolist() == list(range(10))

fig, axes = plt.subplots(1, 10, figsize=(12, 1.6))
for k, ax in enumerate(axes):
    ax.imshow(X_img[(y == k).nonzero()[0, 0], 0].numpy(), cmap="gray_r")
    ax.set_title(str(k)), ax.set_xticks([]), ax.set_yticks([])
plt.show()

# %% [markdown]
# ## 2 · Representing the data
#
# Each image becomes a vector of 64 pixel intensities in [0, 16]; standardised per pixel with
# statistics learned on the **training rows only** (fitting the scaler on everything would leak
# the test set into training).

# %%
X = X_img.reshape(len(X_img), 64)

# %% [markdown]
# ## 3 · Selecting the data
#
# A stratified 70 / 15 / 15 split: every class keeps its share in each part, and the parts are
# disjoint.

# %%
idx = cr.arange(len(y))
X_tr, X_val, X_te, y_tr, y_val, y_te, i_tr, i_val, i_te = data.train_val_test_split(
    X, y, idx, val_size=0.15, test_size=0.15, random_state=0, stratify=y)
print("train / val / test:", len(y_tr), len(y_val), len(y_te))
parts = [set(i.tolist()) for i in (i_tr, i_val, i_te)]
assert sum(map(len, parts)) == len(y) and not (parts[0] & parts[1] or parts[0] & parts[2]
                                                or parts[1] & parts[2])


def share(labels):
    return np.bincount(labels.numpy(), minlength=10) / len(labels)


assert np.abs(share(y_tr) - share(y)).max() < 0.01 and np.abs(share(y_te) - share(y)).max() < 0.02

scaler = data.StandardScaler().fit(X_tr)
Z_tr, Z_val, Z_te = (scaler.transform(a) for a in (X_tr, X_val, X_te))
assert np.allclose(Z_tr.mean(0).numpy(), 0, atol=1e-5)     # centred on the training rows ...
assert abs(float(Z_te.mean())) > 1e-4                      # ... not on the test rows

# %% [markdown]
# ## 4 · Selecting the metrics
#
# Accuracy answers the task's question; macro-averaged F1 weighs every digit equally; the
# confusion matrix shows which digits get mixed up. `chainrule.metrics` follows scikit-learn's
# definitions — checked here on a toy example.

# %%
t, p = [0, 1, 2, 2, 1, 0, 2], [0, 2, 2, 2, 1, 0, 1]
assert metrics.accuracy(t, p) == 5 / 7
assert np.array_equal(metrics.confusion_matrix(t, p), [[2, 0, 0], [0, 1, 1], [0, 1, 2]])
# F1 per class = 2·precision·recall / (precision + recall): class 1 → P = R = 1/2, class 2 → 2/3
assert np.isclose(metrics.f1(t, p, average="macro"), (1 + 1 / 2 + 2 / 3) / 3)

# %% [markdown]
# ## 5 · Developing the model
#
# **Baselines** first: the majority class, and a linear model (softmax regression: an MLP
# with no hidden layer). Then two MLP widths; every candidate is trained with early
# stopping on the validation accuracy; the width with the best **validation** accuracy is
# selected, and only that model meets the test split.

# %%
majority = int(np.bincount(y_tr.numpy()).argmax())
baseline_accuracy = metrics.accuracy(y_val, np.full(len(y_val), majority))
print(f"majority-class baseline: validation accuracy {baseline_accuracy:.3f}")


def fit(hidden, epochs=15):
    cr.manual_seed(0)
    model = models.MLP(64, hidden, 10)
    loader = DataLoader(TensorDataset(Z_tr, y_tr), batch_size=64, shuffle=True,
                        generator=cr.Generator().manual_seed(0))
    val = DataLoader(TensorDataset(Z_val, y_val), batch_size=256)
    trainer = Trainer(model, nn.CrossEntropyLoss(), optim.Adam(model.parameters(), lr=3e-3),
                      metrics=["accuracy"], progress=False,
                      callbacks=[EarlyStopping("val_accuracy", patience=3,
                                               restore_best_weights=True)])
    history = trainer.fit(loader, val, epochs=epochs)
    model.eval()
    with cr.no_grad():
        val_acc = metrics.accuracy(y_val, model(Z_val).argmax(1))
    return model, history, val_acc


candidates = {"linear (no hidden layer)": [], "MLP 16": [16], "MLP 64": [64]}
fits = {name: fit(hidden) for name, hidden in candidates.items()}
for name, (_, h, acc) in fits.items():
    print(f"{name:24s} epochs {len(h['loss']):2d}  validation accuracy {acc:.3f}")
best = max(fits, key=lambda k: fits[k][2])
print("selected on validation:", best)
assert all(acc > baseline_accuracy + 0.5 for _, _, acc in fits.values())

# %% [markdown]
# The test split, once, for the selected model.

# %%
model = fits[best][0]
with cr.no_grad():
    pred = model(Z_te).argmax(1)
test_accuracy = metrics.accuracy(y_te, pred)
macro_f1 = metrics.f1(y_te, pred, average="macro")
cm = metrics.confusion_matrix(y_te, pred)
print(f"test accuracy {test_accuracy:.3f}, macro F1 {macro_f1:.3f}")
print(metrics.classification_report(y_te, pred, digits=3))
assert test_accuracy > 0.93 and macro_f1 > 0.93
assert cm.sum() == len(y_te) and np.trace(cm) == round(test_accuracy * len(y_te))

fig, axes = plt.subplots(1, 2, figsize=(10, 4))
for name, (_, h, _) in fits.items():
    axes[0].plot(h["epoch"], h["val_accuracy"], "o-", ms=3, label=name)
axes[0].set_xlabel("epoch"), axes[0].set_ylabel("validation accuracy"), axes[0].legend(fontsize=8)
axes[1].imshow(cm, cmap="Blues")
for i in range(10):
    for j in range(10):
        if cm[i, j]:
            axes[1].text(j, i, int(cm[i, j]), ha="center", va="center", fontsize=7)
axes[1].set_xlabel("predicted"), axes[1].set_ylabel("true"), axes[1].set_title("test confusion")
plt.show()
