# ruff: noqa: E501  (catalog of answer sources: long lines stay as a student would write them)
"""cfm_loss: bugs the hidden tests must fail, and correct answers they must accept."""

FUNCTION = "cfm_loss"


def _variant(
    x_t="(1 - tt) * x0 + tt * noise",
    target="noise - x0",
    loss="torch.mean((pred - target) ** 2)",
    tt="t.to(x0.dtype).view(-1, 1)",
    pred="velocity(x_t, t)",
):
    return f"""
def cfm_loss(velocity, x0, noise, t):
    tt = {tt}
    x_t = {x_t}
    target = {target}
    pred = {pred}
    return {loss}
"""


BUGS = {
    "target_sign_flipped": _variant(target="x0 - noise"),
    "time_reversed_path": _variant(x_t="tt * x0 + (1 - tt) * noise"),
    "t_broadcast_along_features": _variant(tt="t.to(x0.dtype)"),
    "first_time_for_the_batch": _variant(tt="t[0].to(x0.dtype)"),
    "sum_over_coordinates": _variant(loss="((pred - target) ** 2).sum(1).mean()"),
    "prediction_detached": _variant(pred="velocity(x_t, t).detach()"),
    "field_at_the_data": _variant(pred="velocity(x0, t)"),
    "hard_coded_float32": _variant(loss="torch.mean((pred - target) ** 2).float()"),
    "root_mean_square": _variant(loss="torch.mean((pred - target) ** 2).sqrt()"),
}

CORRECT = {
    "per_sample_loop": """
def cfm_loss(velocity, x0, noise, t):
    total = 0.0
    for i in range(x0.shape[0]):
        x_t = (1 - t[i]) * x0[i : i + 1] + t[i] * noise[i : i + 1]
        total = total + ((velocity(x_t, t[i : i + 1]) - (noise[i : i + 1] - x0[i : i + 1])) ** 2).sum()
    return total / x0.numel()
""",
    "lerp_and_mse_loss": """
def cfm_loss(velocity, x0, noise, t):
    x_t = torch.lerp(x0, noise, t[:, None].to(x0.dtype))
    return torch.nn.functional.mse_loss(velocity(x_t, t), noise - x0)
""",
}

# Weakness classes of issue 11 (class letter, source): (c) arguments changed in place,
# (e) dtype, shape and gradient discipline.
WEAKNESS = {
    "noise_turned_into_target_in_place": (
        "c",
        """
def cfm_loss(velocity, x0, noise, t):
    tt = t.to(x0.dtype).view(-1, 1)
    x_t = (1 - tt) * x0 + tt * noise
    return torch.mean((velocity(x_t, t) - noise.sub_(x0)) ** 2)
""",
    ),
    "batch_of_one_squeezed": (
        "e",
        """
def cfm_loss(velocity, x0, noise, t):
    tt = t.to(x0.dtype).view(-1, 1)
    x_t = ((1 - tt) * x0 + tt * noise).squeeze()
    return torch.mean((velocity(x_t, t) - (noise - x0)) ** 2)
""",
    ),
}
BUGS.update({name: source for name, (_cls, source) in WEAKNESS.items()})
