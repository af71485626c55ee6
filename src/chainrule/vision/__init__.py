"""Classic image processing on chainrule: true convolution, correlation and edge filters.

Everything runs through ``nn.functional.conv2d``, so it is differentiable and batched.

``chainrule.vision.datasets``, ``.transforms``, ``.models`` and ``.utils`` are torchvision's
interface for what a course and pytorch/examples need (MNIST, FashionMNIST, CIFAR10, FakeData,
ImageFolder; Compose, ToTensor, ToPILImage, Normalize, Pad, RandomCrop, RandomResizedCrop,
RandomHorizontalFlip, RandomRotation, Resize, CenterCrop, Lambda; resnet18 … resnet152;
make_grid, save_image), so a script ports by replacing ``torchvision`` with ``chainrule.vision``.
"""
from . import datasets, filters, models, transforms, utils
from .convolution import convolve2d, correlate2d
from .filters import (LAPLACIAN_4, LAPLACIAN_8, SOBEL_X, SOBEL_Y, edges, gaussian_blur,
                      gradient_direction, gradient_magnitude, laplacian, sobel)
