"""Datasets: the small ones scikit-learn ships (no download) and readers for the standard
MNIST, Fashion-MNIST (IDX files) and CIFAR-10 (python batches) formats."""
from .cifar import CIFAR10
from .idx import read_idx
from .mnist import MNIST, FashionMNIST
from .toy import load_breast_cancer, load_diabetes, load_digits, load_iris

__all__ = ["load_digits", "load_iris", "load_breast_cancer", "load_diabetes", "MNIST",
           "FashionMNIST", "CIFAR10", "read_idx"]
