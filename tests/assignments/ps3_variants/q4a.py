# ruff: noqa: E501  (catalog of answer sources: long lines stay as a student would write them)
"""replace_known: bugs the hidden tests must fail, and correct answers they must accept."""

FUNCTION = "replace_known"


def _variant(
    abar_expr,
    noised="ab.sqrt() * y + (1 - ab).sqrt() * noise",
    combine="mask * yn + (1 - mask) * x_prev",
    shape="(-1,) + (1,) * (x_prev.dim() - 1)",
):
    return f"""
def replace_known(x_prev, y, mask, t_prev, noise, alphas_cumprod):
    ab = ({abar_expr}).to(x_prev.dtype).view({shape})
    yn = {noised}
    return {combine}
"""


_OK = "abar_at(alphas_cumprod, t_prev)"

BUGS = {
    "noised_to_t_not_t_prev": _variant("abar_at(alphas_cumprod, t_prev + 1)"),
    "abar_index_wraps_at_minus_one": _variant("alphas_cumprod[t_prev]"),
    "mask_inverted": _variant(_OK, combine="(1 - mask) * yn + mask * x_prev"),
    "no_noise": _variant(_OK, noised="ab.sqrt() * y"),
    "variance_not_std": _variant(_OK, noised="ab.sqrt() * y + (1 - ab) * noise"),
    "missing_sqrt": _variant(_OK, noised="ab * y + (1 - ab) * noise"),
    "broadcast_along_last_axis": _variant(_OK, shape="-1"),
    "unknown_pixels_dropped": _variant(_OK, combine="mask * yn"),
    "hard_coded_float32": _variant(_OK, combine="(mask * yn + (1 - mask) * x_prev).float()"),
    "clean_observation_always": _variant(_OK, noised="y"),
}

CORRECT = {
    "where_and_padded_schedule": """
def replace_known(x_prev, y, mask, t_prev, noise, alphas_cumprod):
    padded = torch.cat([alphas_cumprod, alphas_cumprod.new_ones(1)])
    ab = padded[t_prev].to(x_prev.dtype).reshape(-1, *([1] * (x_prev.dim() - 1)))
    known = ab.sqrt() * y + (1 - ab).sqrt() * noise
    return torch.where(mask.bool(), known, x_prev)
""",
    "loop_over_batch": """
def replace_known(x_prev, y, mask, t_prev, noise, alphas_cumprod):
    out = x_prev.clone()
    m = mask.expand_as(x_prev)
    for i in range(x_prev.shape[0]):
        ab = 1.0 if t_prev[i] < 0 else alphas_cumprod[t_prev[i]].item()
        known = ab ** 0.5 * y[i] + (1 - ab) ** 0.5 * noise[i]
        out[i] = m[i] * known + (1 - m[i]) * x_prev[i]
    return out
""",
}

# Weakness classes of issue 11 (class letter, source): (a) the joint structure of the injected
# noise, (c) arguments changed in place.
WEAKNESS = {
    "known_pixels_written_into_x_prev": (
        "c",
        """
def replace_known(x_prev, y, mask, t_prev, noise, alphas_cumprod):
    ab = abar_at(alphas_cumprod, t_prev).to(x_prev.dtype).view(-1, *([1] * (x_prev.dim() - 1)))
    known = mask.expand_as(x_prev) > 0
    x_prev[known] = (ab.sqrt() * y + (1 - ab).sqrt() * noise)[known]
    return x_prev
""",
    ),
    "first_sample_noise_for_the_batch": (
        "a",
        _variant(_OK, noised="ab.sqrt() * y + (1 - ab).sqrt() * noise[:1]"),
    ),
}
BUGS.update({name: source for name, (_cls, source) in WEAKNESS.items()})
CORRECT["masked_assignment_on_a_copy"] = """
def replace_known(x_prev, y, mask, t_prev, noise, alphas_cumprod):
    out = x_prev.clone()
    ab = abar_at(alphas_cumprod, t_prev).to(x_prev.dtype).view(-1, *([1] * (x_prev.dim() - 1)))
    known = mask.expand_as(x_prev) > 0
    out[known] = (ab.sqrt() * y + (1 - ab).sqrt() * noise)[known]
    return out
"""
