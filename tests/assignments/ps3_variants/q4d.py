# ruff: noqa: E501  (catalog of answer sources: long lines stay as a student would write them)
"""dps_step: bugs the hidden tests must fail, and correct answers they must accept."""

FUNCTION = "dps_step"


def _variant(
    eps_line="eps = model(x, t)",
    residual="(y - operator(x0_hat)).flatten(1).norm(dim=1).sum()",
    wrt="x",
    step="ddim_step(eps.detach(), t, t_prev, x_t.detach(), alphas_cumprod, eta=1.0, noise=noise)",
    update="x_prev - zeta * grad",
):
    return f"""
def dps_step(model, x_t, t, t_prev, y, operator, zeta, noise, alphas_cumprod):
    shape = (-1,) + (1,) * (x_t.dim() - 1)
    abar_t = abar_at(alphas_cumprod, t).to(x_t.dtype).view(shape)
    with torch.enable_grad():
        x = x_t.detach().requires_grad_(True)
        {eps_line}
        x0_hat = (x - (1 - abar_t).sqrt() * eps) / abar_t.sqrt()
        if "{wrt}" == "x0_hat":
            x0_hat.retain_grad()
        loss = {residual}
        grad = torch.autograd.grad(loss, {wrt})[0]
    x_prev = {step}
    return ({update}).detach()
"""


BUGS = {
    "model_detached": _variant(eps_line="eps = model(x, t).detach()"),
    "model_under_no_grad": _variant(eps_line="with torch.no_grad(): eps = model(x, t)"),
    "squared_norm": _variant(residual="((y - operator(x0_hat)) ** 2).sum()"),
    "gradient_wrt_x0_hat": _variant(wrt="x0_hat"),
    "ascent_not_descent": _variant(update="x_prev + zeta * grad"),
    "mean_over_batch": _variant(residual="(y - operator(x0_hat)).flatten(1).norm(dim=1).mean()"),
    "one_norm_for_batch": _variant(residual="(y - operator(x0_hat)).norm()"),
    "eta_zero_step": _variant(
        step="ddim_step(eps.detach(), t, t_prev, x_t.detach(), alphas_cumprod, eta=0.0)"
    ),
    "clipped_step": _variant(
        step="ddim_step(eps.detach(), t, t_prev, x_t.detach(), alphas_cumprod, eta=1.0, noise=noise, clip_x0=True)"
    ),
}

CORRECT = {
    "loop_and_backward": """
def dps_step(model, x_t, t, t_prev, y, operator, zeta, noise, alphas_cumprod):
    x = x_t.detach().clone().requires_grad_(True)
    with torch.enable_grad():
        eps = model(x, t)
        a = abar_at(alphas_cumprod, t).to(x.dtype)
        a = a.reshape([-1] + [1] * (x.dim() - 1))
        x0 = (x - torch.sqrt(1 - a) * eps) / torch.sqrt(a)
        r = y - operator(x0)
        total = 0
        for b in range(x.shape[0]):
            total = total + torch.linalg.vector_norm(r[b])
        total.backward()
    out = ddim_step(eps.detach(), t, t_prev, x_t, alphas_cumprod, eta=1.0, noise=noise)
    return (out - zeta * x.grad).detach()
""",
    "inline_ddim_formula": """
def dps_step(model, x_t, t, t_prev, y, operator, zeta, noise, alphas_cumprod):
    shape = (-1,) + (1,) * (x_t.dim() - 1)
    at = abar_at(alphas_cumprod, t).to(x_t.dtype).view(shape)
    ap = abar_at(alphas_cumprod, t_prev).to(x_t.dtype).view(shape)
    x = x_t.detach().requires_grad_(True)
    with torch.enable_grad():
        eps = model(x, t)
        x0 = (x - (1 - at).sqrt() * eps) / at.sqrt()
        res = (y - operator(x0)).pow(2).flatten(1).sum(1).sqrt().sum()
        g, = torch.autograd.grad(res, x)
    sigma = ((1 - ap) / (1 - at) * (1 - at / ap)).sqrt()
    x0, eps = x0.detach(), eps.detach()
    out = ap.sqrt() * x0 + (1 - ap - sigma ** 2).clamp(min=0).sqrt() * eps + sigma * noise
    return (out - zeta * g).detach()
""",
}

# Weakness classes of issue 11 (class letter, source): (e) gradient discipline.
WEAKNESS = {
    "gradient_taken_on_the_caller_x_t": (
        "e",
        _variant().replace("x = x_t.detach().requires_grad_(True)", "x = x_t.requires_grad_(True)"),
    ),
    "gradients_not_enabled_inside": (
        "e",
        _variant().replace("    with torch.enable_grad():\n", "    if True:\n"),
    ),
}
BUGS.update({name: source for name, (_cls, source) in WEAKNESS.items()})
