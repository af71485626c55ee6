"""Classic image processing on chainrule: true convolution, correlation and edge filters.

Everything runs through ``nn.functional.conv2d``, so it is differentiable and batched.
"""
from . import filters
from .convolution import convolve2d, correlate2d
from .filters import (LAPLACIAN_4, LAPLACIAN_8, SOBEL_X, SOBEL_Y, edges, gaussian_blur,
                      gradient_direction, gradient_magnitude, laplacian, sobel)
