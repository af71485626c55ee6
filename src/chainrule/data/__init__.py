"""The deck's "represent data" and "select data" steps: splits, cross-validation folds,
feature scaling and one-hot encoding. Fit scalers on the training split only, then apply
them to validation and test data, so no information leaks from the held-out sets."""
from .encoding import one_hot
from .folds import KFold, StratifiedKFold
from .scaling import MinMaxScaler, StandardScaler
from .splitting import train_test_split, train_val_test_split

__all__ = ["train_test_split", "train_val_test_split", "KFold", "StratifiedKFold",
           "StandardScaler", "MinMaxScaler", "one_hot"]
