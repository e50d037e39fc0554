# Scale check of ddpm_sample (q10): the law of its samples, with the exact noise predictor of
# Gaussian data, against the law DDPM's recursion gives, computed in closed form.
# _P (the profile's settings) is bound in front of this code by grade-all: n samples, the
# z limit, the noise seed. See assignments/ps1/staff/scale_checks.yml.
# ruff: noqa: F821 (_P and the student's ddpm_sample are the grader's names)
import math

import torch

_mu = torch.tensor([1.5, -0.5], dtype=torch.float64)
_s2 = torch.tensor([0.25, 1.44], dtype=torch.float64)
_T = 250
_ab = torch.cumprod(1 - torch.linspace(0.0004, 0.08, _T, dtype=torch.float64), 0)


class _Exact(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.unused = torch.nn.Parameter(torch.zeros(1))

    def forward(self, x, t, labels=None):
        _a = _ab[t].reshape(-1, 1)
        return (1 - _a).sqrt() * (x - _a.sqrt() * _mu) / (_a * _s2 + 1 - _a)


# With this predictor every DDPM step is affine in x plus independent Gaussian noise, so each
# coordinate of x_0 is exactly Gaussian; its mean and variance follow step by step from
# x_{T-1} ~ N(0, 1) (DDPM's own law at T = 250 steps, which is not quite N(mu, s2)).
_m = torch.zeros(2, dtype=torch.float64)
_v = torch.ones(2, dtype=torch.float64)
for _t in range(_T - 1, -1, -1):
    _a = _ab[_t]
    _ap = _ab[_t - 1] if _t > 0 else torch.tensor(1.0, dtype=torch.float64)
    _beta = 1 - _a / _ap
    _k = _beta / (_a * _s2 + 1 - _a)  # mean: ((1 - _k) x + _k sqrt(abar) mu) / sqrt(alpha)
    _gain = (1 - _k) / (1 - _beta).sqrt()
    _m = _gain * _m + _k * _a.sqrt() * _mu / (1 - _beta).sqrt()
    _v = _gain**2 * _v + (_beta * (1 - _ap) / (1 - _a) if _t > 0 else 0.0)
_n = _P["n"]
_g = torch.Generator().manual_seed(_P["seed"])
_x = ddpm_sample(_Exact(), (_n, 2), _ab, _g, dtype=torch.float64)
assert isinstance(_x, torch.Tensor) and _x.shape == (_n, 2), "samples must have shape (n, 2)"
assert bool(torch.isfinite(_x).all()), "the samples contain NaN or inf"
# standardised errors: N(0, 1) for a correct sampler (the sample mean exactly, the sample
# standard deviation of n Gaussian draws to within O(1/n))
_z_mean = ((_x.mean(0) - _m) / (_v / _n).sqrt()).abs().max().item()
_z_sd = ((_x.std(0) / _v.sqrt() - 1) * math.sqrt(2 * _n)).abs().max().item()
_off = (_x.std(0) / _v.sqrt() - 1).abs().max().item()
assert _z_mean < _P["z"], (
    f"over {_n} samples with the exact noise predictor of Gaussian data, the sample mean is "
    f"{_z_mean:.1f} standard errors from what DDPM gives: check the mean of each step and "
    "which timestep the model and the schedule are read at"
)
assert _z_sd < _P["z"], (
    f"over {_n} samples with the exact noise predictor of Gaussian data, the spread of the "
    f"samples is {_off:.1%} off what DDPM gives ({_z_sd:.1f} standard errors): check the "
    "noise scale of each step (the posterior standard deviation) and which timestep each step uses"
)
