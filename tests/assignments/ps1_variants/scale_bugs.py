# ruff: noqa: E501  (catalog of answer sources: long lines stay as a student would write them)
"""Sampler bugs for the scale check of q10 (`ddpm_sample`): assignments/ps1/staff/scale_checks.yml.

Each moves the law of the samples by a few percent: the notebook's own sample-quality
test (1000 samples against the true Gaussian, mean within 0.2 and spread within 15%)
and the scale check at Gradescope's size (cpu: 1000 samples) accept it; the scale check
at 100,000 samples does not. (Each also fails a step-level hidden test of q10 or q9: the
scale check is a second, independent line, which sees any cause of a wrong law.)
"""

FUNCTION = "ddpm_sample"

_HEAD = """
def ddpm_sample(model, shape, alphas_cumprod, generator, dtype=torch.float32, return_trajectory=False):
    T = alphas_cumprod.shape[0]
    x = torch.randn(shape, generator=generator, dtype=dtype)
    traj = [x]
    with torch.no_grad():
        for step in range(T - 1, -1, -1):
            t = torch.full((shape[0],), step, dtype=torch.long)
"""
_TAIL = """
            traj.append(x)
    if return_trajectory:
        return x, torch.stack(traj)
    return x
"""

REFERENCE = (
    _HEAD
    + """
            eps = model(x, t)
            a = alphas_cumprod[step]
            ap = alphas_cumprod[step - 1] if step > 0 else torch.ones_like(a)
            beta = 1 - a / ap
            mean = (x - beta / (1 - a).sqrt() * eps) / (1 - beta).sqrt()
            if step > 0:
                sd = (beta * (1 - ap) / (1 - a)).sqrt()
                x = (mean + sd * torch.randn(shape, generator=generator, dtype=dtype)).to(dtype)
            else:
                x = mean.to(dtype)
"""
    + _TAIL
)

SCALE_BUGS = {
    # sigma_t^2 = beta_t, DDPM's other variance (the prompt asks for the posterior one)
    "beta_variance": REFERENCE.replace(
        "sd = (beta * (1 - ap) / (1 - a)).sqrt()", "sd = beta.sqrt()"
    ),
    # the model is told the timestep as 1..T (t + 1) while the schedule is read at t
    "model_time_one_ahead": REFERENCE.replace(
        "eps = model(x, t)", "eps = model(x, (t + 1).clamp(max=T - 1))"
    ),
    # ... and the other way: the model at t - 1 (kept at 0 for the last step)
    "model_time_one_behind": REFERENCE.replace(
        "eps = model(x, t)", "eps = model(x, (t - 1).clamp(min=0))"
    ),
}
