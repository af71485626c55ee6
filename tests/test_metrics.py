"""cr.metrics against sklearn.metrics, including edge cases."""
import warnings

import numpy as np
import pytest

import chainrule as cr
from chainrule import metrics as M

S = pytest.importorskip("sklearn.metrics")
R = np.random.default_rng(0)


def cases():
    t = R.integers(0, 4, 60)
    p = R.integers(0, 4, 60)
    never = np.where(p == 3, 0, p)           # class 3 never predicted
    return [(t, p), (t, never), (R.integers(0, 2, 40), R.integers(0, 2, 40))]


@pytest.mark.parametrize("i", range(3))
@pytest.mark.parametrize("average", ["micro", "macro", "weighted", None])
def test_precision_recall_f1_vs_sklearn(i, average):
    t, p = cases()[i]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for mine, ref in [(M.precision, S.precision_score), (M.recall, S.recall_score), (M.f1, S.f1_score)]:
            np.testing.assert_allclose(mine(cr.tensor(t), p, average=average, zero_division=0),
                                       ref(t, p, average=average, zero_division=0))


def test_binary_average_pos_label_and_zero_division():
    t, p = np.array([0, 0, 1, 1]), np.array([0, 0, 0, 0])
    for zd in (0.0, 1.0):
        assert M.precision(t, p, zero_division=zd) == S.precision_score(t, p, zero_division=zd)
        assert M.f1(t, p, zero_division=zd) == S.f1_score(t, p, zero_division=zd)
    with pytest.warns(RuntimeWarning, match="ill-defined"):
        M.precision(t, p)
    assert M.recall(t, p, pos_label=0) == S.recall_score(t, p, pos_label=0)
    with pytest.raises(ValueError, match="average='binary' needs 2 classes"):
        M.f1([0, 1, 2], [0, 1, 2])


def test_accuracy_confusion_matrix_report():
    t, p = cases()[1]
    assert M.accuracy(cr.tensor(t), cr.tensor(p)) == S.accuracy_score(t, p)
    assert M.accuracy(t, p, normalize=False) == S.accuracy_score(t, p, normalize=False)
    np.testing.assert_array_equal(M.confusion_matrix(t, p), S.confusion_matrix(t, p))
    np.testing.assert_array_equal(M.confusion_matrix(t, p, labels=[3, 1]), S.confusion_matrix(t, p, labels=[3, 1]))
    for norm in ("true", "pred", "all"):
        np.testing.assert_allclose(M.confusion_matrix(t, p, normalize=norm), S.confusion_matrix(t, p, normalize=norm))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = S.classification_report(t, p, zero_division=0)
    mine = M.classification_report(t, p)
    ref_numbers = [tok for tok in ref.split() if tok[0].isdigit()]
    assert [tok for tok in mine.split() if tok[0].isdigit()] == ref_numbers


def test_top_k_accuracy_with_ties():
    t = R.integers(0, 5, 80)
    s = R.integers(0, 3, (80, 5)).astype(float)    # many ties
    for k in (1, 2, 3):
        assert M.top_k_accuracy(t, s, k=k) == S.top_k_accuracy_score(t, s, k=k, labels=range(5))


def test_roc_auc_binary_and_ovr_with_ties():
    t = R.integers(0, 2, 100)
    s = np.round(R.random(100), 1)                 # ties in scores
    assert M.roc_auc(cr.tensor(t), cr.tensor(s)) == pytest.approx(S.roc_auc_score(t, s))
    tm = R.integers(0, 3, 120)
    probs = R.dirichlet(np.ones(3), 120)
    for avg in ("macro", "weighted"):
        assert M.roc_auc(tm, probs, average=avg) == pytest.approx(
            S.roc_auc_score(tm, probs, multi_class="ovr", average=avg))
    with pytest.raises(ValueError, match="only one class"):
        M.roc_auc([1, 1], [0.2, 0.3])


def test_log_loss():
    t = R.integers(0, 3, 50)
    probs = R.dirichlet(np.ones(3), 50)
    probs[0] = [1.0, 0.0, 0.0]
    assert M.log_loss(t, probs) == pytest.approx(S.log_loss(t, probs))
    tb, pb = R.integers(0, 2, 30), R.random(30)
    assert M.log_loss(tb, pb) == pytest.approx(S.log_loss(tb, pb))


def test_regression_metrics():
    t, p = R.standard_normal(40), R.standard_normal(40)
    assert M.mean_squared_error(t, p) == pytest.approx(S.mean_squared_error(t, p))
    assert M.mean_absolute_error(cr.tensor(t), p) == pytest.approx(S.mean_absolute_error(t, p))
    assert M.r2_score(t, p) == pytest.approx(S.r2_score(t, p))
    t2, p2 = R.standard_normal((40, 3)), R.standard_normal((40, 3))
    assert M.r2_score(t2, p2) == pytest.approx(S.r2_score(t2, p2))
    assert M.r2_score([1.0, 1.0], [1.0, 1.0]) == S.r2_score([1.0, 1.0], [1.0, 1.0])


def test_metric_errors():
    with pytest.raises(ValueError, match="accuracy: y_true and y_pred must have the same length, got 3 and 2"):
        M.accuracy([0, 1, 1], [0, 1])
    with pytest.raises(ValueError, match="take argmax"):
        M.accuracy([0, 1], [[0.2, 0.8], [0.9, 0.1]])
    with pytest.raises(ValueError, match="average must be one of"):
        M.f1([0, 1], [0, 1], average="samples")
    with pytest.raises(ValueError, match="same shape"):
        M.mean_squared_error([1.0, 2.0], [1.0])
