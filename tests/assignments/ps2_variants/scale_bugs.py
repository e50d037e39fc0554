# ruff: noqa: E501  (catalog of answer sources: long lines stay as a student would write them)
"""Sampler bugs for the scale check of q11b (`ddim_sample`): assignments/ps2/staff/scale_checks.yml.

Each moves the law of DDIM's samples (eta = 1, 50 leading steps) by a little: the scale
check at Gradescope's size (cpu: 1000 samples) accepts it; at 100,000 samples it does not.
"""

FUNCTION = "ddim_sample"

REFERENCE = """
def ddim_sample(model, shape, alphas_cumprod, num_steps, generator, eta=0.0, spacing="leading"):
    T = alphas_cumprod.shape[0]
    grid = [k * (T // num_steps) for k in range(num_steps - 1, -1, -1)]
    x = torch.randn(shape, generator=generator)
    with torch.no_grad():
        for i, step in enumerate(grid):
            prev = grid[i + 1] if i + 1 < len(grid) else -1
            a = alphas_cumprod[step]
            ap = alphas_cumprod[prev] if prev >= 0 else torch.ones_like(a)
            eps = model(x, torch.full((shape[0],), step, dtype=torch.long)).to(x.dtype)
            x0 = (x - (1 - a).sqrt() * eps) / a.sqrt()
            sigma = eta * ((1 - ap) / (1 - a) * (1 - a / ap)).sqrt()
            x = ap.sqrt() * x0 + (1 - ap - sigma**2).sqrt() * eps
            if eta > 0:
                x = x + sigma * torch.randn(shape, generator=generator)
            x = x.to(torch.float32)
    return x
"""

SCALE_BUGS = {
    # sigma without its division by (1 - abar_t): too little noise where abar_t is large
    "sigma_missing_denominator": REFERENCE.replace(
        "sigma = eta * ((1 - ap) / (1 - a) * (1 - a / ap)).sqrt()",
        "sigma = eta * ((1 - ap) / (1 - a) * (1 - a)).sqrt() * (1 - a / ap).sqrt()",
    ),
}

# Not in the catalog (measured with bench/scale_checks.py --assignment ps2):
# - the direction term left at sqrt(1 - abar_prev): caught at Gradescope's size already (108
#   standard errors at 1000 samples);
# - sigma from the 1000-step schedule's neighbour instead of the grid's previous timestep:
#   NaN (more noise than 1 - abar_prev leaves room for), which every test sees;
# - diffusers' steps_offset = 1 (grid 981, ..., 1) and the trailing grid where leading is the
#   default: the law does not see them (within 1.6 standard errors at 100,000 samples; with
#   the exact predictor any grid gives nearly the data's law); step-level tests catch them.
