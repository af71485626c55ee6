"""``chainrule evaluate RUN_DIR [--dataset NAME]``: rebuild a run's model from its folder,
load the checkpoint and measure it on the test split again (the same split: it is rebuilt from
the seed in config.json), or on another data set with the same input shape and classes."""
from __future__ import annotations


import numpy as np

import chainrule as cr

from . import CLIError, factories
from .estimators import estimator_scores, flat_inputs
from .runfolder import TRUST_HINT, load_model, read_config
from .runs import Preprocess
from .train import format_table, input_shape, split_data, test_metrics


def load_run(run_dir: str, trust_model_code: bool = False, which: str = "last"):
    """(config, model with the checkpoint's weights, Preprocess) of a run folder, every file
    checked (:mod:`chainrule.cli.runfolder`); a model that is code (``pkg.module:factory``) is
    only rebuilt with ``trust_model_code``."""
    config = read_config(run_dir)
    model = load_model(run_dir, config, trust_model_code, which)
    return config, model, Preprocess.from_dict(config["preprocess"])


def scores_of(model, X, config, batch=512) -> np.ndarray:
    """Model outputs for preprocessed inputs X (class scores (N, C) or predictions (N,)), on
    the target's own scale for regression."""
    if factories.is_estimator(model):
        return estimator_scores(model, flat_inputs(X), config["task"] == "classification")
    outs = []
    with cr.no_grad():
        for i in range(0, len(X), batch):
            outs.append(model(cr.from_numpy(np.ascontiguousarray(X[i:i + batch]))).numpy())
    out = np.concatenate(outs)
    if "target_scale" in config:
        mean, std = config["target_scale"]
        out = out * std + mean
    return out


def add_parser(sub):
    p = sub.add_parser("evaluate", help="measure a trained run on its test split",
                       description="Rebuild the model of a `chainrule train` run folder, load its "
                       "checkpoint and print its test metrics (the same split, rebuilt from the "
                       "recorded seed).")
    p.add_argument("run_dir", metavar="RUN_DIR")
    p.add_argument("--dataset", choices=factories.TRAIN_DATASETS,
                   help="evaluate on another data set with the same inputs and classes "
                   "(default: the run's own)")
    p.add_argument("--data-dir", metavar="DIR", help="folder with the MNIST / CIFAR-10 files")
    add_model_options(p)
    p.set_defaults(func=main)
    return p


def add_model_options(p) -> None:
    """The options evaluate and predict share: which checkpoint, and whether model code runs."""
    p.add_argument("--checkpoint", choices=("last", "best"), default="last",
                   help="last: the final (or last complete) epoch, checkpoint.npz; best: the "
                   "lowest validation loss, best.npz (default: last)")
    p.add_argument(TRUST_HINT, dest="trust_model_code", action="store_true",
                   help="allow a run folder whose config.json names a model factory "
                   "(pkg.module:function) to import and run that code; without it only the "
                   "built-in models are rebuilt")


def evaluate(run_dir: str, dataset: str | None = None, data_dir: str | None = None,
             trust_model_code: bool = False, which: str = "last") -> dict:
    """The test metrics of a run's checkpoint: on its own test split (rebuilt from the recorded
    seed), or on ``dataset``'s test rows (all rows without a test split) when it names another
    data set with the same input shape."""
    config, model, pre = load_run(run_dir, trust_model_code, which)
    name = dataset or config["dataset"]
    data = factories.load_data(name, data_dir or config.get("data_dir"))
    shape = input_shape(data)
    if list(shape) != list(config["input_shape"]):
        raise CLIError(f"dataset {name!r} has inputs of shape {shape}; the model of {run_dir} "
                       f"takes {tuple(config['input_shape'])}")
    if name == config["dataset"]:
        if config["task"] != data.task or (data.classes is not None and
                                           len(data.classes) != config["num_outputs"]):
            raise CLIError(f"{run_dir}/config.json says task {config['task']!r} with "
                           f"{config['num_outputs']} outputs; dataset {name!r} does not match "
                           "(the run folder is damaged)")
        _, _, test = split_data(data, config["split"]["seed"])
        X, y = (data.X[test], data.y[test]) if test is not None else (data.X_test, data.y_test)
    else:
        X, y = (data.X_test, data.y_test) if data.X_test is not None else (data.X, data.y)
    return test_metrics(config["task"], y, scores_of(model, pre(X), config))


def main(args) -> int:
    """``chainrule evaluate``: print the metrics table; data errors become user errors."""
    try:
        metrics = evaluate(args.run_dir, args.dataset, args.data_dir, args.trust_model_code,
                           args.checkpoint)
    except (ValueError, ImportError) as e:     # e.g. --dataset mnist without its files
        raise CLIError(str(e)) from None
    print(format_table(metrics, title=f"{args.run_dir}: test metrics"))
    return 0
