# ruff: noqa: E501  (catalog of answer sources: long lines stay as a student would write them)
"""cfg_prediction: bugs the hidden tests must fail, and correct answers they must accept."""

FUNCTION = "cfg_prediction"

BUGS = {
    "sign_flipped": """
def cfg_prediction(model, x_t, t, labels, guidance_scale, null_label):
    out = model(torch.cat([x_t, x_t]), torch.cat([t, t]), torch.cat([labels, torch.full_like(labels, null_label)]))
    eps_c, eps_u = out.chunk(2)
    return eps_u - guidance_scale * (eps_c - eps_u)
""",
    "halves_swapped": """
def cfg_prediction(model, x_t, t, labels, guidance_scale, null_label):
    out = model(torch.cat([x_t, x_t]), torch.cat([t, t]), torch.cat([labels, torch.full_like(labels, null_label)]))
    eps_u, eps_c = out.chunk(2)
    return eps_u + guidance_scale * (eps_c - eps_u)
""",
    "two_calls": """
def cfg_prediction(model, x_t, t, labels, guidance_scale, null_label):
    eps_c = model(x_t, t, labels)
    eps_u = model(x_t, t, torch.full_like(labels, null_label))
    return eps_u + guidance_scale * (eps_c - eps_u)
""",
    "cond_plus_w_diff": """
def cfg_prediction(model, x_t, t, labels, guidance_scale, null_label):
    out = model(torch.cat([x_t, x_t]), torch.cat([t, t]), torch.cat([labels, torch.full_like(labels, null_label)]))
    eps_c, eps_u = out.chunk(2)
    return eps_c + guidance_scale * (eps_c - eps_u)
""",
    "first_t_for_batch": """
def cfg_prediction(model, x_t, t, labels, guidance_scale, null_label):
    tt = t[0].repeat(2 * len(t))
    out = model(torch.cat([x_t, x_t]), tt, torch.cat([labels, torch.full_like(labels, null_label)]))
    eps_c, eps_u = out.chunk(2)
    return eps_u + guidance_scale * (eps_c - eps_u)
""",
    "null_label_hardcoded_10": """
def cfg_prediction(model, x_t, t, labels, guidance_scale, null_label):
    out = model(torch.cat([x_t, x_t]), torch.cat([t, t]), torch.cat([labels, torch.full_like(labels, 10)]))
    eps_c, eps_u = out.chunk(2)
    return eps_u + guidance_scale * (eps_c - eps_u)
""",
    "uncond_is_label_zero": """
def cfg_prediction(model, x_t, t, labels, guidance_scale, null_label):
    out = model(torch.cat([x_t, x_t]), torch.cat([t, t]), torch.cat([labels, torch.zeros_like(labels)]))
    eps_c, eps_u = out.chunk(2)
    return eps_u + guidance_scale * (eps_c - eps_u)
""",
    "hard_coded_float32": """
def cfg_prediction(model, x_t, t, labels, guidance_scale, null_label):
    out = model(torch.cat([x_t, x_t]).float(), torch.cat([t, t]), torch.cat([labels, torch.full_like(labels, null_label)]))
    eps_c, eps_u = out.chunk(2)
    return eps_u + guidance_scale * (eps_c - eps_u)
""",
    "weight_on_cond_only": """
def cfg_prediction(model, x_t, t, labels, guidance_scale, null_label):
    out = model(torch.cat([x_t, x_t]), torch.cat([t, t]), torch.cat([labels, torch.full_like(labels, null_label)]))
    eps_c, eps_u = out.chunk(2)
    return eps_u + guidance_scale * eps_c
""",
    "unconditional_labels_none": """
def cfg_prediction(model, x_t, t, labels, guidance_scale, null_label):
    eps_c = model(x_t, t, labels)
    eps_u = model(x_t, t)
    return eps_u + guidance_scale * (eps_c - eps_u)
""",
    "split_wrong_axis": """
def cfg_prediction(model, x_t, t, labels, guidance_scale, null_label):
    out = model(torch.cat([x_t, x_t]), torch.cat([t, t]), torch.cat([labels, torch.full_like(labels, null_label)]))
    eps_c, eps_u = out.chunk(2, dim=-1)
    eps_c, eps_u = torch.cat([eps_c, eps_c], -1)[: len(t)], torch.cat([eps_u, eps_u], -1)[: len(t)]
    return eps_u + guidance_scale * (eps_c - eps_u)
""",
}

CORRECT = {
    "repeat_null_first": """
def cfg_prediction(model, x_t, t, labels, guidance_scale, null_label):
    B = x_t.shape[0]
    x_in = x_t.repeat(2, *([1] * (x_t.dim() - 1)))
    y_in = torch.cat([torch.full_like(labels, null_label), labels])
    out = model(x_in, t.repeat(2), labels=y_in)
    eps_u, eps_c = out[:B], out[B:]
    return (1 - guidance_scale) * eps_u + guidance_scale * eps_c
""",
    "split_and_stack": """
def cfg_prediction(model, x_t, t, labels, guidance_scale, null_label):
    null = torch.ones_like(labels) * null_label
    out = model(torch.cat((x_t, x_t), 0), torch.cat((t, t), 0), torch.cat((labels, null), 0))
    eps_c, eps_u = torch.split(out, x_t.shape[0])
    return eps_c * guidance_scale + eps_u * (1 - guidance_scale)
""",
}

# Weakness classes of issue 11 (class letter, source): (e) dtype, shape and gradient discipline.
WEAKNESS = {
    "output_squeezed": (
        "e",
        """
def cfg_prediction(model, x_t, t, labels, guidance_scale, null_label):
    out = model(torch.cat([x_t, x_t]), torch.cat([t, t]), torch.cat([labels, torch.full_like(labels, null_label)]))
    eps_c, eps_u = out.squeeze().chunk(2)
    return eps_u + guidance_scale * (eps_c - eps_u)
""",
    ),
}
BUGS.update({name: source for name, (_cls, source) in WEAKNESS.items()})
