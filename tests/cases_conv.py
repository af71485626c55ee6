"""The conv breadth ops' cases for the shared tables of `ad_cases` (forward mode, gradcheck, node
names): (id, chainrule fn, torch fn, float64 arrays), the form of `ad_cases.NN_CASES`."""
import numpy as np
import torch
import torch.nn.functional as TF

import chainrule as cr
import chainrule.nn.functional as F

R = np.random.default_rng(23)


def a(*shape):
    return R.standard_normal(shape)


# max_unpool's indices: a fixed int64 input, from torch's max_pool on a fixed image
_POOLED, _IDX = TF.max_pool2d(torch.tensor(a(1, 2, 4, 6)), 2, return_indices=True)
_POOLED3, _IDX3 = TF.max_pool3d(torch.tensor(a(1, 1, 4, 2, 4)), 2, return_indices=True)
_IDX_CR, _IDX3_CR = cr.tensor(_IDX.numpy()), cr.tensor(_IDX3.numpy())

CASES = [
    ("conv3d", lambda x, w, b: F.conv3d(x, w, b, stride=(1, 2, 1), padding=1, groups=2),
     lambda x, w, b: TF.conv3d(x, w, b, stride=(1, 2, 1), padding=1, groups=2),
     [a(1, 4, 3, 4, 3), a(2, 2, 2, 2, 2), a(2)]),
    ("conv3d_same_dilated", lambda x, w: F.conv3d(x, w, padding="same", dilation=2),
     lambda x, w: TF.conv3d(x, w, padding="same", dilation=2), [a(1, 2, 4, 3, 4), a(2, 2, 2, 1, 2)]),
    # no output_padding here: torch's own reverse-over-reverse (the oracle of test_forward_ad)
    # fails on it; tests/test_nn_conv_more.py covers output_padding's second derivatives
    ("conv_transpose1d", lambda x, w, b: F.conv_transpose1d(x, w, b, stride=2, padding=1, groups=2),
     lambda x, w, b: TF.conv_transpose1d(x, w, b, stride=2, padding=1, groups=2),
     [a(2, 2, 4), a(2, 3, 3), a(6)]),
    ("conv_transpose3d", lambda x, w, b: F.conv_transpose3d(x, w, b, stride=2, dilation=(1, 2, 1)),
     lambda x, w, b: TF.conv_transpose3d(x, w, b, stride=2, dilation=(1, 2, 1)),
     [a(1, 2, 2, 2, 2), a(2, 2, 2, 2, 2), a(2)]),
    ("max_pool3d", lambda x: F.max_pool3d(x, 2, 1, 1), lambda x: TF.max_pool3d(x, 2, 1, 1),
     [a(1, 2, 3, 4, 3)]),
    ("avg_pool3d", lambda x: F.avg_pool3d(x, 3, 2, 1, count_include_pad=False),
     lambda x: TF.avg_pool3d(x, 3, 2, 1, count_include_pad=False), [a(1, 2, 4, 5, 3)]),
    ("max_pool1d", lambda x: F.max_pool1d(x, 3, 2, 1), lambda x: TF.max_pool1d(x, 3, 2, 1), [a(2, 2, 7)]),
    ("avg_pool1d", lambda x: F.avg_pool1d(x, 2), lambda x: TF.avg_pool1d(x, 2), [a(2, 2, 7)]),
    ("max_unpool2d", lambda x: F.max_unpool2d(x, _IDX_CR, 2), lambda x: TF.max_unpool2d(x, _IDX, 2),
     [_POOLED.numpy().copy()]),
    ("max_unpool3d", lambda x: F.max_unpool3d(x, _IDX3_CR, 2), lambda x: TF.max_unpool3d(x, _IDX3, 2),
     [_POOLED3.numpy().copy()]),
    ("adaptive_avg_pool3d", lambda x: F.adaptive_avg_pool3d(x, (2, 3, 2)),
     lambda x: TF.adaptive_avg_pool3d(x, (2, 3, 2)), [a(1, 2, 3, 5, 4)]),
    ("adaptive_max_pool3d", lambda x: F.adaptive_max_pool3d(x, (2, 3, 2)),
     lambda x: TF.adaptive_max_pool3d(x, (2, 3, 2)), [a(1, 2, 3, 5, 4)]),
    ("adaptive_max_pool1d", lambda x: F.adaptive_max_pool1d(x, 3), lambda x: TF.adaptive_max_pool1d(x, 3),
     [a(2, 2, 7)]),
    ("pixel_shuffle", lambda x: F.pixel_shuffle(x, 2), lambda x: TF.pixel_shuffle(x, 2), [a(1, 8, 2, 3)]),
    ("pixel_unshuffle", lambda x: F.pixel_unshuffle(x, 2), lambda x: TF.pixel_unshuffle(x, 2), [a(1, 2, 4, 6)]),
    ("interpolate_nearest1d", lambda x: F.interpolate(x, scale_factor=1.5),
     lambda x: TF.interpolate(x, scale_factor=1.5), [a(1, 2, 5)]),
    ("interpolate_nearest_exact2d", lambda x: F.interpolate(x, size=(3, 7), mode="nearest-exact"),
     lambda x: TF.interpolate(x, size=(3, 7), mode="nearest-exact"), [a(1, 2, 5, 4)]),
    ("interpolate_nearest3d", lambda x: F.interpolate(x, size=(3, 2, 5)),
     lambda x: TF.interpolate(x, size=(3, 2, 5)), [a(1, 1, 2, 3, 4)]),
    ("interpolate_linear", lambda x: F.interpolate(x, size=7, mode="linear", align_corners=True),
     lambda x: TF.interpolate(x, size=7, mode="linear", align_corners=True), [a(1, 2, 4)]),
    ("interpolate_bilinear", lambda x: F.interpolate(x, scale_factor=0.7, mode="bilinear"),
     lambda x: TF.interpolate(x, scale_factor=0.7, mode="bilinear"), [a(1, 2, 5, 6)]),
    ("interpolate_bicubic", lambda x: F.interpolate(x, size=(6, 4), mode="bicubic"),
     lambda x: TF.interpolate(x, size=(6, 4), mode="bicubic"), [a(1, 2, 4, 5)]),
    ("interpolate_bilinear_aa", lambda x: F.interpolate(x, size=(2, 3), mode="bilinear", antialias=True),
     lambda x: TF.interpolate(x, size=(2, 3), mode="bilinear", antialias=True), [a(1, 2, 5, 7)]),
    ("interpolate_trilinear", lambda x: F.interpolate(x, scale_factor=1.5, mode="trilinear"),
     lambda x: TF.interpolate(x, scale_factor=1.5, mode="trilinear"), [a(1, 1, 2, 3, 2)]),
    ("interpolate_area3d", lambda x: F.interpolate(x, size=(2, 2, 3), mode="area"),
     lambda x: TF.interpolate(x, size=(2, 2, 3), mode="area"), [a(1, 1, 3, 4, 5)]),
    ("pad_reflect_negative", lambda x: F.pad(x, (-1, 2, 1, -1), mode="reflect"),
     lambda x: TF.pad(x, (-1, 2, 1, -1), mode="reflect"), [a(1, 2, 4, 5)]),
    ("pad_circular_negative", lambda x: F.pad(x, (2, -1), mode="circular"),
     lambda x: TF.pad(x, (2, -1), mode="circular"), [a(1, 2, 5)]),
]
