"""chainrule.metrics against sklearn.metrics on random cases and edge cases: a class never
predicted, a class never true, a single class, string labels, sample weights, ties in scores,
zero_division; plus the errors on bad input."""
import warnings

import numpy as np
import pytest

import chainrule as cr
from chainrule import metrics as M

S = pytest.importorskip("sklearn.metrics")


def quiet(fn, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*args, **kwargs)


def label_cases():
    """(name, y_true, y_pred, sample_weight) covering the edge cases."""
    r = np.random.default_rng(0)
    t = r.integers(0, 4, 60)
    p = r.integers(0, 4, 60)
    w = r.random(60) * 2
    yield "multiclass", t, p, None
    yield "weighted samples", t, p, w
    yield "class 3 never predicted", t, np.where(p == 3, 0, p), None
    yield "class 5 only predicted", t, np.where(p == 2, 5, p), None
    yield "binary", r.integers(0, 2, 40), r.integers(0, 2, 40), None
    yield "binary never predicts 1", r.integers(0, 2, 30), np.zeros(30, np.int64), None
    yield "single class", np.ones(10, np.int64), np.ones(10, np.int64), None
    yield "strings", r.choice(["cat", "dog", "eel"], 50), r.choice(["cat", "dog", "eel"], 50), None
    yield "binary -1/1", r.choice([-1, 1], 30), r.choice([-1, 1], 30), r.integers(0, 3, 30)


CASES = list(label_cases())
IDS = [c[0] for c in CASES]


def as_tensor_or_array(a, i):
    """Alternate the input kinds: tensors, arrays and lists."""
    if a.dtype.kind in "U":
        return a.tolist() if i % 2 else a
    return [cr.tensor, np.asarray, list][i % 3](a if i % 3 != 2 else a.tolist())


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_accuracy_and_confusion_matrix(case):
    _, t, p, w = case
    for i in range(3):
        tt, pp = as_tensor_or_array(t, i), as_tensor_or_array(p, i + 1)
        assert M.accuracy(tt, pp, sample_weight=w) == pytest.approx(S.accuracy_score(t, p, sample_weight=w))
        assert M.accuracy(tt, pp, normalize=False, sample_weight=w) == pytest.approx(
            S.accuracy_score(t, p, normalize=False, sample_weight=w))
    np.testing.assert_allclose(M.confusion_matrix(t, p, sample_weight=w),
                               quiet(S.confusion_matrix, t, p, sample_weight=w))
    assert M.confusion_matrix(t, p).dtype == np.int64
    for norm in ("true", "pred", "all"):
        np.testing.assert_allclose(M.confusion_matrix(t, p, normalize=norm, sample_weight=w),
                                   quiet(S.confusion_matrix, t, p, normalize=norm, sample_weight=w))
    labels = np.unique(t)[::-1][:2]                     # a subset, in reverse order
    np.testing.assert_array_equal(M.confusion_matrix(t, p, labels=labels),
                                  quiet(S.confusion_matrix, t, p, labels=labels))


@pytest.mark.parametrize("case", CASES, ids=IDS)
@pytest.mark.parametrize("average", ["binary", "micro", "macro", "weighted", None])
@pytest.mark.parametrize("zero_division", [0.0, 1.0, np.nan])
def test_precision_recall_f1_fbeta_vs_sklearn(case, average, zero_division):
    _, t, p, w = case
    present = np.unique(np.concatenate([t, p]))
    pos = present[-1].item() if average == "binary" else 1
    kw = dict(average=average, sample_weight=w, zero_division=zero_division)
    if average == "binary":
        kw["pos_label"] = pos
        if len(present) > 2:
            with pytest.raises(ValueError, match="average='binary'"):
                M.f1(t, p, **kw)
            return
    pairs = [(M.precision, S.precision_score), (M.recall, S.recall_score), (M.f1, S.f1_score)]
    for mine, ref in pairs:
        np.testing.assert_allclose(quiet(mine, cr.tensor(t) if t.dtype.kind != "U" else t, p, **kw),
                                   quiet(ref, t, p, **kw), equal_nan=True)
    for beta in (0.5, 2.0):
        np.testing.assert_allclose(quiet(M.fbeta, t, p, beta, **kw),
                                   quiet(S.fbeta_score, t, p, beta=beta, **kw), equal_nan=True)
    if average in (None, "macro", "weighted"):
        absent = np.array(["zzz"]) if t.dtype.kind == "U" else np.array([99])
        labels = np.concatenate([np.unique(present[[0, -1]]), absent])   # a class with no samples
        kw.pop("pos_label", None)
        np.testing.assert_allclose(quiet(M.f1, t, p, labels=labels, **kw),
                                   quiet(S.f1_score, t, p, labels=labels, **kw), equal_nan=True)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_precision_recall_fscore_support_and_report_vs_sklearn(case):
    _, t, p, w = case
    mine = quiet(M.precision_recall_fscore_support, t, p, sample_weight=w, zero_division=0)
    ref = quiet(S.precision_recall_fscore_support, t, p, sample_weight=w, zero_division=0)
    for a, b in zip(mine, ref):
        np.testing.assert_allclose(a, b)
    w = None if w is None else np.round(w * 3)       # whole weights: supports print exactly
    for digits in (2, 4):
        assert quiet(M.classification_report, t, p, sample_weight=w, digits=digits) == \
            quiet(S.classification_report, t, p, sample_weight=w, digits=digits)
    labels = np.unique(t)[:2]             # leaves classes out: a micro average, not accuracy
    names = [f"class {v}" for v in labels]
    assert quiet(M.classification_report, t, p, labels=labels, target_names=names) == \
        quiet(S.classification_report, t, p, labels=labels, target_names=names)
    mine_d = quiet(M.classification_report, t, p, output_dict=True, zero_division=1)
    ref_d = quiet(S.classification_report, t, p, output_dict=True, zero_division=1)
    assert mine_d.keys() == ref_d.keys()
    for key in ref_d:
        if isinstance(ref_d[key], dict):
            assert mine_d[key] == pytest.approx(ref_d[key])
        else:
            assert mine_d[key] == pytest.approx(ref_d[key])


def test_zero_division_warns_only_when_asked():
    t, p = np.array([0, 0, 1, 1]), np.array([0, 0, 0, 0])        # class 1 never predicted
    with pytest.warns(M.UndefinedMetricWarning, match="Precision is ill-defined"):
        assert M.precision(t, p) == 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert M.precision(t, p, zero_division=1) == 1.0
        assert np.isnan(M.precision(t, p, zero_division=np.nan))
        assert M.recall(t, p) == 0.0                               # recall is defined here
    assert M.recall(t, p, pos_label=0) == S.recall_score(t, p, pos_label=0) == 1.0
    with pytest.warns(UserWarning, match="pos_label=0 is ignored"):
        M.f1(t, p, average="macro", pos_label=0, zero_division=0)


def test_top_k_accuracy_vs_sklearn_with_ties_and_weights():
    r = np.random.default_rng(1)
    t = r.integers(0, 5, 80)
    s = r.integers(0, 3, (80, 5)).astype(float)          # many tied scores
    w = r.random(80)
    for k in (1, 2, 3, 4):
        for sw in (None, w):
            assert M.top_k_accuracy(cr.tensor(t), cr.tensor(s), k=k, sample_weight=sw) == pytest.approx(
                S.top_k_accuracy_score(t, s, k=k, sample_weight=sw))
        assert M.top_k_accuracy(t, s, k=k, normalize=False) == S.top_k_accuracy_score(t, s, k=k, normalize=False)
    # a class absent from y_true: columns are the class indices 0..C-1 (sklearn needs labels=)
    t4 = np.where(t == 4, 0, t)
    assert M.top_k_accuracy(t4, s, k=2) == S.top_k_accuracy_score(t4, s, k=2, labels=range(5))
    strings = np.array(list("abcde"))[t]
    assert M.top_k_accuracy(strings, s, k=2) == S.top_k_accuracy_score(strings, s, k=2)
    tb, sb = r.integers(0, 2, 50), r.random(50)          # binary, scores of the positive class
    assert M.top_k_accuracy(tb, sb, k=1) == S.top_k_accuracy_score(tb, sb, k=1)
    assert M.top_k_accuracy(tb, sb * 4 - 2, k=1) == S.top_k_accuracy_score(tb, sb * 4 - 2, k=1)
    with pytest.warns(M.UndefinedMetricWarning, match="meaningless"):
        assert M.top_k_accuracy(t, s, k=5) == 1.0
    with pytest.raises(ValueError, match=r"top_k_accuracy: expected y_score of shape \(80,\) or "
                                         r"\(80, n_classes\) for 80 samples, got \(79, 5\)"):
        M.top_k_accuracy(t, s[:-1])
    with pytest.raises(ValueError, match="y_true contains labels not in labels"):
        M.top_k_accuracy(t, s, labels=[0, 1, 2, 3, 7])
    with pytest.raises(ValueError, match="labels must be sorted"):
        M.top_k_accuracy(t, s, labels=[4, 3, 2, 1, 0])


def test_roc_auc_binary_vs_sklearn_with_ties_and_weights():
    r = np.random.default_rng(2)
    for trial in range(20):
        n = int(r.integers(5, 60))
        t = r.integers(0, 2, n)
        t[:2] = [0, 1]
        s = np.round(r.standard_normal(n), int(r.integers(0, 2)))    # 0 or 1 decimals: ties
        w = r.random(n) if trial % 2 else None
        assert M.roc_auc(cr.tensor(t), cr.tensor(s), sample_weight=w) == pytest.approx(
            S.roc_auc_score(t, s, sample_weight=w), abs=1e-12)
    t = np.array(["no", "yes", "yes", "no", "yes"])                  # the greater label is positive
    s = np.array([0.1, 0.7, 0.3, 0.3, 0.9])
    assert M.roc_auc(t, s) == S.roc_auc_score(t, s)
    assert M.roc_auc([0, 0, 1, 1], [0.5, 0.5, 0.5, 0.5]) == 0.5          # all tied
    assert M.roc_auc([0, 1], [[0.8, 0.2], [0.3, 0.7]]) == 1.0            # (n, 2): second column
    with pytest.warns(M.UndefinedMetricWarning, match="only one class"):
        assert np.isnan(M.roc_auc([1, 1, 1], [0.2, 0.3, 0.4]))
    assert np.isnan(quiet(S.roc_auc_score, [1, 1, 1], [0.2, 0.3, 0.4]))


def test_roc_auc_one_vs_rest_vs_sklearn():
    r = np.random.default_rng(3)
    t = r.integers(0, 4, 120)
    probs = r.dirichlet(np.ones(4), 120)
    probs[:30] = np.round(probs[:30], 1)
    probs[:30] /= probs[:30].sum(1, keepdims=True)                       # ties, still rows of 1
    w = r.random(120)
    for avg in ("macro", "weighted", None):
        for sw in (None, w):
            np.testing.assert_allclose(
                M.roc_auc(t, cr.tensor(probs), average=avg, sample_weight=sw),
                S.roc_auc_score(t, probs, multi_class="ovr", average=avg, sample_weight=sw))
    t3 = np.where(t == 3, 0, t)                                          # class 3 absent
    for avg in ("macro", "weighted"):
        mine = quiet(M.roc_auc, t3, probs, average=avg, labels=[0, 1, 2, 3])
        ref = quiet(S.roc_auc_score, t3, probs, multi_class="ovr", average=avg, labels=[0, 1, 2, 3])
        np.testing.assert_allclose(mine, ref, equal_nan=True)
    with pytest.raises(ValueError, match="rows sum to 1 .*softmax"):
        M.roc_auc(t, probs * 3)
    with pytest.raises(ValueError, match="y_true has 3 classes but y_score has 4 columns"):
        M.roc_auc(t3, probs)
    with pytest.raises(ValueError, match="y_true has 4 classes but y_score has shape"):
        M.roc_auc(t, probs[:, 0])
    with pytest.raises(ValueError, match="only multi_class='ovr'"):
        M.roc_auc(t, probs, multi_class="ovo")


def test_log_loss_vs_sklearn():
    r = np.random.default_rng(4)
    t = r.integers(0, 3, 50)
    probs = r.dirichlet(np.ones(3), 50)
    probs[0] = [1.0, 0.0, 0.0]                                           # log 0 is clipped
    probs[1] = [0.0, 0.0, 1.0]
    w = r.random(50)
    for sw in (None, w):
        for norm in (True, False):
            assert M.log_loss(cr.tensor(t), cr.tensor(probs), sample_weight=sw, normalize=norm) == \
                pytest.approx(S.log_loss(t, probs, sample_weight=sw, normalize=norm))
    p32 = probs.astype(np.float32)                                       # eps of float32
    assert M.log_loss(t, p32) == pytest.approx(S.log_loss(t, p32), rel=1e-6)
    tb, pb = r.integers(0, 2, 30), r.random(30)                          # binary, P(positive)
    assert M.log_loss(tb, pb) == pytest.approx(S.log_loss(tb, pb))
    t_missing = np.where(t == 2, 0, t)                                   # class 2 absent: labels=
    assert M.log_loss(t_missing, probs, labels=[0, 1, 2]) == pytest.approx(
        S.log_loss(t_missing, probs, labels=[0, 1, 2]))
    strings = np.array(["a", "b", "c"])[t]
    assert M.log_loss(strings, probs) == pytest.approx(S.log_loss(strings, probs))
    unnormalised = probs * 0.9
    with pytest.warns(UserWarning, match="do not sum to one"):
        mine = M.log_loss(t, unnormalised)
    assert mine == pytest.approx(quiet(S.log_loss, t, unnormalised))    # clipped, not renormalised
    with pytest.raises(ValueError, match=r"log_loss: y_pred has 3 columns but there are 2 classes"):
        M.log_loss(t_missing, probs)
    with pytest.raises(ValueError, match=r"probabilities in \[0, 1\].*softmax"):
        M.log_loss(t, probs * 4 - 1)
    with pytest.raises(ValueError, match="only the label"):
        M.log_loss([1, 1], [0.2, 0.4])


def test_regression_metrics_vs_sklearn():
    r = np.random.default_rng(5)
    t, p, w = r.standard_normal(40), r.standard_normal(40), r.random(40)
    t2, p2 = r.standard_normal((40, 3)), r.standard_normal((40, 3))
    t2[:, 1] = 2.0                                                       # a constant output
    pairs = [(M.mean_squared_error, S.mean_squared_error), (M.mean_absolute_error, S.mean_absolute_error),
             (M.root_mean_squared_error, S.root_mean_squared_error), (M.r2_score, S.r2_score)]
    for mine, ref in pairs:
        for sw in (None, w):
            assert mine(cr.tensor(t), p, sample_weight=sw) == pytest.approx(ref(t, p, sample_weight=sw))
            for mo in ("raw_values", "uniform_average", [0.2, 0.3, 0.5]):
                np.testing.assert_allclose(mine(t2, cr.tensor(p2), sample_weight=sw, multioutput=mo),
                                           ref(t2, p2, sample_weight=sw, multioutput=mo))
        # a model's (n, 1) output against (n,) targets
        assert mine(t, p[:, None]) == pytest.approx(ref(t, p[:, None]))
    assert M.r2_score(t2, p2, multioutput="variance_weighted") == pytest.approx(
        S.r2_score(t2, p2, multioutput="variance_weighted"))
    for a, b in ([[1.0, 1.0], [1.0, 1.0]], [[1.0, 1.0], [1.0, 2.0]], [[1.0, 2.0], [1.0, 2.0]]):
        assert M.r2_score(a, b) == S.r2_score(a, b)
        np.testing.assert_allclose(M.r2_score(a, b, force_finite=False),
                                   quiet(S.r2_score, a, b, force_finite=False), equal_nan=True)
    with pytest.warns(M.UndefinedMetricWarning, match="fewer than two samples"):
        assert np.isnan(M.r2_score([1.0], [2.0]))


def test_sklearn_names_are_aliases():
    assert M.accuracy_score is M.accuracy and M.f1_score is M.f1 and M.roc_auc_score is M.roc_auc
    assert M.precision_score is M.precision and M.recall_score is M.recall
    assert M.top_k_accuracy_score is M.top_k_accuracy


def test_metric_errors_name_the_function_and_the_shapes():
    with pytest.raises(ValueError, match="accuracy: y_true and y_pred must have the same length, got 3 and 2"):
        M.accuracy([0, 1, 1], [0, 1])
    with pytest.raises(ValueError, match=r"precision: y_pred must be class labels of shape \(2,\), "
                                         r"got scores of shape \(2, 2\); take argmax"):
        M.precision(cr.tensor([0, 1]), cr.tensor([[0.2, 0.8], [0.9, 0.1]]))
    with pytest.raises(ValueError, match="f1: y_pred holds continuous values"):
        M.f1([0, 1], [0.3, 0.9])
    with pytest.raises(ValueError, match=r"confusion_matrix: y_true must be 1-d of shape \(n_samples,\), got shape \(2, 2, 1\)"):
        M.confusion_matrix(np.zeros((2, 2, 1)), [0, 1])
    with pytest.raises(ValueError, match="average must be one of"):
        M.f1([0, 1], [0, 1], average="samples")
    with pytest.raises(ValueError, match="pos_label=2 is not a valid label"):
        M.recall([0, 1], [1, 1], pos_label=2)
    with pytest.raises(ValueError, match="zero_division must be"):
        M.recall([0, 1], [1, 1], zero_division=0.5)
    with pytest.raises(ValueError, match="mix string and number labels"):
        M.accuracy(["a", "b"], [0, 1])
    with pytest.raises(ValueError, match=r"sample_weight must have shape \(2,\), got \(3,\)"):
        M.accuracy([0, 1], [0, 1], sample_weight=[1, 1, 1])
    with pytest.raises(ValueError, match="empty inputs"):
        M.accuracy([], [])
    with pytest.raises(ValueError, match="none of labels"):
        M.confusion_matrix([0, 1], [0, 1], labels=[7])
    with pytest.raises(ValueError, match=r"mean_squared_error: y_true and y_pred must have the same shape, got \(2,\) and \(1,\)"):
        M.mean_squared_error([1.0, 2.0], [1.0])
    with pytest.raises(ValueError, match="multioutput must be one of"):
        M.r2_score([1.0, 2.0], [1.0, 2.0], multioutput="median")
    with pytest.raises(ValueError, match=r"classification_report: 3 classes but 2 target_names"):
        M.classification_report([0, 1, 2], [0, 1, 2], target_names=["a", "b"])
