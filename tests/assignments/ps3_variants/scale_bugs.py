# ruff: noqa: E501  (catalog of answer sources: long lines stay as a student would write them)
"""Subtle guidance bugs for the scale profile of q1b's sampling-quality check.

Each gives samples that the small CPU profile (32 samples, judge accuracy only) accepts:
the guided digits still read as their labels. The scale profile (thousands of samples)
also measures how much the samples of one digit vary, which follows the effective
guidance weight; each bug moves it outside the reference's range. (Each also fails
q1b's step-level hidden test: the scale check is a second, independent line.)
"""

FUNCTION = "cfg_prediction"

SCALE_BUGS = {
    # eps_c + w (eps_c - eps_u): the conditional counted twice, an effective weight of w + 1
    "cond_plus_w_diff": """
def cfg_prediction(model, x_t, t, labels, guidance_scale, null_label):
    out = model(torch.cat([x_t, x_t]), torch.cat([t, t]), torch.cat([labels, torch.full_like(labels, null_label)]))
    eps_c, eps_u = out.chunk(2)
    return eps_c + guidance_scale * (eps_c - eps_u)
""",
    # the (1 + w) eps_c - w eps_u convention read into guidance_scale: an effective weight of w - 1
    "one_plus_w_convention": """
def cfg_prediction(model, x_t, t, labels, guidance_scale, null_label):
    out = model(torch.cat([x_t, x_t]), torch.cat([t, t]), torch.cat([labels, torch.full_like(labels, null_label)]))
    eps_c, eps_u = out.chunk(2)
    w = guidance_scale - 1  # guidance_scale = 1 + w
    return eps_u + w * (eps_c - eps_u)
""",
    # guidance "rescaled" to the conditional prediction's standard deviation (a blog trick)
    "rescaled_to_cond_std": """
def cfg_prediction(model, x_t, t, labels, guidance_scale, null_label):
    out = model(torch.cat([x_t, x_t]), torch.cat([t, t]), torch.cat([labels, torch.full_like(labels, null_label)]))
    eps_c, eps_u = out.chunk(2)
    guided = eps_u + guidance_scale * (eps_c - eps_u)
    dims = tuple(range(1, guided.dim()))
    return guided * eps_c.std(dim=dims, keepdim=True) / guided.std(dim=dims, keepdim=True)
""",
}
