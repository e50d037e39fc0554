# ruff: noqa: E501  (catalog of answer sources: long lines stay as a student would write them)
"""sds_grad: bugs the hidden tests must fail, and correct answers they must accept."""

FUNCTION = "sds_grad"


def _variant(
    xt="a.sqrt() * x.detach() + (1 - a).sqrt() * noise",
    eps="cfg_prediction(model, x_t, t, labels, guidance_scale, null_label)",
    out="(1 - a) * (eps_hat - noise)",
    shape="(-1,) + (1,) * (x.dim() - 1)",
    no_grad=True,
):
    body = f"""
    a = abar_at(alphas_cumprod, t).to(x.dtype).view({shape})
    x_t = {xt}
    eps_hat = {eps}
    return {out}
"""
    if no_grad:
        body = body.replace("\n    ", "\n        ")
        return (
            "\ndef sds_grad(model, x, t, noise, labels, guidance_scale, null_label, alphas_cumprod):\n    with torch.no_grad():"
            + body
        )
    return (
        "\ndef sds_grad(model, x, t, noise, labels, guidance_scale, null_label, alphas_cumprod):"
        + body
    )


BUGS = {
    "with_jacobian": """
def sds_grad(model, x, t, noise, labels, guidance_scale, null_label, alphas_cumprod):
    a = abar_at(alphas_cumprod, t).to(x.dtype).view((-1,) + (1,) * (x.dim() - 1))
    xx = x.detach().requires_grad_(True)
    with torch.enable_grad():
        x_t = a.sqrt() * xx + (1 - a).sqrt() * noise
        eps_hat = cfg_prediction(model, x_t, t, labels, guidance_scale, null_label)
        loss = 0.5 * ((1 - a) * (eps_hat - noise) ** 2).sum()
        g, = torch.autograd.grad(loss, xx)
    return g.detach()
""",
    "no_guidance": _variant(eps="model(x_t, t, labels)"),
    "no_weight": _variant(out="eps_hat - noise"),
    "weight_abar": _variant(out="a * (eps_hat - noise)"),
    "weight_sqrt": _variant(out="(1 - a).sqrt() * (eps_hat - noise)"),
    "sign_flipped": _variant(out="(1 - a) * (noise - eps_hat)"),
    "first_t_for_batch": _variant(
        eps="cfg_prediction(model, x_t, t[:1].expand_as(t), labels, guidance_scale, null_label)"
    ),
    "graph_attached": _variant(xt="a.sqrt() * x + (1 - a).sqrt() * noise", no_grad=False),
    "broadcast_along_last_axis": _variant(shape="-1"),
    "x_not_noised": _variant(xt="x.detach()"),
    "variance_not_std": _variant(xt="a.sqrt() * x.detach() + (1 - a) * noise"),
}

CORRECT = {
    "detach_and_loop": """
def sds_grad(model, x, t, noise, labels, guidance_scale, null_label, alphas_cumprod):
    x = x.detach()
    out = torch.empty_like(x)
    for i in range(x.shape[0]):
        a = abar_at(alphas_cumprod, t[i:i+1]).to(x.dtype)[0]
        xt = torch.sqrt(a) * x[i:i+1] + torch.sqrt(1 - a) * noise[i:i+1]
        e = cfg_prediction(model, xt, t[i:i+1], labels[i:i+1], guidance_scale, null_label)
        out[i] = ((1 - a) * (e - noise[i:i+1]))[0]
    return out.detach()
""",
    "inline_guidance": """
def sds_grad(model, x, t, noise, labels, guidance_scale, null_label, alphas_cumprod):
    a = abar_at(alphas_cumprod, t).to(x.dtype).reshape(-1, *[1] * (x.dim() - 1))
    xt = (a.sqrt() * x + (1 - a).sqrt() * noise).detach()
    with torch.no_grad():
        e_c = model(xt, t, labels)
        e_u = model(xt, t, torch.full_like(labels, null_label))
    e = e_u + guidance_scale * (e_c - e_u)
    return (1 - a) * (e - noise)
""",
}

# Weakness classes of issue 11 (class letter, source): (e) gradient discipline.
WEAKNESS = {
    "surrogate_loss_backward_into_x_grad": (
        "e",
        """
def sds_grad(model, x, t, noise, labels, guidance_scale, null_label, alphas_cumprod):
    a = abar_at(alphas_cumprod, t).to(x.dtype).view(-1, *([1] * (x.dim() - 1)))
    with torch.no_grad():
        x_t = a.sqrt() * x + (1 - a).sqrt() * noise
        g = (1 - a) * (cfg_prediction(model, x_t, t, labels, guidance_scale, null_label) - noise)
    (g * x).sum().backward()
    return x.grad.detach().clone()
""",
    ),
}
BUGS.update({name: source for name, (_cls, source) in WEAKNESS.items()})
CORRECT["surrogate_loss_on_a_detached_copy"] = """
def sds_grad(model, x, t, noise, labels, guidance_scale, null_label, alphas_cumprod):
    a = abar_at(alphas_cumprod, t).to(x.dtype).view(-1, *([1] * (x.dim() - 1)))
    with torch.no_grad():
        x_t = a.sqrt() * x + (1 - a).sqrt() * noise
        g = (1 - a) * (cfg_prediction(model, x_t, t, labels, guidance_scale, null_label) - noise)
    xc = x.detach().clone().requires_grad_(True)
    with torch.enable_grad():
        (grad,) = torch.autograd.grad((g * xc).sum(), xc)
    return grad
"""
