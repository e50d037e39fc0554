# ruff: noqa: E501  (catalog of answer sources: long lines stay as a student would write them)
"""straightness: bugs the hidden tests must fail, and correct answers they must accept."""

FUNCTION = "straightness"


def _variant(
    steps="(trajectory[1:] - trajectory[:-1]) * n",
    overall="trajectory[-1] - trajectory[0]",
    reduce="((steps - overall) ** 2).sum(-1).mean()",
    n="trajectory.shape[0] - 1",
):
    return f"""
def straightness(trajectory):
    n = {n}
    steps = {steps}
    overall = {overall}
    return {reduce}
"""


BUGS = {
    "steps_not_scaled": _variant(steps="trajectory[1:] - trajectory[:-1]"),
    "chord_reversed": _variant(overall="trajectory[0] - trajectory[-1]"),
    "mean_over_coordinates": _variant(reduce="((steps - overall) ** 2).mean()"),
    "norm_not_squared": _variant(reduce="(steps - overall).norm(dim=-1).mean()"),
    "counts_points_not_steps": _variant(n="trajectory.shape[0]"),
    "sum_over_steps": _variant(reduce="((steps - overall) ** 2).sum(-1).sum(0).mean()"),
    "first_sample_only": _variant(reduce="((steps - overall) ** 2).sum(-1)[:, 0].mean()"),
    "hard_coded_float64": _variant(reduce="((steps - overall) ** 2).sum(-1).mean().double()"),
}

CORRECT = {
    "explicit_loops": """
def straightness(trajectory):
    n = trajectory.shape[0] - 1
    total = torch.zeros((), dtype=trajectory.dtype)
    for b in range(trajectory.shape[1]):
        chord = trajectory[n, b] - trajectory[0, b]
        for k in range(n):
            total = total + ((n * (trajectory[k + 1, b] - trajectory[k, b]) - chord) ** 2).sum()
    return total / (n * trajectory.shape[1])
""",
    "torch_diff_and_einsum": """
def straightness(trajectory):
    n = trajectory.shape[0] - 1
    d = torch.diff(trajectory, dim=0) * n - (trajectory[-1] - trajectory[0])
    return torch.einsum("kbd,kbd->kb", d, d).mean()
""",
}

WEAKNESS = {
    "trajectory_shifted_in_place": (
        "c",
        """
def straightness(trajectory):
    n = trajectory.shape[0] - 1
    trajectory -= trajectory[0].clone()
    steps = (trajectory[1:] - trajectory[:-1]) * n
    return ((steps - trajectory[-1]) ** 2).sum(-1).mean()
""",
    ),
    "single_step_divides_by_zero": (
        "d",
        """
def straightness(trajectory):
    n = trajectory.shape[0] - 1
    steps = (trajectory[1:] - trajectory[:-1]) * n
    overall = trajectory[-1] - trajectory[0]
    return ((steps - overall) ** 2).sum(-1).sum(0).mean() / (n - 1)
""",
    ),
}
BUGS.update({name: source for name, (_cls, source) in WEAKNESS.items()})
