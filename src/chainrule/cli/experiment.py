"""``chainrule run EXPERIMENT.toml``: the seed's machine-learning flow as a file.

1. define the task        [task]       classification or regression, and the target
2. represent the data     [data]       the data set; scaling, one-hot columns, basis functions
3. select the data        [selection]  test / validation split, stratification, k-fold CV
4. select the metrics     [metrics]
5. develop the model      [model], [training]

The file is validated completely before anything runs (:mod:`chainrule.cli.schema` has the
schema and the error messages), the memory the model would need included, and so is ``--out``.
With ``--out``, config.json is written first and the final model's history and checkpoints
(last and best) after every epoch, so an interrupted or diverged run leaves its last complete
epoch behind. A model named ``pkg.module:factory`` in the file is code: it runs only with
``--trust-model-code``. Every fitted step of the representation (scaler, one-hot
categories) is fitted on the training part only, inside each cross-validation fold too. For
regression the networks train on the target standardized with the training rows' mean and
standard deviation; predictions and metrics are on the target's own scale.
"""
from __future__ import annotations

import os
import sys
import time

import numpy as np

from ..backends import cpu
from . import factories, limits, schema
from .estimators import estimator_scores
from .runs import write_json
from .train import (_MSE, in_launched_rank, launch_ranks, loader, parse_batch_size, ranks,
                    split_batch, standardized, target_scale)


def add_parser(sub):
    p = sub.add_parser("run", help="run an experiment file (the seed's ML flow as TOML)",
                       description="Validate and run an experiment file: [task], [data], "
                       "[selection], [metrics], [model], [training]. `chainrule examples` lists the "
                       "shipped ones, which run by name (chainrule run iris_mlp); the "
                       "schema is in chainrule.cli.schema.")
    p.add_argument("experiment", metavar="EXPERIMENT.toml",
                   help="a file, or the name of a shipped example (`chainrule examples`)")
    p.add_argument("--out", metavar="DIR", help="also write config.json (first), the final "
                   "model's history.json and checkpoints (every epoch) and results.json here")
    p.add_argument("--overwrite", action="store_true",
                   help="replace the results already in --out (default: refuse)")
    p.add_argument("--epochs", type=limits.flag("epochs"),
                   help="override [training] epochs (e.g. for a quick try)")
    p.add_argument("--check", action="store_true", help="only validate the file")
    p.add_argument("--max-memory", type=limits.parse_size, default=limits.DEFAULT_MAX_MEMORY,
                   metavar="SIZE", help="refuse models estimated to need more memory "
                   f"(default: {limits.format_size(limits.DEFAULT_MAX_MEMORY)})")
    p.add_argument("--trust-model-code", action="store_true",
                   help="allow [model] name = 'pkg.module:factory' to import and run that code")
    p.add_argument("--quiet", action="store_true", help="no progress output")
    p.add_argument("--nproc", type=int, default=1, metavar="N",
                   help="train data-parallel on N ranks under MPI; [training] batch_size stays "
                   "the global batch, split N ways (default: 1)")
    p.set_defaults(func=main)
    return p


# ---------------------------------------------------------------------------- representation
class Representation:
    """The [data] representation steps, fitted on training rows: one-hot columns, then
    scaling, then (for models that take it as a fixed transform) the basis functions."""

    def __init__(self, cfg_data, image: bool, scale: float):
        self.cfg, self.image, self.scale = cfg_data, image, scale

    def fit(self, X):
        from . import _compat
        X = X / self.scale
        if self.image:
            return self
        cols = self.cfg["one_hot"]
        for c in cols:
            if c >= X.shape[1]:
                raise schema.ExperimentError(
                    f"[data] one_hot column {c} does not exist; the data set has {X.shape[1]} "
                    f"feature columns (0 … {X.shape[1] - 1})")
        self.categories = {c: np.unique(X[:, c]) for c in cols}
        Z = self._one_hot(X)
        self.scaler = None
        if self.cfg["scaling"] != "none":
            self.scaler = _compat.scaler(self.cfg["scaling"]).fit(Z)
        return self

    def _one_hot(self, X):
        cols = self.cfg["one_hot"]
        if not cols:
            return X
        keep = [j for j in range(X.shape[1]) if j not in cols]
        parts = [X[:, keep]]
        for c in cols:   # a category never seen in training maps to all zeros
            parts.append((X[:, c:c + 1] == self.categories[c][None, :]).astype(np.float32))
        return np.concatenate(parts, axis=1)

    def __call__(self, X):
        X = (X / self.scale).astype(np.float32)
        if self.image:
            return X
        Z = self._one_hot(X)
        if self.scaler is not None:
            Z = self.scaler.transform(Z)
            Z = Z.numpy() if hasattr(Z, "numpy") else np.asarray(Z)
        return Z.astype(np.float32)


def basis_module(cfg_data, Z, trainable: bool, seed: int = 0):
    """φ(x; θ₂) of [data] basis for the training features Z (n, d), as a module of
    chainrule.models, or None. RBF centres start at randomly chosen training rows and their
    widths at the median distance between rows: N(0, 1) centres of width 1 sit far from the
    data in more than a few dimensions, where every φ_k(x) ≈ 0 and nothing can be learned."""
    from .. import models
    kind, in_features = cfg_data["basis"], Z.shape[1]
    if kind == "polynomial":
        return models.PolynomialFeatures(cfg_data["basis_degree"])
    if kind == "rbf":
        rbf = models.RBF(in_features, cfg_data["basis_size"], trainable=trainable)
        rng = np.random.default_rng(seed)
        rows = Z[rng.choice(len(Z), size=cfg_data["basis_size"], replace=len(Z) < cfg_data["basis_size"])]
        sample = Z[rng.choice(len(Z), size=min(len(Z), 200), replace=False)]
        d = np.sqrt(((sample[:, None] - sample[None]) ** 2).sum(-1))
        width = float(np.median(d[d > 0])) if np.any(d > 0) else 1.0
        import chainrule as cr
        with cr.no_grad():
            rbf.centers.copy_(cr.tensor(rows.astype(np.float32)))
            rbf.log_widths.fill_(float(np.log(width)))
        return rbf
    if kind == "fourier":
        return models.FourierFeatures(in_features, cfg_data["basis_size"], trainable=trainable)
    return None


def _out_features(module, in_features: int) -> int:
    import chainrule as cr
    with cr.no_grad():
        return int(module(cr.zeros(2, in_features)).shape[-1])


# ---------------------------------------------------------------------------- model
def fit_and_score(cfg, data, Xtr, ytr, Xval=None, yval=None, quiet=True, out_dir=None):
    """Fit the [model] with [training] on (Xtr, ytr) — raw rows — and return a function
    X ↦ scores (class scores (N, C), or predictions (N,)). ``out_dir``: write the history and
    the checkpoints (last, best) there after every epoch."""
    import chainrule as cr
    from .. import nn
    from ..train import Trainer
    rep = Representation(cfg["data"], image=data.image_shape is not None and cfg["model"][
        "name"] in ("lenet5", "resnet20"), scale=data.scale).fit(Xtr)
    Ztr = rep(Xtr)
    mcfg, tcfg = cfg["model"], cfg["training"]
    regression = cfg["task"]["type"] == "regression"
    n_out = 1 if regression else len(data.classes)
    estimator = mcfg["name"] in ("glm", "perceptron")
    flat = Ztr.reshape(len(Ztr), -1) if not rep.image else Ztr
    in_shape = tuple(flat.shape[1:])
    basis = None
    if not rep.image and cfg["data"]["basis"] != "none":
        basis = basis_module(cfg["data"], flat, trainable=not estimator,
                             seed=cfg["selection"]["seed"])
        in_shape = (_out_features(basis, flat.shape[1]),)
    if estimator:
        def features(X):
            Z = rep(X).reshape(len(X), -1)
            if basis is None:
                return cr.from_numpy(np.ascontiguousarray(Z))
            with cr.no_grad():
                return basis(cr.from_numpy(np.ascontiguousarray(Z))).detach()
        model = factories.build_model(mcfg["name"], in_shape, n_out, family=mcfg["family"])
        model.fit(features(Xtr), cr.from_numpy(ytr))
        return lambda X: estimator_scores(model, features(X), not regression)
    if regression:   # train on the standardized target (training rows), report on its scale
        scale = target_scale(ytr)
        y_mean, y_std = scale
        ytr = standardized(ytr, scale)
        if yval is not None:
            yval = standardized(yval, scale)
    core = factories.build_model(mcfg["name"], in_shape, n_out, hidden=mcfg["hidden"],
                                 activation=mcfg["activation"])
    model = nn.Sequential(nn.Flatten(), basis, core) if basis is not None else core
    opt = factories.make_optimizer(tcfg["optimizer"], model.parameters(), tcfg["lr"],
                                   tcfg["weight_decay"])
    loss = _MSE() if regression else nn.CrossEntropyLoss()
    bs = split_batch(parse_batch_size(tcfg["batch_size"]), len(Ztr), "[training] batch_size")
    seed = cfg["selection"]["seed"]
    val = loader(rep(Xval), yval, 512, shuffle=False) if Xval is not None and len(Xval) else None
    callbacks = []
    if out_dir is not None and ranks()[0] != 0:     # rank 0 writes (Trainer: checkpoints)
        from ..train.callbacks import ModelCheckpoint
        callbacks = [ModelCheckpoint(os.path.join(out_dir, "checkpoint.npz")),
                     ModelCheckpoint(os.path.join(out_dir, "best.npz"),
                                     monitor="val_loss" if val is not None else "loss",
                                     save_best_only=True)]
    elif out_dir is not None:
        from ..train.callbacks import ModelCheckpoint
        from .runs import RunFiles
        callbacks = [ModelCheckpoint(os.path.join(out_dir, "checkpoint.npz")),
                     ModelCheckpoint(os.path.join(out_dir, "best.npz"),
                                     monitor="val_loss" if val is not None else "loss",
                                     save_best_only=True),
                     RunFiles(out_dir)]
    trainer = Trainer(model, loss, opt, callbacks=callbacks, progress=False if quiet else None)
    trainer.fit(loader(Ztr, ytr, bs, shuffle=True, seed=seed), val, epochs=tcfg["epochs"])

    def scores(X):
        out = trainer.predict(loader(rep(X), np.zeros(len(X), dtype=ytr.dtype), 512,
                                     shuffle=False)).numpy()
        return out.reshape(-1) * y_std + y_mean if regression else out
    return scores


# ---------------------------------------------------------------------------- metrics
def compute_metrics(cfg, y, scores) -> dict:
    from ._compat import metric
    avg = cfg["metrics"]["average"]
    out = {}
    if cfg["task"]["type"] == "regression":
        fns = {"mse": "mean_squared_error", "mae": "mean_absolute_error", "r2": "r2_score"}
        for name in cfg["metrics"]["names"]:
            out[name] = float(metric(fns[name])(y, scores))
        return out
    if scores.ndim == 2:
        pred = scores.argmax(axis=1)
        if np.all(scores >= 0) and np.allclose(scores.sum(axis=1), 1, atol=1e-4):
            probs = scores
        else:
            z = np.exp(scores - scores.max(axis=1, keepdims=True))
            probs = z / z.sum(axis=1, keepdims=True)
    else:
        pred, probs = scores.astype(np.int64), None
    n_classes = probs.shape[1] if probs is not None else int(max(y.max(), pred.max()) + 1)
    for name in cfg["metrics"]["names"]:
        if name == "accuracy":
            out[name] = float(metric("accuracy")(y, pred))
        elif name in ("precision", "recall", "f1"):
            out[f"{name}_{avg}"] = float(metric(name)(y, pred, average=avg))
        elif name in ("roc_auc", "log_loss"):
            if probs is None:
                raise schema.ExperimentError(
                    f"[metrics] names: {name!r} needs class probabilities, which model "
                    f"{cfg['model']['name']!r} does not give; allowed: accuracy, precision, "
                    "recall, f1")
            if name == "log_loss":
                out[name] = float(metric("log_loss")(y, probs, labels=list(range(n_classes))))
            elif n_classes == 2:
                out[name] = float(metric("roc_auc")(y, probs[:, 1]))
            else:
                out[name] = float(metric("roc_auc")(y, probs, multi_class="ovr"))
    return out


# ---------------------------------------------------------------------------- the flow
def select(cfg, data):
    """Index arrays (train, val, test) of [selection]."""
    from ._compat import train_test_split
    sel = cfg["selection"]
    idx = np.arange(len(data.X))
    if data.X_test is not None:
        test = None
    else:
        idx, test = train_test_split(idx, sel["test_size"],
                                     data.y if sel["stratify"] else None, sel["seed"])
    val = np.array([], dtype=np.int64)
    if sel["val_size"] > 0:
        frac = sel["val_size"] / (1 - (sel["test_size"] if test is not None else 0))
        idx, val = train_test_split(idx, frac, data.y[idx] if sel["stratify"] else None,
                                    sel["seed"] + 1)
    return np.asarray(idx), np.asarray(val), test


def run_experiment(cfg: dict, quiet: bool = True, out_dir: str | None = None) -> dict:
    """Run a validated experiment configuration; return the results (metrics per fold, mean
    and std of the cross-validation, and the test metrics of the model fitted on all training
    rows)."""
    import chainrule as cr
    from ._compat import kfold
    t0 = time.perf_counter()
    cr.manual_seed(cfg["selection"]["seed"])
    data = factories.load_data(cfg["data"]["dataset"], cfg["data"]["data_dir"])
    train, val, test = select(cfg, data)
    X, y = data.X, data.y
    Xte, yte = (X[test], y[test]) if test is not None else (data.X_test, data.y_test)
    results = {"dataset": data.name, "task": cfg["task"]["type"],
               "target": cfg["task"]["target"] or ("class" if data.task == "classification"
                                                   else "target"),
               "n_train": int(len(train)), "n_val": int(len(val)), "n_test": int(len(Xte))}
    k = cfg["selection"]["k_fold"]
    if k:
        sel = cfg["selection"]
        folder = kfold(k, sel["stratify"], sel["seed"])
        folds = []
        for i, (a, b) in enumerate(folder.split(X[train], y[train])):
            fa, fb = train[np.asarray(a)], train[np.asarray(b)]
            score = fit_and_score(cfg, data, X[fa], y[fa], quiet=True)
            folds.append(compute_metrics(cfg, y[fb], score(X[fb])))
            if not quiet and ranks()[0] == 0:
                print(f"fold {i + 1}/{k}: " + ", ".join(f"{m} {v:.4f}" for m, v in folds[-1].items()))
        results["folds"] = folds
        results["cv_mean"] = {m: float(np.mean([f[m] for f in folds])) for m in folds[0]}
        results["cv_std"] = {m: float(np.std([f[m] for f in folds])) for m in folds[0]}
    score = fit_and_score(cfg, data, X[train], y[train],
                          X[val] if len(val) else None, y[val] if len(val) else None, quiet=quiet,
                          out_dir=out_dir)
    results["test"] = compute_metrics(cfg, yte, score(Xte))
    results["seconds"] = round(time.perf_counter() - t0, 2)
    return results


def format_results(path, results) -> str:
    lines = [f"{path}: {results['task']} of {results['target']!r} on {results['dataset']} "
             f"({results['n_train']} train / {results['n_val']} val / {results['n_test']} test)"]
    names = list(results["test"])
    width = max(len(n) for n in names)
    head = f"{'metric':<{width}}  {'test':>9}"
    if "cv_mean" in results:
        head += f"  {str(len(results['folds'])) + '-fold CV (mean ± std)':>28}"
    lines += [head, "-" * len(head)]
    for n in names:
        row = f"{n:<{width}}  {results['test'][n]:>9.4f}"
        if "cv_mean" in results:
            row += f"  {results['cv_mean'][n]:>19.4f} ± {results['cv_std'][n]:.4f}"
        lines.append(row)
    return "\n".join(lines)


def _experiment_file(arg: str) -> str:
    """A path as given; a name that is no file but a shipped example (``iris_mlp``): its path."""
    import difflib

    from .. import examples
    from . import CLIError
    if os.path.exists(arg) or os.sep in arg or "/" in arg:
        return arg
    path = examples.experiment_path(arg)
    if path is None:
        names = examples.experiments()
        close = difflib.get_close_matches(arg.removesuffix(".toml"), names, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise CLIError(f"{arg}: no such file, nor a shipped example ({', '.join(names)}){hint}")
    return path


def main(args) -> int:
    """``chainrule run``: validate the file (every problem at once) and --out, run the flow,
    print the results table and write results.json."""
    from ..train import NonFiniteError
    from . import CLIError
    from .paths import prepare_output_dir
    args.experiment = _experiment_file(args.experiment)
    in_rank = in_launched_rank(args)
    try:
        cfg = schema.load(args.experiment, args.max_memory)
    except schema.ExperimentError as e:
        raise CLIError(str(e)) from None
    if args.epochs is not None:
        cfg["training"]["epochs"] = args.epochs
    name = cfg["model"]["name"]
    if factories.is_factory_name(name):
        if not args.trust_model_code:
            raise CLIError(f"{args.experiment}: [model] name = {name!r} is Python code (a "
                           "factory that would be imported and run); pass --trust-model-code "
                           "if you trust the file and that module")
        try:
            factories.load_factory(name)
        except ValueError as e:
            raise CLIError(f"{args.experiment}: [model] {e}") from None
    if args.check:
        print(f"{args.experiment}: valid")
        return 0
    if args.nproc > 1 and not in_rank:
        if cfg["model"]["name"] in ("glm", "perceptron"):
            raise CLIError(f"--nproc {args.nproc}: [model] {cfg['model']['name']} is not "
                           "trained by gradient steps; drop --nproc")
        if args.out:
            prepare_output_dir(args.out, "--out", args.overwrite)
        return launch_ranks(args.nproc, list(getattr(args, "argv", None) or sys.argv[1:]),
                            parse_batch_size(cfg["training"]["batch_size"]),
                            "[training] batch_size")
    rank0 = ranks()[0] == 0
    if args.out and not in_rank:
        prepare_output_dir(args.out, "--out", args.overwrite)
    if args.out and rank0:
        write_json(os.path.join(args.out, "config.json"), cfg)
    try:
        with cpu.tuned():   # the CPU settings of backends.cpu while the command runs
            results = run_experiment(cfg, quiet=args.quiet, out_dir=args.out)
    except NonFiniteError as e:
        kept = f"; {args.out} keeps the last finite epoch" if args.out else ""
        raise CLIError(f"training diverged: {e}{kept}. Lower [training] lr or weight_decay, "
                       "or try another optimizer") from None
    except (schema.ExperimentError, ValueError) as e:   # ValueError: e.g. data files missing
        raise CLIError(str(e)) from None
    except ImportError as e:
        raise CLIError(str(e)) from None
    if not rank0:
        return 0
    print(format_results(args.experiment, results))
    if args.out:
        write_json(os.path.join(args.out, "results.json"), results)
    return 0
