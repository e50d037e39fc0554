# ruff: noqa: E501  (catalog of answer sources: long lines stay as a student would write them)
"""velocity_to_score: bugs the hidden tests must fail, and correct answers they must accept."""

FUNCTION = "velocity_to_score"


def _variant(score="-eps_hat / s", shape="(-1,) + (1,) * (x_t.dim() - 1)"):
    return f"""
def velocity_to_score(v, x_t, alpha, sigma, d_alpha, d_sigma):
    _, eps_hat = velocity_to_x0_eps(v, x_t, alpha, sigma, d_alpha, d_sigma)
    s = sigma.to(x_t.dtype).view({shape})
    return {score}
"""


BUGS = {
    "sign_flipped": _variant(score="eps_hat / s"),
    "sigma_squared": _variant(score="-eps_hat / s**2"),
    "times_sigma": _variant(score="-eps_hat * s"),
    "eps_is_the_score": _variant(score="-eps_hat"),
    "sigma_along_last_axis": _variant(shape="-1"),
    "linear_path_eps": """
def velocity_to_score(v, x_t, alpha, sigma, d_alpha, d_sigma):
    s = sigma.to(x_t.dtype).view((-1,) + (1,) * (x_t.dim() - 1))
    return -(x_t + (1 - s) * v) / s
""",
    "hard_coded_float32": _variant(score="(-eps_hat / s).float()"),
}

CORRECT = {
    "from_x0_hat": """
def velocity_to_score(v, x_t, alpha, sigma, d_alpha, d_sigma):
    x0_hat, _ = velocity_to_x0_eps(v, x_t, alpha, sigma, d_alpha, d_sigma)
    shape = (-1,) + (1,) * (x_t.dim() - 1)
    a, s = alpha.to(x_t.dtype).view(shape), sigma.to(x_t.dtype).view(shape)
    return -(x_t - a * x0_hat) / s**2
""",
    "written_out": """
def velocity_to_score(v, x_t, alpha, sigma, d_alpha, d_sigma):
    shape = [x_t.shape[0]] + [1] * (x_t.dim() - 1)
    a, s, da, ds = (c.reshape(shape).to(x_t) for c in (alpha, sigma, d_alpha, d_sigma))
    return (da * x_t - a * v) / ((a * ds - s * da) * s)
""",
}

WEAKNESS = {
    "sigma_unsqueezed_in_place": (
        "c",
        """
def velocity_to_score(v, x_t, alpha, sigma, d_alpha, d_sigma):
    _, eps_hat = velocity_to_x0_eps(v, x_t, alpha, sigma, d_alpha, d_sigma)
    sigma.unsqueeze_(-1)
    return -eps_hat / sigma.to(x_t.dtype).view((-1,) + (1,) * (x_t.dim() - 1))
""",
    ),
}
BUGS.update({name: source for name, (_cls, source) in WEAKNESS.items()})
