# ruff: noqa: E501  (catalog of answer sources: long lines stay as a student would write them)
"""slerp: bugs the hidden tests must fail, and correct answers they must accept."""

FUNCTION = "slerp"

_GOOD_TAIL = """
    shape = (-1,) + (1,) * (z0.dim() - 1)
    return c0.view(shape) * z0 + c1.view(shape) * z1
"""

BUGS = {
    "plain_lerp": """
def slerp(z0, z1, alpha):
    return (1 - alpha) * z0 + alpha * z1
""",
    "one_angle_for_batch": """
def slerp(z0, z1, alpha):
    cos = (z0 * z1).sum() / (z0.norm() * z1.norm())
    theta = torch.acos(cos.clamp(-1, 1))
    if torch.sin(theta).abs() < 1e-6:
        return (1 - alpha) * z0 + alpha * z1
    return (torch.sin((1 - alpha) * theta) * z0 + torch.sin(alpha * theta) * z1) / torch.sin(theta)
""",
    "no_clamp_no_fallback": """
def slerp(z0, z1, alpha):
    a, b = z0.flatten(1), z1.flatten(1)
    theta = torch.acos((a * b).sum(1) / (a.norm(dim=1) * b.norm(dim=1)))
    c0 = torch.sin((1 - alpha) * theta) / torch.sin(theta)
    c1 = torch.sin(alpha * theta) / torch.sin(theta)
"""
    + _GOOD_TAIL,
    "clamp_but_no_fallback": """
def slerp(z0, z1, alpha):
    a, b = z0.flatten(1), z1.flatten(1)
    theta = torch.acos(((a * b).sum(1) / (a.norm(dim=1) * b.norm(dim=1))).clamp(-1, 1))
    c0 = torch.sin((1 - alpha) * theta) / torch.sin(theta)
    c1 = torch.sin(alpha * theta) / torch.sin(theta)
"""
    + _GOOD_TAIL,
    "angle_over_last_dim": """
def slerp(z0, z1, alpha):
    cos = (z0 * z1).sum(-1, keepdim=True) / (z0.norm(dim=-1, keepdim=True) * z1.norm(dim=-1, keepdim=True))
    theta = torch.acos(cos.clamp(-1, 1))
    s = torch.sin(theta)
    small = s.abs() < 1e-6
    s = torch.where(small, torch.ones_like(s), s)
    c0 = torch.where(small, 1 - alpha + 0 * s, torch.sin((1 - alpha) * theta) / s)
    c1 = torch.where(small, alpha + 0 * s, torch.sin(alpha * theta) / s)
    return c0 * z0 + c1 * z1
""",
    "coefficients_not_reshaped": """
def slerp(z0, z1, alpha):
    a, b = z0.flatten(1), z1.flatten(1)
    theta = torch.acos(((a * b).sum(1) / (a.norm(dim=1) * b.norm(dim=1))).clamp(-1, 1))
    s = torch.sin(theta)
    small = s.abs() < 1e-6
    s = torch.where(small, torch.ones_like(s), s)
    c0 = torch.where(small, 1 - alpha + 0 * s, torch.sin((1 - alpha) * theta) / s)
    c1 = torch.where(small, alpha + 0 * s, torch.sin(alpha * theta) / s)
    return c0 * z0 + c1 * z1
""",
    "coefficients_swapped": """
def slerp(z0, z1, alpha):
    a, b = z0.flatten(1), z1.flatten(1)
    theta = torch.acos(((a * b).sum(1) / (a.norm(dim=1) * b.norm(dim=1))).clamp(-1, 1))
    s = torch.sin(theta)
    small = s.abs() < 1e-6
    s = torch.where(small, torch.ones_like(s), s)
    c1 = torch.where(small, 1 - alpha + 0 * s, torch.sin((1 - alpha) * theta) / s)
    c0 = torch.where(small, alpha + 0 * s, torch.sin(alpha * theta) / s)
"""
    + _GOOD_TAIL,
    "unnormalised_cosine": """
def slerp(z0, z1, alpha):
    a, b = z0.flatten(1), z1.flatten(1)
    theta = torch.acos((a * b).sum(1).clamp(-1, 1))
    s = torch.sin(theta)
    small = s.abs() < 1e-6
    s = torch.where(small, torch.ones_like(s), s)
    c0 = torch.where(small, 1 - alpha + 0 * s, torch.sin((1 - alpha) * theta) / s)
    c1 = torch.where(small, alpha + 0 * s, torch.sin(alpha * theta) / s)
"""
    + _GOOD_TAIL,
    "directions_only": """
def slerp(z0, z1, alpha):
    a = z0.flatten(1) / z0.flatten(1).norm(dim=1, keepdim=True)
    b = z1.flatten(1) / z1.flatten(1).norm(dim=1, keepdim=True)
    theta = torch.acos((a * b).sum(1).clamp(-1, 1))
    s = torch.sin(theta)
    small = s.abs() < 1e-6
    s = torch.where(small, torch.ones_like(s), s)
    c0 = torch.where(small, 1 - alpha + 0 * s, torch.sin((1 - alpha) * theta) / s)
    c1 = torch.where(small, alpha + 0 * s, torch.sin(alpha * theta) / s)
    return (c0[:, None] * a + c1[:, None] * b).view(z0.shape)
""",
    "hard_coded_float32": """
def slerp(z0, z1, alpha):
    z0, z1 = z0.float(), z1.float()
    a, b = z0.flatten(1), z1.flatten(1)
    theta = torch.acos(((a * b).sum(1) / (a.norm(dim=1) * b.norm(dim=1))).clamp(-1, 1))
    s = torch.sin(theta)
    small = s.abs() < 1e-6
    s = torch.where(small, torch.ones_like(s), s)
    c0 = torch.where(small, 1 - alpha + 0 * s, torch.sin((1 - alpha) * theta) / s)
    c1 = torch.where(small, alpha + 0 * s, torch.sin(alpha * theta) / s)
"""
    + _GOOD_TAIL,
}

CORRECT = {
    "loop_over_rows": """
def slerp(z0, z1, alpha):
    out = torch.empty_like(z0)
    for i in range(z0.shape[0]):
        a, b = z0[i].flatten(), z1[i].flatten()
        cos = float((a @ b) / (a.norm() * b.norm()))
        theta = math.acos(max(-1.0, min(1.0, cos)))
        if math.sin(theta) < 1e-7:
            out[i] = (1 - alpha) * z0[i] + alpha * z1[i]
        else:
            out[i] = (math.sin((1 - alpha) * theta) * z0[i] + math.sin(alpha * theta) * z1[i]) / math.sin(theta)
    return out
""",
    "atan2_angle": """
def slerp(z0, z1, alpha):
    a, b = z0.flatten(1), z1.flatten(1)
    ua = a / a.norm(dim=1, keepdim=True)
    ub = b / b.norm(dim=1, keepdim=True)
    theta = 2 * torch.atan2((ua - ub).norm(dim=1), (ua + ub).norm(dim=1))
    s = torch.sin(theta)
    ok = s > 1e-5
    s = torch.where(ok, s, torch.ones_like(s))
    c0 = torch.where(ok, torch.sin((1 - alpha) * theta) / s, torch.full_like(s, 1 - alpha))
    c1 = torch.where(ok, torch.sin(alpha * theta) / s, torch.full_like(s, alpha))
    shape = [-1] + [1] * (z0.dim() - 1)
    return c0.reshape(shape) * z0 + c1.reshape(shape) * z1
""",
}

# Weakness classes of issue 11 (class letter, source): (c) arguments changed in place, (d) a
# fallback that a degenerate input (identical rows) hides.
_SLERP_HEAD = """
def slerp(z0, z1, alpha):
    a, b = z0.flatten(1), z1.flatten(1)
    cos = ((a * b).sum(1) / (a.norm(dim=1) * b.norm(dim=1))).clamp(-1, 1)
    theta = torch.acos(cos)
    sin = torch.sin(theta)
"""
WEAKNESS = {
    "fallback_returns_z0": (
        "d",
        _SLERP_HEAD
        + """    small = sin.abs() < 1e-6
    safe = torch.where(small, torch.ones_like(sin), sin)
    c0 = torch.where(small, torch.ones_like(sin), torch.sin((1 - alpha) * theta) / safe)
    c1 = torch.where(small, torch.zeros_like(sin), torch.sin(alpha * theta) / safe)
"""
        + _GOOD_TAIL,
    ),
    "fallback_for_angles_below_0_45": (
        "d",
        _SLERP_HEAD
        + """    small = cos > 0.9
    safe = torch.where(small, torch.ones_like(sin), sin)
    c0 = torch.where(small, torch.full_like(sin, 1 - alpha), torch.sin((1 - alpha) * theta) / safe)
    c1 = torch.where(small, torch.full_like(sin, alpha), torch.sin(alpha * theta) / safe)
"""
        + _GOOD_TAIL,
    ),
    "rows_normalised_in_place_through_views": (
        "c",
        """
def slerp(z0, z1, alpha):
    a, b = z0.flatten(1), z1.flatten(1)
    na, nb = a.norm(dim=1, keepdim=True), b.norm(dim=1, keepdim=True)
    a /= na
    b /= nb
    theta = torch.acos((a * b).sum(1).clamp(-1, 1))
    sin = torch.sin(theta)
    small = sin.abs() < 1e-6
    safe = torch.where(small, torch.ones_like(sin), sin)
    c0 = torch.where(small, torch.full_like(sin, 1 - alpha), torch.sin((1 - alpha) * theta) / safe)
    c1 = torch.where(small, torch.full_like(sin, alpha), torch.sin(alpha * theta) / safe)
    out = c0[:, None] * a * na + c1[:, None] * b * nb
    return out.view(z0.shape)
""",
    ),
}
BUGS.update({name: source for name, (_cls, source) in WEAKNESS.items()})
CORRECT["half_angle_atan2_and_popular_threshold"] = """
def slerp(z0, z1, alpha):
    a, b = z0.flatten(1), z1.flatten(1)
    ua = a / a.norm(dim=1, keepdim=True)
    ub = b / b.norm(dim=1, keepdim=True)
    theta = 2 * torch.atan2((ua - ub).norm(dim=1), (ua + ub).norm(dim=1))
    dot = (ua * ub).sum(1)
    out = torch.empty_like(a)
    for i in range(a.shape[0]):
        if dot[i] > 0.9995:  # the threshold of the widely copied slerp snippet
            out[i] = (1 - alpha) * a[i] + alpha * b[i]
        else:
            s = torch.sin(theta[i])
            out[i] = torch.sin((1 - alpha) * theta[i]) / s * a[i] + torch.sin(alpha * theta[i]) / s * b[i]
    return out.reshape(z0.shape)
"""
CORRECT["normalised_on_copies"] = """
def slerp(z0, z1, alpha):
    a, b = z0.flatten(1).clone(), z1.flatten(1).clone()
    na, nb = a.norm(dim=1, keepdim=True), b.norm(dim=1, keepdim=True)
    a /= na
    b /= nb
    theta = torch.acos((a * b).sum(1).clamp(-1, 1))
    sin = torch.sin(theta)
    small = sin.abs() < 1e-6
    safe = torch.where(small, torch.ones_like(sin), sin)
    c0 = torch.where(small, torch.full_like(sin, 1 - alpha), torch.sin((1 - alpha) * theta) / safe)
    c1 = torch.where(small, torch.full_like(sin, alpha), torch.sin(alpha * theta) / safe)
    return (c0[:, None] * a * na + c1[:, None] * b * nb).view(z0.shape)
"""
