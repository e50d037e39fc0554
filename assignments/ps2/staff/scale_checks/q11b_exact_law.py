# Scale check of ddim_sample (q11b): the law of its samples (eta = 1, 50 leading steps of a
# 1000-step linear schedule), with the exact noise predictor of Gaussian data, against the law
# the DDIM recursion gives, computed in closed form.
# _P (the profile's settings) is bound in front of this code by grade-all: n samples, the
# z limit, the noise seed. See assignments/ps2/staff/scale_checks.yml.
# ruff: noqa: F821 (_P and the student's ddim_sample are the grader's names)
import math

import torch

_mu = torch.tensor([1.5, -0.5], dtype=torch.float64)
_s2 = torch.tensor([0.25, 1.44], dtype=torch.float64)
_T, _steps, _eta = 1000, 50, 1.0
_ab = torch.cumprod(1 - torch.linspace(1e-4, 0.02, _T, dtype=torch.float64), 0)


class _Exact(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.unused = torch.nn.Parameter(torch.zeros(1))

    def forward(self, x, t, labels=None):
        _a = _ab[t].reshape(-1, 1)
        return ((1 - _a).sqrt() * (x - _a.sqrt() * _mu) / (_a * _s2 + 1 - _a)).to(x.dtype)


# With this predictor every DDIM step is affine in x plus independent Gaussian noise, so each
# coordinate of the output is exactly Gaussian; its mean and variance follow step by step
# from x_T ~ N(0, 1) along the leading grid 980, 960, ..., 0, then to abar = 1.
_grid = [k * (_T // _steps) for k in range(_steps - 1, -1, -1)] + [-1]
_m = torch.zeros(2, dtype=torch.float64)
_v = torch.ones(2, dtype=torch.float64)
for _t, _tp in zip(_grid[:-1], _grid[1:], strict=True):
    _a = _ab[_t]
    _ap = _ab[_tp] if _tp >= 0 else torch.tensor(1.0, dtype=torch.float64)
    _r = (1 - _a) / (_a * _s2 + 1 - _a)  # eps = _r (x - sqrt(abar) mu) / sqrt(1 - abar)
    _sig = _eta * ((1 - _ap) / (1 - _a) * (1 - _a / _ap)).sqrt()
    _d = (1 - _ap - _sig**2).clamp(min=0).sqrt() / (1 - _a).sqrt()
    _gain = _ap.sqrt() * (1 - _r) / _a.sqrt() + _d * _r
    _m = _gain * _m + (_ap.sqrt() - _d * _a.sqrt()) * _r * _mu
    _v = _gain**2 * _v + _sig**2
_n = _P["n"]
_g = torch.Generator().manual_seed(_P["seed"])
_x = ddim_sample(_Exact(), (_n, 2), _ab, _steps, _g, eta=_eta)
assert isinstance(_x, torch.Tensor) and _x.shape == (_n, 2), "samples must have shape (n, 2)"
assert bool(torch.isfinite(_x).all()), "the samples contain NaN or inf"
_x = _x.double()
# standardised errors: N(0, 1) for a correct sampler
_z_mean = ((_x.mean(0) - _m) / (_v / _n).sqrt()).abs().max().item()
_z_sd = ((_x.std(0) / _v.sqrt() - 1) * math.sqrt(2 * _n)).abs().max().item()
_off = (_x.std(0) / _v.sqrt() - 1).abs().max().item()
assert _z_mean < _P["z"], (
    f"over {_n} samples (eta = 1) with the exact noise predictor of Gaussian data, the sample "
    f"mean is {_z_mean:.1f} standard errors from what DDIM gives: check the grid of timesteps, "
    "the final step to abar = 1 and the step's mean"
)
assert _z_sd < _P["z"], (
    f"over {_n} samples (eta = 1) with the exact noise predictor of Gaussian data, the spread "
    f"of the samples is {_off:.1%} off what DDIM gives ({_z_sd:.1f} standard errors): check "
    "sigma (both square-root factors), the direction term and the final step"
)
