# ruff: noqa: E501  (catalog of answer sources: long lines stay as a student would write them)
"""flow_step: bugs the hidden tests must fail, and correct answers they must accept."""

FUNCTION = "flow_step"


def _variant(
    dt="t_next - t",
    second="velocity(x + dt * v, nxt)",
    combine="(v + v2) / 2",
    first="velocity(x, now)",
    default='"euler"',
    now="torch.full((x.shape[0],), t, dtype=x.dtype)",
):
    return f"""
def flow_step(velocity, x, t, t_next, method={default}):
    if method not in ("euler", "heun"):
        raise ValueError(method)
    now = {now}
    nxt = torch.full((x.shape[0],), t_next, dtype=x.dtype)
    dt = {dt}
    v = {first}
    if method == "heun":
        v2 = {second}
        v = {combine}
    return x + dt * v
"""


BUGS = {
    "step_sign_flipped": _variant(dt="t - t_next"),
    "heun_second_call_at_t": _variant(second="velocity(x + dt * v, now)"),
    "heun_second_call_at_x": _variant(second="velocity(x, nxt)"),
    "heun_not_averaged": _variant(combine="v + v2"),
    "heun_only_the_prediction": _variant(combine="v2"),
    "midpoint_instead_of_heun": _variant(
        second="velocity(x + dt / 2 * v, (now + nxt) / 2)", combine="v2"
    ),
    "default_is_heun": _variant(default='"heun"'),
    "euler_at_the_end_time": _variant(first="velocity(x, nxt)"),
    "time_as_a_float": _variant(now="t"),
    "time_in_float32": _variant(now="torch.full((x.shape[0],), t)"),
    "time_of_shape_1": _variant(now="torch.tensor([t], dtype=x.dtype)"),
    "no_error_for_unknown_method": """
def flow_step(velocity, x, t, t_next, method="euler"):
    now = torch.full((x.shape[0],), t, dtype=x.dtype)
    nxt = torch.full((x.shape[0],), t_next, dtype=x.dtype)
    v = velocity(x, now)
    if method == "heun":
        v = (v + velocity(x + (t_next - t) * v, nxt)) / 2
    return x + (t_next - t) * v
""",
}

CORRECT = {
    "heun_written_as_trapezoid": """
def flow_step(velocity, x, t, t_next, method="euler"):
    if method not in {"euler", "heun"}:
        raise ValueError(f"unknown method {method}")
    h = t_next - t
    tt = x.new_full((len(x),), t)
    k1 = velocity(x, tt)
    if method == "euler":
        return x + h * k1
    k2 = velocity(x + h * k1, x.new_full((len(x),), t_next))
    return x + h / 2 * (k1 + k2)
""",
    "ones_times_t": """
def flow_step(velocity, x, t, t_next, method="euler"):
    ones = torch.ones(x.shape[0], dtype=x.dtype, device=x.device)
    if method == "euler":
        return x + (t_next - t) * velocity(x, t * ones)
    elif method == "heun":
        d1 = velocity(x, t * ones)
        x_euler = x + (t_next - t) * d1
        d2 = velocity(x_euler, t_next * ones)
        return x + (t_next - t) * 0.5 * (d1 + d2)
    else:
        raise ValueError("method must be euler or heun")
""",
}

WEAKNESS = {
    "x_updated_in_place": (
        "c",
        """
def flow_step(velocity, x, t, t_next, method="euler"):
    if method not in ("euler", "heun"):
        raise ValueError(method)
    now = torch.full((x.shape[0],), t, dtype=x.dtype)
    nxt = torch.full((x.shape[0],), t_next, dtype=x.dtype)
    v = velocity(x, now)
    if method == "heun":
        v = (v + velocity(x + (t_next - t) * v, nxt)) / 2
    return x.add_((t_next - t) * v)
""",
    ),
    "default_method_ignored": (
        "b",
        """
def flow_step(velocity, x, t, t_next, method=None):
    if method not in ("euler", "heun"):
        raise ValueError(method)
    now = torch.full((x.shape[0],), t, dtype=x.dtype)
    v = velocity(x, now)
    if method == "heun":
        v = (v + velocity(x + (t_next - t) * v, torch.full((x.shape[0],), t_next, dtype=x.dtype))) / 2
    return x + (t_next - t) * v
""",
    ),
}
BUGS.update({name: source for name, (_cls, source) in WEAKNESS.items()})
