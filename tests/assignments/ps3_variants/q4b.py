# ruff: noqa: E501  (catalog of answer sources: long lines stay as a student would write them)
"""forward_jump: bugs the hidden tests must fail, and correct answers they must accept."""

FUNCTION = "forward_jump"


def _variant(
    ratio, combine="r.sqrt() * x_s + (1 - r).sqrt() * noise", shape="(-1,) + (1,) * (x_s.dim() - 1)"
):
    return f"""
def forward_jump(x_s, s, t, noise, alphas_cumprod):
    r = ({ratio}).to(x_s.dtype).view({shape})
    return {combine}
"""


_OK = "abar_at(alphas_cumprod, t) / abar_at(alphas_cumprod, s)"

BUGS = {
    "abar_t_not_ratio": _variant("abar_at(alphas_cumprod, t)"),
    "abar_s_wraps_at_minus_one": _variant("alphas_cumprod[t] / alphas_cumprod[s]"),
    "missing_sqrt_on_mean": _variant(_OK, combine="r * x_s + (1 - r).sqrt() * noise"),
    "variance_of_abar_t": _variant(
        _OK,
        combine="r.sqrt() * x_s + (1 - abar_at(alphas_cumprod, t).to(x_s.dtype).view(-1, *([1] * (x_s.dim() - 1)))).sqrt() * noise",
    ),
    "off_by_one_product": _variant("abar_at(alphas_cumprod, t) / abar_at(alphas_cumprod, s - 1)"),
    "ratio_inverted": _variant("abar_at(alphas_cumprod, s) / abar_at(alphas_cumprod, t)"),
    "broadcast_along_last_axis": _variant(_OK, shape="-1"),
    "variance_not_std": _variant(_OK, combine="r.sqrt() * x_s + (1 - r) * noise"),
    "hard_coded_float32": _variant(
        _OK, combine="(r.sqrt() * x_s + (1 - r).sqrt() * noise).float()"
    ),
}

CORRECT = {
    "product_of_alphas_loop": """
def forward_jump(x_s, s, t, noise, alphas_cumprod):
    out = torch.empty_like(x_s)
    for i in range(x_s.shape[0]):
        r = torch.ones((), dtype=torch.float64)
        for k in range(int(s[i]) + 1, int(t[i]) + 1):
            prev = alphas_cumprod[k - 1] if k > 0 else torch.ones((), dtype=alphas_cumprod.dtype)
            r = r * alphas_cumprod[k] / prev
        r = r.to(x_s.dtype)
        out[i] = r.sqrt() * x_s[i] + (1 - r).sqrt() * noise[i]
    return out
""",
    "log_space": """
def forward_jump(x_s, s, t, noise, alphas_cumprod):
    la = torch.cat([alphas_cumprod.log(), alphas_cumprod.new_zeros(1)])
    r = torch.exp(la[t] - la[s]).to(x_s.dtype)
    r = r.reshape([-1] + [1] * (x_s.dim() - 1))
    return torch.sqrt(r) * x_s + torch.sqrt(1 - r) * noise
""",
}

# Weakness classes of issue 11 (class letter, source): (a) the joint structure of the injected
# noise, (c) arguments changed in place.
WEAKNESS = {
    "x_s_scaled_in_place": (
        "c",
        """
def forward_jump(x_s, s, t, noise, alphas_cumprod):
    r = (abar_at(alphas_cumprod, t) / abar_at(alphas_cumprod, s)).to(x_s.dtype).view(-1, *([1] * (x_s.dim() - 1)))
    return x_s.mul_(r.sqrt()).add_((1 - r).sqrt() * noise)
""",
    ),
    "noise_rows_in_reverse_order": (
        "a",
        _variant(_OK, combine="r.sqrt() * x_s + (1 - r).sqrt() * noise.flip(0)"),
    ),
}
BUGS.update({name: source for name, (_cls, source) in WEAKNESS.items()})
