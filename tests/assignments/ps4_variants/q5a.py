# ruff: noqa: E501  (catalog of answer sources: long lines stay as a student would write them)
"""progressive_distillation_target: bugs the hidden tests must fail, correct answers they must accept."""

FUNCTION = "progressive_distillation_target"


def _variant(
    half="step / 2",
    second="teacher(x_mid, t - half)",
    ret="(x_t - x_end) / step",
    guard="torch.no_grad()",
):
    return f"""
def progressive_distillation_target(teacher, x_t, t, step):
    half = {half}
    with {guard}:
        x_mid = x_t - half * teacher(x_t, t)
        x_end = x_mid - half * {second}
    return {ret}
"""


BUGS = {
    "full_steps": _variant(half="step"),
    "second_step_at_t": _variant(second="teacher(x_mid, t)"),
    "second_step_from_x_t": _variant(second="teacher(x_t, t - half)"),
    "target_sign_flipped": _variant(ret="(x_end - x_t) / step"),
    "divided_by_half_step": _variant(ret="(x_t - x_end) / half"),
    "gradient_into_the_teacher": _variant(guard="torch.enable_grad()"),
    "landing_point_not_velocity": _variant(ret="x_end"),
    "second_step_at_t_minus_step": _variant(second="teacher(x_mid, t - step)"),
}

CORRECT = {
    "detached_velocities": """
def progressive_distillation_target(teacher, x_t, t, step):
    v1 = teacher(x_t, t).detach()
    x_mid = x_t - step / 2 * v1
    v2 = teacher(x_mid, t - step / 2).detach()
    return (v1 + v2) / 2
""",
    "per_sample_loop": """
def progressive_distillation_target(teacher, x_t, t, step):
    out = []
    with torch.no_grad():
        for i in range(x_t.shape[0]):
            x = x_t[i : i + 1]
            ti = t[i : i + 1]
            x_mid = x - step / 2 * teacher(x, ti)
            x_end = x_mid - step / 2 * teacher(x_mid, ti - step / 2)
            out.append((x - x_end) / step)
    return torch.cat(out)
""",
}

WEAKNESS = {
    "t_decremented_in_place": (
        "c",
        """
def progressive_distillation_target(teacher, x_t, t, step):
    with torch.no_grad():
        x_mid = x_t - step / 2 * teacher(x_t, t)
        x_end = x_mid - step / 2 * teacher(x_mid, t.sub_(step / 2))
    return (x_t - x_end) / step
""",
    ),
    "teacher_gets_one_time": (
        "e",
        """
def progressive_distillation_target(teacher, x_t, t, step):
    with torch.no_grad():
        x_mid = x_t - step / 2 * teacher(x_t, t[:1])
        x_end = x_mid - step / 2 * teacher(x_mid, t[:1] - step / 2)
    return (x_t - x_end) / step
""",
    ),
}
BUGS.update({name: source for name, (_cls, source) in WEAKNESS.items()})
