# ruff: noqa: E501  (catalog of answer sources: long lines stay as a student would write them)
"""Subtle integrator bugs for the scale profile of q3a's sampling check.

Each is a second-order-looking step whose samples the small cpu profile (512 samples) accepts:
the modes are right and the spread within a mode is within the noise of 512 samples. The
scale profile (65536 samples) measures that spread to a few parts in a thousand and each bug
moves it outside the reference Heun's range. (Each also fails q3a's step-level hidden tests:
the sampling check is a second, independent line.) Measured by assignments/ps4/staff/scale_profile.py.
"""

FUNCTION = "flow_step"

SCALE_BUGS = {
    # the explicit midpoint rule: second order too, but not the Heun step that was asked
    "midpoint_rule": """
def flow_step(velocity, x, t, t_next, method="euler"):
    if method not in ("euler", "heun"):
        raise ValueError(method)
    h = t_next - t
    now = torch.full((x.shape[0],), t, dtype=x.dtype)
    v = velocity(x, now)
    if method == "heun":
        v = velocity(x + h / 2 * v, torch.full((x.shape[0],), t + h / 2, dtype=x.dtype))
    return x + h * v
""",
    # the second evaluation at the old point (at the new time): a first-order step in disguise
    "second_call_at_the_old_point": """
def flow_step(velocity, x, t, t_next, method="euler"):
    if method not in ("euler", "heun"):
        raise ValueError(method)
    h = t_next - t
    v = velocity(x, torch.full((x.shape[0],), t, dtype=x.dtype))
    if method == "heun":
        v = (v + velocity(x, torch.full((x.shape[0],), t_next, dtype=x.dtype))) / 2
    return x + h * v
""",
}
