# ruff: noqa: E501  (catalog of answer sources: long lines stay as a student would write them)
"""velocity_to_x0_eps: bugs the hidden tests must fail, and correct answers they must accept."""

FUNCTION = "velocity_to_x0_eps"


def _variant(
    x0="(ds * x_t - s * v) / det",
    eps="(a * v - da * x_t) / det",
    det="a * ds - s * da",
    shape="(-1,) + (1,) * (x_t.dim() - 1)",
    cast="c.to(x_t.dtype)",
):
    return f"""
def velocity_to_x0_eps(v, x_t, alpha, sigma, d_alpha, d_sigma):
    shape = {shape}
    a, s, da, ds = ({cast}.view(shape) for c in (alpha, sigma, d_alpha, d_sigma))
    det = {det}
    return {x0}, {eps}
"""


BUGS = {
    "determinant_ignored": _variant(det="1"),
    "linear_path_formulas": _variant(x0="x_t - s * v", eps="x_t + a * v"),
    "determinant_sign_flipped": _variant(det="s * da - a * ds"),
    "outputs_swapped": _variant(x0="(a * v - da * x_t) / det", eps="(ds * x_t - s * v) / det"),
    "coefficients_along_last_axis": _variant(shape="(-1,)"),
    "two_dimensional_data_only": _variant(shape="(-1, 1)"),
    "hard_coded_float32": _variant(cast="c.float()"),
    "derivatives_swapped": _variant(det="a * da - s * ds"),
}

CORRECT = {
    "eps_from_x0": """
def velocity_to_x0_eps(v, x_t, alpha, sigma, d_alpha, d_sigma):
    shape = [-1] + [1] * (x_t.dim() - 1)
    a, s = alpha.reshape(shape).to(x_t), sigma.reshape(shape).to(x_t)
    da, ds = d_alpha.reshape(shape).to(x_t), d_sigma.reshape(shape).to(x_t)
    x0 = (ds * x_t - s * v) / (a * ds - s * da)
    return x0, (x_t - a * x0) / s
""",
    "two_by_two_solve_per_sample": """
def velocity_to_x0_eps(v, x_t, alpha, sigma, d_alpha, d_sigma):
    x0s, epss = [], []
    for i in range(x_t.shape[0]):
        m = torch.stack([torch.stack([alpha[i], sigma[i]]), torch.stack([d_alpha[i], d_sigma[i]])]).to(x_t.dtype)
        rhs = torch.stack([x_t[i].reshape(-1), v[i].reshape(-1)])
        sol = torch.linalg.solve(m, rhs)
        x0s.append(sol[0].reshape(x_t[i].shape))
        epss.append(sol[1].reshape(x_t[i].shape))
    return torch.stack(x0s), torch.stack(epss)
""",
}

WEAKNESS = {
    "x_t_overwritten_in_place": (
        "c",
        """
def velocity_to_x0_eps(v, x_t, alpha, sigma, d_alpha, d_sigma):
    shape = (-1,) + (1,) * (x_t.dim() - 1)
    a, s, da, ds = (c.to(x_t.dtype).view(shape) for c in (alpha, sigma, d_alpha, d_sigma))
    det = a * ds - s * da
    eps = (a * v - da * x_t) / det
    return x_t.mul_(ds).sub_(s * v).div_(det), eps
""",
    ),
    "batch_of_one_squeezed": (
        "e",
        """
def velocity_to_x0_eps(v, x_t, alpha, sigma, d_alpha, d_sigma):
    shape = (-1,) + (1,) * (x_t.dim() - 1)
    a, s, da, ds = (c.to(x_t.dtype).view(shape) for c in (alpha, sigma, d_alpha, d_sigma))
    det = a * ds - s * da
    return ((ds * x_t - s * v) / det).squeeze(0), ((a * v - da * x_t) / det).squeeze(0)
""",
    ),
}
BUGS.update({name: source for name, (_cls, source) in WEAKNESS.items()})
