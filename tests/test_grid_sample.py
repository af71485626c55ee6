"""F.grid_sample and F.affine_grid against torch 2.13: values and gradients (input, grid, θ) for
every mode × padding_mode × align_corners in float32 and float64, second derivatives, finite
differences, 3-D, edge values (halves, borders, NaN), errors and warnings, and a small spatial
transformer network trained one step in both libraries from the same weights."""
import itertools
import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import chainrule as cr
import chainrule.nn.functional as F
from oracle import check, check_jvp_fd, finite_difference_check

RNG = np.random.default_rng(7)
MODES = ["bilinear", "nearest", "bicubic"]
PADDINGS = ["zeros", "border", "reflection"]


def _grid(shape, dtype, spread=1.6):
    """Points inside and outside [−1, 1], with the corners, the centre and the edges exactly."""
    g = RNG.uniform(-spread, spread, shape)
    flat = g.reshape(-1, shape[-1])
    specials = [[-1, -1], [1, 1], [-1, 1], [0, 0], [1, -0.5], [-1, 0.25]]
    for i, s in enumerate(specials[:len(flat)]):
        flat[i] = (s * 2)[:shape[-1]]
    return g.astype(dtype)


# ---------------------------------------------------------------------------- 2-D against torch
@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("align", [False, True], ids=["edges", "centres"])
@pytest.mark.parametrize("padding", PADDINGS)
@pytest.mark.parametrize("mode", MODES)
def test_grid_sample_values_and_gradients_match_torch(mode, padding, align, dtype):
    # the input arrives as a transposed (non-contiguous) view; a batch of 2, 3 channels
    x = RNG.standard_normal((2, 3, 6, 5)).astype(dtype)
    g = _grid((2, 4, 7, 2), dtype)

    def cr_fn(x, g):
        return F.grid_sample(x.transpose(2, 3), g, mode, padding, align)

    def torch_fn(x, g):
        return TF.grid_sample(x.transpose(2, 3), g, mode, padding, align)
    # bicubic's float32 grid gradient sums 16 taps × 3 channels of values ~10: a few ulps more
    check(cr_fn, torch_fn, x, g, double=dtype == np.float64,
          scale=10.0 if mode == "bicubic" and dtype == np.float32 else 1.0)


@pytest.mark.parametrize("mode", MODES)
def test_grid_sample_node_and_layout(mode):
    x = cr.randn(2, 3, 4, 5, requires_grad=True)
    g = cr.tensor(_grid((2, 3, 3, 2), np.float32), requires_grad=True)
    y = F.grid_sample(x, g, mode=mode, align_corners=False)
    assert y.grad_fn.name() == "GridSampler2DBackward0"
    ref = TF.grid_sample(torch.randn(2, 3, 4, 5, requires_grad=True),
                         torch.zeros(2, 3, 3, 2, requires_grad=True), mode, align_corners=False)
    assert [n.name() for n, _ in y.grad_fn.next_functions] == \
        [n.name() for n, _ in ref.grad_fn.next_functions]
    assert y.is_contiguous() and y.dtype == cr.float32 and tuple(y.shape) == (2, 3, 3, 3)
    y.sum().backward()
    assert x.grad.is_contiguous() and tuple(x.grad.shape) == (2, 3, 4, 5)
    assert g.grad.dtype == cr.float32
    if mode == "nearest":    # torch: the grid has a zero gradient (not None) in nearest mode
        assert g.grad.abs().sum().item() == 0.0


@pytest.mark.parametrize("padding", PADDINGS)
@pytest.mark.parametrize("mode", ["bilinear", "bicubic"])
def test_grid_gradient_against_finite_differences(mode, padding):
    x = RNG.standard_normal((2, 2, 4, 5))
    g = RNG.uniform(-1.4, 1.4, (2, 3, 2, 2))
    finite_difference_check(lambda x, g: F.grid_sample(x, g, mode, padding, False), x, g)


def test_only_one_input_needs_a_gradient():
    x = RNG.standard_normal((1, 2, 4, 4))
    g = _grid((1, 3, 3, 2), np.float64)
    for wrt in (0, 1):
        cs = [cr.tensor(x, requires_grad=wrt == 0), cr.tensor(g, requires_grad=wrt == 1)]
        ts = [torch.tensor(x, requires_grad=wrt == 0), torch.tensor(g, requires_grad=wrt == 1)]
        F.grid_sample(*cs, align_corners=True).square().sum().backward()
        TF.grid_sample(*ts, align_corners=True).square().sum().backward()
        np.testing.assert_allclose(cs[wrt].grad.numpy(), ts[wrt].grad.numpy(), rtol=1e-12)
        assert cs[1 - wrt].grad is None


def test_forward_mode_against_finite_differences():
    # torch has no forward-mode rule for grid_sampler_2d: central differences are the oracle
    x = RNG.standard_normal((2, 2, 4, 5))
    g = RNG.uniform(-1.3, 1.3, (2, 3, 2, 2))
    for mode in MODES:
        check_jvp_fd(lambda x, g: F.grid_sample(x, g, mode, "reflection", True), x, g)
    x3, g3 = RNG.standard_normal((1, 2, 3, 3, 4)), RNG.uniform(-1.3, 1.3, (1, 2, 2, 2, 3))
    for mode in ("bilinear", "nearest"):
        check_jvp_fd(lambda x, g: F.grid_sample(x, g, mode, "border", False), x3, g3)


def test_non_contiguous_grid():
    # the grid as a permuted view (its last axis not the fastest in memory)
    g = _grid((2, 2, 3, 4), np.float64)      # (N, 2, H_out, W_out) → permute to (N, H, W, 2)
    x = RNG.standard_normal((2, 3, 4, 5))
    check(lambda x, g: F.grid_sample(x, g.permute(0, 2, 3, 1), "bicubic", "border", False),
          lambda x, g: TF.grid_sample(x, g.permute(0, 2, 3, 1), "bicubic", "border", False),
          x, g, double=True)


# ---------------------------------------------------------------------------- edge values
def test_nearest_rounds_halves_to_even_as_torch():
    # W = 5 with align_corners: g = −0.75, −0.25, 0.25, 0.75 land exactly on u = 0.5 … 3.5
    x = np.arange(5.0).reshape(1, 1, 1, 5)
    xs = np.array([-0.75, -0.25, 0.25, 0.75])
    g = np.stack([xs, np.zeros(4)], -1).reshape(1, 1, 4, 2)
    out = F.grid_sample(cr.tensor(x), cr.tensor(g), "nearest", align_corners=True)
    ref = TF.grid_sample(torch.tensor(x), torch.tensor(g), "nearest", align_corners=True)
    assert out.numpy().ravel().tolist() == ref.numpy().ravel().tolist() == [0.0, 2.0, 2.0, 4.0]


@pytest.mark.parametrize("padding", ["border", "reflection"])
def test_points_on_the_border_have_a_zero_grid_gradient(padding):
    # torch counts the border itself as clipped: the coordinate's slope there is 0
    x = RNG.standard_normal((1, 1, 3, 4))
    g = np.array([[[[-1.0, -1.0], [1.0, 0.3], [0.2, 1.0], [-2.5, 0.1]]]])
    gc, gt = cr.tensor(g, requires_grad=True), torch.tensor(g, requires_grad=True)
    F.grid_sample(cr.tensor(x), gc, padding_mode=padding, align_corners=True).sum().backward()
    TF.grid_sample(torch.tensor(x), gt, padding_mode=padding, align_corners=True).sum().backward()
    np.testing.assert_allclose(gc.grad.numpy(), gt.grad.numpy(), rtol=1e-12, atol=1e-15)
    assert gc.grad.numpy()[0, 0, 0].tolist() == [0.0, 0.0]


@pytest.mark.parametrize("padding", PADDINGS)
@pytest.mark.parametrize("mode", MODES)
def test_nan_and_inf_coordinates_as_torch(mode, padding):
    x = np.arange(12.0, dtype=np.float32).reshape(1, 1, 3, 4)
    g = np.array([[[[np.nan, 0.3], [0.2, np.nan], [np.inf, 0.1], [-np.inf, -0.2]]]], np.float32)
    out = F.grid_sample(cr.tensor(x), cr.tensor(g), mode, padding, False).numpy()
    ref = TF.grid_sample(torch.tensor(x), torch.tensor(g), mode, padding, False).numpy()
    np.testing.assert_allclose(out, ref, rtol=1e-6)    # NaN where torch has NaN


def test_inf_in_the_input_is_copied_by_nearest():
    x = np.array([[[[np.inf, 1.0], [2.0, -np.inf]]]])
    g = np.array([[[[-1.0, -1.0], [1.0, 1.0], [1.0, -1.0]]]])
    for align in (False, True):
        out = F.grid_sample(cr.tensor(x), cr.tensor(g), "nearest", align_corners=align).numpy()
        ref = TF.grid_sample(torch.tensor(x), torch.tensor(g), "nearest", align_corners=align)
        np.testing.assert_array_equal(out, ref.numpy())


@pytest.mark.parametrize("shape, gshape", [((0, 2, 3, 3), (0, 2, 2, 2)),
                                           ((2, 0, 3, 3), (2, 2, 2, 2)),
                                           ((2, 2, 3, 3), (2, 0, 4, 2)),
                                           ((1, 2, 1, 1), (1, 2, 3, 2))], ids=str)
def test_empty_and_single_pixel_shapes(shape, gshape):
    x, g = RNG.standard_normal(shape), _grid(gshape, np.float64)
    for mode, padding, align in itertools.product(MODES, PADDINGS, (False, True)):
        check(lambda x, g: F.grid_sample(x, g, mode, padding, align),
              lambda x, g: TF.grid_sample(x, g, mode, padding, align), x, g)


def test_channels_last_input():
    x = torch.randn(2, 3, 4, 5).to(memory_format=torch.channels_last)
    g = torch.tensor(_grid((2, 3, 3, 2), np.float32))
    xc = cr.tensor(x.numpy()).contiguous(memory_format=cr.channels_last)
    out = F.grid_sample(xc, cr.tensor(g.numpy()), align_corners=False)
    np.testing.assert_allclose(out.numpy(), TF.grid_sample(x, g, align_corners=False).numpy(),
                               rtol=1e-5, atol=1e-6)


# ---------------------------------------------------------------------------- 3-D
@pytest.mark.parametrize("align", [False, True], ids=["edges", "centres"])
@pytest.mark.parametrize("padding", PADDINGS)
@pytest.mark.parametrize("mode", ["bilinear", "nearest"])
def test_grid_sample_3d_matches_torch(mode, padding, align):
    x = RNG.standard_normal((2, 2, 3, 4, 5))
    g = _grid((2, 2, 3, 2, 3), np.float64)
    check(lambda x, g: F.grid_sample(x, g, mode, padding, align),
          lambda x, g: TF.grid_sample(x, g, mode, padding, align), x, g, double=True)
    y = F.grid_sample(cr.tensor(x, requires_grad=True), cr.tensor(g), mode, padding, align)
    assert y.grad_fn.name() == "GridSampler3DBackward0"


# ---------------------------------------------------------------------------- affine_grid
@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("align", [False, True], ids=["edges", "centres"])
@pytest.mark.parametrize("size", [(2, 3, 4, 5), (2, 1, 1, 6), (2, 3, 7, 1), (2, 1, 3, 4, 5),
                                  (2, 2, 1, 3, 2)], ids=str)
def test_affine_grid_matches_torch(size, align, dtype):
    theta = RNG.standard_normal((2, 2, 3) if len(size) == 4 else (2, 3, 4)).astype(dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")     # unit sizes with align_corners warn (both libraries)
        check(lambda t: F.affine_grid(t, size, align),
              lambda t: TF.affine_grid(t, size, align), theta, double=dtype == np.float64)
        y = F.affine_grid(cr.tensor(theta, requires_grad=True), size, align)
    assert y.grad_fn.name() == "AffineGridGeneratorBackward0"


def test_affine_grid_is_bit_identical_to_torch():
    # an identity θ puts the points exactly on pixel centres: a grid an ulp off moves a sample
    # into the neighbouring cell, which changes the grid gradient (torch's linspace: one fused
    # multiply-add per element, from both ends)
    for dtype, align in itertools.product((np.float32, np.float64), (False, True)):
        theta = np.array([[[1.0, 0, 0], [0, 1.0, 0]]], dtype)
        for n in list(range(2, 40)) + [97, 161, 224, 1000]:
            mine = F.affine_grid(cr.tensor(theta), (1, 1, n, n + 3), align).numpy()
            theirs = TF.affine_grid(torch.tensor(theta), (1, 1, n, n + 3), align).numpy()
            np.testing.assert_array_equal(mine, theirs, err_msg=f"{dtype} {n} {align}")


def test_affine_grid_identity_then_grid_sample_is_the_identity():
    x = cr.randn(2, 3, 5, 6, dtype=cr.float64)
    theta = cr.tensor([[[1.0, 0, 0], [0, 1.0, 0]]] * 2, dtype=cr.float64)
    for align in (False, True):
        grid = F.affine_grid(theta, (2, 3, 5, 6), align_corners=align)
        out = F.grid_sample(x, grid, align_corners=align)
        np.testing.assert_allclose(out.numpy(), x.numpy(), atol=1e-12)


def test_affine_grid_takes_a_torch_style_size():
    theta = cr.randn(1, 2, 3)
    for size in ([1, 2, 3, 4], cr.Size([1, 2, 3, 4]), cr.randn(1, 2, 3, 4).shape):
        assert tuple(F.affine_grid(theta, size, align_corners=False).shape) == (1, 3, 4, 2)


# ---------------------------------------------------------------------------- errors, warnings
def _same_error(cr_call, torch_call):
    with pytest.raises(Exception) as theirs:
        torch_call()
    with pytest.raises(type(theirs.value)) as mine:
        cr_call()
    expected = str(theirs.value).replace("torch.", "chainrule.")   # a dtype's or Size's name
    assert str(mine.value) == expected, (str(mine.value), expected)


GRID_SAMPLE_ERRORS = [
    ("mode", dict(mode="linear"), (2, 3, 5, 6), (2, 4, 7, 2), None),
    ("padding", dict(padding_mode="wrap"), (2, 3, 5, 6), (2, 4, 7, 2), None),
    ("batch", {}, (1, 3, 5, 6), (2, 4, 7, 2), None),
    ("last_dim", {}, (2, 3, 5, 6), (2, 4, 7, 1), None),
    ("3d_input", {}, (3, 5, 6), (4, 7, 2), None),
    ("empty_spatial", {}, (2, 3, 0, 6), (2, 4, 7, 2), None),
    ("grid_ndim", {}, (2, 3, 5, 6), (2, 4, 7, 1, 2), None),
    ("bicubic_3d", dict(mode="bicubic"), (2, 3, 4, 5, 6), (2, 2, 3, 4, 3), None),
    ("3d_grid_last", {}, (2, 3, 4, 5, 6), (2, 4, 7, 2), None),
    ("dtype", {}, (2, 3, 5, 6), (2, 4, 7, 2), "grid64"),
    ("integer", {}, (2, 3, 5, 6), (2, 4, 7, 2), "int64"),
]


@pytest.mark.parametrize("case", GRID_SAMPLE_ERRORS, ids=[c[0] for c in GRID_SAMPLE_ERRORS])
def test_grid_sample_errors_as_torch(case):
    _, kwargs, xshape, gshape, kind = case
    x, g = np.zeros(xshape, np.float32), np.zeros(gshape, np.float32)
    if kind == "grid64":
        g = g.astype(np.float64)
    if kind == "int64":
        x, g = x.astype(np.int64), g.astype(np.int64)
    _same_error(lambda: F.grid_sample(cr.tensor(x), cr.tensor(g), align_corners=False, **kwargs),
                lambda: TF.grid_sample(torch.tensor(x), torch.tensor(g), align_corners=False,
                                       **kwargs))


AFFINE_ERRORS = [
    ("batch", (2, 2, 3), (3, 3, 4, 5), np.float32),
    ("theta_2d", (2, 3, 4), (2, 3, 4, 5), np.float32),
    ("theta_3d", (2, 2, 3), (2, 3, 4, 5, 6), np.float32),
    ("theta_ndim", (2, 3), (2, 3, 4, 5), np.float32),
    ("size_len", (2, 2, 3), (2, 3, 4), np.float32),
    ("zero_size", (2, 2, 3), (2, 3, 0, 5), np.float32),
    ("integer", (2, 2, 3), (2, 3, 4, 5), np.int64),
]


@pytest.mark.parametrize("case", AFFINE_ERRORS, ids=[c[0] for c in AFFINE_ERRORS])
def test_affine_grid_errors_as_torch(case):
    _, tshape, size, dtype = case
    theta = np.zeros(tshape, dtype)
    _same_error(lambda: F.affine_grid(cr.tensor(theta), size, align_corners=False),
                lambda: TF.affine_grid(torch.tensor(theta), size, align_corners=False))


def test_inputs_must_be_tensors():
    with pytest.raises(TypeError, match="grid_sample: grid must be a Tensor"):
        F.grid_sample(cr.zeros(1, 1, 2, 2), np.zeros((1, 1, 1, 2)), align_corners=False)
    with pytest.raises(TypeError, match="affine_grid: theta must be a Tensor"):
        F.affine_grid(np.zeros((1, 2, 3)), (1, 1, 2, 2), align_corners=False)


def _warnings(call):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        call()
    return [(w.category, str(w.message)) for w in caught]


def test_default_align_corners_warns_as_torch():
    x, g, theta = np.zeros((1, 1, 2, 2), np.float32), np.zeros((1, 1, 1, 2), np.float32), \
        np.eye(2, 3, dtype=np.float32)[None]
    mine = _warnings(lambda: F.grid_sample(cr.tensor(x), cr.tensor(g)))
    theirs = _warnings(lambda: TF.grid_sample(torch.tensor(x), torch.tensor(g)))
    assert mine == theirs and len(mine) == 1 and mine[0][0] is UserWarning
    assert _warnings(lambda: F.affine_grid(cr.tensor(theta), (1, 1, 2, 2))) == \
        _warnings(lambda: TF.affine_grid(torch.tensor(theta), (1, 1, 2, 2))) == mine
    # a unit-size grid with align_corners=True warns too; explicit align_corners does not
    assert _warnings(lambda: F.affine_grid(cr.tensor(theta), (1, 1, 1, 2), True)) == \
        _warnings(lambda: TF.affine_grid(torch.tensor(theta), (1, 1, 1, 2), True))
    assert _warnings(lambda: F.grid_sample(cr.tensor(x), cr.tensor(g), align_corners=True)) == []


# ---------------------------------------------------------------------------- a tiny STN
def _stn(nn, F_):
    """A spatial transformer (the STN tutorial's shape, small): localisation net → θ →
    affine_grid → grid_sample → a linear classifier."""
    class STN(nn.Module):
        def __init__(self):
            super().__init__()
            self.loc = nn.Sequential(nn.Conv2d(1, 4, 3), nn.MaxPool2d(2), nn.ReLU())
            self.fc_loc = nn.Sequential(nn.Linear(4 * 5 * 5, 8), nn.ReLU(), nn.Linear(8, 6))
            self.head = nn.Linear(12 * 12, 3)

        def forward(self, x):
            xs = self.loc(x).reshape(x.shape[0], -1)
            theta = self.fc_loc(xs).reshape(-1, 2, 3)
            grid = F_.affine_grid(theta, x.shape, align_corners=False)
            warped = F_.grid_sample(x, grid, padding_mode="border", align_corners=False)
            return self.head(warped.reshape(x.shape[0], -1)), theta
    return STN()


@pytest.mark.parametrize("exact", [True, False], ids=["identity", "near_identity"])
def test_tiny_spatial_transformer_matches_torch(exact):
    torch.manual_seed(0)
    torch_net, cr_net = _stn(torch.nn, TF), _stn(cr.nn, F)
    weights = {k: v.detach().numpy().copy() for k, v in torch_net.state_dict().items()}
    # θ starts at the identity, as in the tutorial (every sample on a pixel centre), or near it
    weights["fc_loc.2.weight"][:] = 0 if exact else \
        0.05 * RNG.standard_normal(weights["fc_loc.2.weight"].shape)
    weights["fc_loc.2.bias"][:] = [1, 0, 0, 0, 1, 0]
    torch_net.load_state_dict({k: torch.tensor(v) for k, v in weights.items()})
    cr_net.load_state_dict({k: cr.tensor(v) for k, v in weights.items()})
    x = RNG.standard_normal((3, 1, 12, 12)).astype(np.float32)
    y = np.array([0, 2, 1])
    out_t, theta_t = torch_net(torch.tensor(x))
    out_c, theta_c = cr_net(cr.tensor(x))
    np.testing.assert_allclose(theta_c.detach().numpy(), theta_t.detach().numpy(), rtol=1e-5,
                               atol=1e-6)
    loss_t = TF.cross_entropy(out_t, torch.tensor(y))
    loss_c = F.cross_entropy(out_c, cr.tensor(y))
    np.testing.assert_allclose(loss_c.item(), loss_t.item(), rtol=1e-5)
    loss_t.backward()
    loss_c.backward()
    mine = dict(cr_net.named_parameters())
    assert mine.keys() == dict(torch_net.named_parameters()).keys()
    for name, p in torch_net.named_parameters():
        np.testing.assert_allclose(mine[name].grad.numpy(), p.grad.numpy(), rtol=1e-4,
                                   atol=1e-6, err_msg=name)


def test_the_forward_mode_oracle_is_torch_grid_sample():
    # tests/cases_sampling.py's torch side (forward-mode-able torch ops) equals TF.grid_sample
    from cases_sampling import torch_bilinear_zeros
    x, g = torch.randn(2, 3, 4, 5, dtype=torch.float64), torch.tensor(_grid((2, 3, 2, 2), np.float64))
    np.testing.assert_allclose(torch_bilinear_zeros(x, g).numpy(),
                               TF.grid_sample(x, g, align_corners=False).numpy(), atol=1e-14)
