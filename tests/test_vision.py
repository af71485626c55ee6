"""chainrule.vision: true convolution and correlation against scipy.signal (all three modes),
the deck's filters against scipy.ndimage on a real photograph (scikit-image's ``camera``) in
every boundary mode, gradients of the filters against torch and finite differences."""
import itertools

import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from scipy import ndimage, signal
from skimage import data

import chainrule as cr
from chainrule import vision as v

RNG = np.random.default_rng(2)
MODES = ["reflect", "mirror", "nearest", "wrap", "constant"]


def _x(*shape):
    return RNG.standard_normal(shape)


@pytest.fixture(scope="module")
def photo():
    """The 512×512 cameraman photo, every 4th pixel (128×128), scaled to [0, 1]."""
    return data.camera()[::4, ::4].astype(np.float64) / 255.0


# --------------------------------------------------------------------------- convolve / correlate
@pytest.mark.parametrize("mode", ["full", "same", "valid"])
@pytest.mark.parametrize("kshape", [(3, 3), (2, 4), (5, 1), (4, 4), (1, 1)], ids=str)
def test_convolve_and_correlate_vs_scipy_signal(mode, kshape):
    image, kernel = _x(7, 9), _x(*kshape)
    np.testing.assert_allclose(v.convolve2d(image, kernel, mode).numpy(),
                               signal.convolve2d(image, kernel, mode), atol=1e-12)
    np.testing.assert_allclose(v.correlate2d(image, kernel, mode).numpy(),
                               signal.correlate2d(image, kernel, mode), atol=1e-12)


def test_convolve2d_on_the_photo_and_the_flip(photo):
    kernel = _x(5, 4)
    for mode in ("full", "same", "valid"):
        np.testing.assert_allclose(v.convolve2d(photo, kernel, mode).numpy(),
                                   signal.convolve2d(photo, kernel, mode), atol=1e-10)
    # a true convolution of an impulse stamps the kernel; correlation stamps it rotated by 180°
    impulse = np.zeros((5, 5))
    impulse[2, 2] = 1
    k = _x(3, 3)
    np.testing.assert_allclose(v.convolve2d(impulse, k, "same").numpy()[1:4, 1:4], k)
    np.testing.assert_allclose(v.correlate2d(impulse, k, "same").numpy()[1:4, 1:4], k[::-1, ::-1])
    # convolving = correlating with the flipped kernel = conv2d with the flipped kernel
    np.testing.assert_allclose(v.convolve2d(photo, k, "valid").numpy(),
                               cr.nn.functional.conv2d(cr.tensor(photo[None, None]),
                                                       cr.tensor(k[::-1, ::-1].copy()[None, None]))[0, 0].numpy(),
                               atol=1e-12)


@pytest.mark.parametrize("mode", ["full", "same", "valid"])
def test_convolve2d_gradients_by_finite_differences(mode):
    image, kernel = _x(5, 6), _x(3, 2)
    it, kt = cr.tensor(image, requires_grad=True), cr.tensor(kernel, requires_grad=True)
    out = v.convolve2d(it, kt, mode)
    w = _x(*out.shape)
    (out * cr.tensor(w)).sum().backward()
    for arr, grad, which in ((image, it.grad, 0), (kernel, kt.grad, 1)):
        num = np.zeros_like(arr)
        for idx in itertools.product(*map(range, arr.shape)):
            d = np.zeros_like(arr)
            d[idx] = 1e-6
            args_p = [image + d, kernel] if which == 0 else [image, kernel + d]
            args_m = [image - d, kernel] if which == 0 else [image, kernel - d]
            num[idx] = ((signal.convolve2d(*args_p, mode) - signal.convolve2d(*args_m, mode)) * w).sum() / 2e-6
        np.testing.assert_allclose(grad.numpy(), num, rtol=1e-6, atol=1e-8)


# --------------------------------------------------------------------------- filters vs ndimage
@pytest.mark.parametrize("mode", MODES)
def test_filters_vs_scipy_ndimage_on_the_photo(photo, mode):
    np.testing.assert_allclose(v.sobel(photo, -1, mode).numpy(), ndimage.sobel(photo, axis=1, mode=mode), atol=1e-12)
    np.testing.assert_allclose(v.sobel(photo, -2, mode).numpy(), ndimage.sobel(photo, axis=0, mode=mode), atol=1e-12)
    np.testing.assert_allclose(v.laplacian(photo, 4, mode).numpy(), ndimage.laplace(photo, mode=mode), atol=1e-12)
    np.testing.assert_allclose(v.laplacian(photo, 8, mode).numpy(),
                               ndimage.correlate(photo, np.array(v.LAPLACIAN_8.tolist()), mode=mode), atol=1e-12)
    for sigma in (0.8, 1.7, 3.0):
        np.testing.assert_allclose(v.gaussian_blur(photo, sigma, mode=mode).numpy(),
                                   ndimage.gaussian_filter(photo, sigma, mode=mode), atol=1e-12)
    gx, gy = ndimage.sobel(photo, 1, mode=mode), ndimage.sobel(photo, 0, mode=mode)
    np.testing.assert_allclose(v.gradient_magnitude(photo, mode).numpy(), np.hypot(gx, gy), atol=1e-12)
    # the direction is compared where there is an edge to point (on flat patches G_x, G_y are ±1e-17
    # rounding noise whose angle is arbitrary), as an angle: ±π are the same direction
    edge = np.hypot(gx, gy) > 1e-9
    diff = v.gradient_direction(photo, mode).numpy()[edge] - np.arctan2(gy, gx)[edge]
    np.testing.assert_allclose(np.angle(np.exp(1j * diff)), 0, atol=1e-9)
    assert v.edges(photo, 1.0, mode).tolist() == (np.hypot(gx, gy) > 1.0).tolist()


def test_filter_kernels_are_the_decks():
    # the deck's G_x, G_y and its two Laplacian kernels, entry for entry
    assert v.SOBEL_X.tolist() == [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]]
    assert v.SOBEL_Y.tolist() == [[-1, -2, -1], [0, 0, 0], [1, 2, 1]]
    assert v.LAPLACIAN_4.tolist() == [[0, 1, 0], [1, -4, 1], [0, 1, 0]]
    assert v.LAPLACIAN_8.tolist() == [[1, 1, 1], [1, -8, 1], [1, 1, 1]]


def test_filters_accept_batches_channels_uint8_and_tensors(photo):
    batch = _x(2, 3, 10, 12)
    for fn in (lambda a: v.sobel(a, -1), lambda a: v.laplacian(a, 8), lambda a: v.gaussian_blur(a, 1.2),
               v.gradient_magnitude):
        out = fn(batch).numpy()
        assert out.shape == batch.shape
        np.testing.assert_allclose(out[1, 2], fn(batch[1, 2]).numpy(), atol=1e-12)     # per channel
        np.testing.assert_allclose(fn(cr.tensor(batch[0])).numpy(), out[0], atol=1e-12)  # (C, H, W) tensor
    camera = data.camera()[::8, ::8]                                                    # uint8
    np.testing.assert_allclose(v.sobel(camera).numpy(), ndimage.sobel(camera.astype(np.float32), 1), rtol=1e-5)
    assert v.sobel(camera).dtype == cr.float32
    # axis counts in the input's own shape: (C, H, W) -> 2 is x, 1 is y
    np.testing.assert_allclose(v.sobel(batch[0], 1).numpy(), v.sobel(batch[0], -2).numpy())
    step = np.zeros((8, 8))
    step[:, 4:] = 1.0            # a vertical edge: G_x responds, G_y does not
    assert np.abs(v.sobel(step, -1).numpy()).max() == 4 and np.abs(v.sobel(step, -2).numpy()).max() == 0
    assert v.edges(step, 1.0).numpy()[:, 3:5].all() and not v.edges(step, 1.0).numpy()[:, :3].any()
    ramp = np.add.outer(np.arange(8.0), 2 * np.arange(8.0))
    assert np.abs(v.laplacian(ramp).numpy()[1:-1, 1:-1]).max() < 1e-12   # zero on linear ramps


# torch padding equivalents for a 3×3 kernel (one pixel of padding)
TORCH_PAD = {"reflect": "replicate", "mirror": "reflect", "wrap": "circular", "constant": "constant"}


@pytest.mark.parametrize("mode", list(TORCH_PAD))
def test_filter_gradients_vs_torch(mode):
    x = _x(2, 1, 7, 9)

    def torch_filter(t, kernel):
        padded = TF.pad(t, (1, 1, 1, 1), mode=TORCH_PAD[mode])
        return TF.conv2d(padded, torch.tensor(np.array(kernel.tolist()))[None, None])
    pairs = [(lambda a: v.sobel(a, -1, mode), lambda t: torch_filter(t, v.SOBEL_X)),
             (lambda a: v.laplacian(a, 8, mode), lambda t: torch_filter(t, v.LAPLACIAN_8))]
    if mode != "mirror":   # mirror padding makes |G| ≡ 0 at the corners, where √· has no derivative
        pairs.append((lambda a: v.gradient_magnitude(a, mode),
                      lambda t: (torch_filter(t, v.SOBEL_X) ** 2 + torch_filter(t, v.SOBEL_Y) ** 2).sqrt()))
    for mine, ref in pairs:
        xc, xt = cr.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        oc, ot = mine(xc), ref(xt)
        np.testing.assert_allclose(oc.detach().numpy(), ot.detach().numpy(), atol=1e-12)
        w = _x(*x.shape)
        (oc * cr.tensor(w)).sum().backward()
        (ot * torch.tensor(w)).sum().backward()
        np.testing.assert_allclose(xc.grad.numpy(), xt.grad.numpy(), atol=1e-10)


def test_gaussian_blur_gradient_by_finite_differences():
    x = _x(6, 5)
    xc = cr.tensor(x, requires_grad=True)
    out = v.gaussian_blur(xc, 0.9)
    w = _x(*x.shape)
    (out * cr.tensor(w)).sum().backward()
    num = np.zeros_like(x)
    for idx in itertools.product(*map(range, x.shape)):
        d = np.zeros_like(x)
        d[idx] = 1e-6
        num[idx] = ((ndimage.gaussian_filter(x + d, 0.9) - ndimage.gaussian_filter(x - d, 0.9)) * w).sum() / 2e-6
    np.testing.assert_allclose(xc.grad.numpy(), num, rtol=1e-6, atol=1e-8)


def test_vision_errors():
    with pytest.raises(ValueError, match="convolve2d: mode must be one of"):
        v.convolve2d(_x(4, 4), _x(2, 2), "circular")
    with pytest.raises(ValueError, match=r"correlate2d: expected a 2-D image \(H, W\)"):
        v.correlate2d(_x(1, 4, 4), _x(2, 2))
    with pytest.raises(ValueError, match="neighbours must be 4 or 8"):
        v.laplacian(_x(4, 4), 6)
    with pytest.raises(ValueError, match="sobel: mode must be one of"):
        v.sobel(_x(4, 4), -1, "zeros")
    with pytest.raises(ValueError, match=r"expected an image \(H, W\), \(C, H, W\) or \(N, C, H, W\)"):
        v.laplacian(_x(4), 4)
    with pytest.raises(ValueError, match="sobel: axis must be one of the two image axes"):
        v.sobel(_x(2, 4, 4), 0)
    with pytest.raises(ValueError, match="sigma must be positive"):
        v.gaussian_blur(_x(4, 4), 0.0)
