# ruff: noqa: E501  (catalog of answer sources: long lines stay as a student would write them)
"""multiview_prediction: bugs the hidden tests must fail, and correct answers they must accept."""

FUNCTION = "multiview_prediction"

BUGS = {
    "apply_instead_of_inverse": """
def multiview_prediction(model, x_t, t, views, labels, guidance_scale, null_label):
    total = 0
    for v, y in zip(views, labels):
        total = total + v.apply(cfg_prediction(model, v.apply(x_t), t, y, guidance_scale, null_label))
    return total / len(views)
""",
    "no_inverse": """
def multiview_prediction(model, x_t, t, views, labels, guidance_scale, null_label):
    total = 0
    for v, y in zip(views, labels):
        total = total + cfg_prediction(model, v.apply(x_t), t, y, guidance_scale, null_label)
    return total / len(views)
""",
    "roles_swapped": """
def multiview_prediction(model, x_t, t, views, labels, guidance_scale, null_label):
    total = 0
    for v, y in zip(views, labels):
        total = total + v.apply(cfg_prediction(model, v.inverse(x_t), t, y, guidance_scale, null_label))
    return total / len(views)
""",
    "sum_not_mean": """
def multiview_prediction(model, x_t, t, views, labels, guidance_scale, null_label):
    total = 0
    for v, y in zip(views, labels):
        total = total + v.inverse(cfg_prediction(model, v.apply(x_t), t, y, guidance_scale, null_label))
    return total
""",
    "first_labels_for_all_views": """
def multiview_prediction(model, x_t, t, views, labels, guidance_scale, null_label):
    total = 0
    for v in views:
        total = total + v.inverse(cfg_prediction(model, v.apply(x_t), t, labels[0], guidance_scale, null_label))
    return total / len(views)
""",
    "model_sees_unviewed_input": """
def multiview_prediction(model, x_t, t, views, labels, guidance_scale, null_label):
    total = 0
    for v, y in zip(views, labels):
        total = total + v.inverse(cfg_prediction(model, x_t, t, y, guidance_scale, null_label))
    return total / len(views)
""",
    "no_guidance": """
def multiview_prediction(model, x_t, t, views, labels, guidance_scale, null_label):
    total = 0
    for v, y in zip(views, labels):
        total = total + v.inverse(model(v.apply(x_t), t, y))
    return total / len(views)
""",
    "inverse_on_input_only": """
def multiview_prediction(model, x_t, t, views, labels, guidance_scale, null_label):
    total = 0
    for v, y in zip(views, labels):
        total = total + cfg_prediction(model, v.inverse(x_t), t, y, guidance_scale, null_label)
    return total / len(views)
""",
}

CORRECT = {
    "guidance_after_average": """
def multiview_prediction(model, x_t, t, views, labels, guidance_scale, null_label):
    cond, uncond = torch.zeros_like(x_t), torch.zeros_like(x_t)
    for v, y in zip(views, labels):
        vx = v.apply(x_t)
        cond = cond + v.inverse(model(vx, t, y)) / len(views)
        uncond = uncond + v.inverse(model(vx, t, torch.full_like(y, null_label))) / len(views)
    return uncond + guidance_scale * (cond - uncond)
""",
    "one_batched_call_for_all_views": """
def multiview_prediction(model, x_t, t, views, labels, guidance_scale, null_label):
    K, B = len(views), x_t.shape[0]
    xs = torch.cat([v.apply(x_t) for v in views])
    ts = t.repeat(K)
    ys = torch.cat(list(labels))
    eps = cfg_prediction(model, xs, ts, ys, guidance_scale, null_label)
    parts = [v.inverse(e) for v, e in zip(views, eps.split(B))]
    return torch.stack(parts).mean(0)
""",
}

# Weakness classes of issue 11 (class letter, source): (d) a shortcut that the degenerate
# public input (one identity view) hides.
WEAKNESS = {
    "single_view_shortcut_skips_the_view": (
        "d",
        """
def multiview_prediction(model, x_t, t, views, labels, guidance_scale, null_label):
    if len(views) == 1:
        return cfg_prediction(model, x_t, t, labels[0], guidance_scale, null_label)
    total = 0
    for v, y in zip(views, labels):
        total = total + v.inverse(cfg_prediction(model, v.apply(x_t), t, y, guidance_scale, null_label))
    return total / len(views)
""",
    ),
}
BUGS.update({name: source for name, (_cls, source) in WEAKNESS.items()})
CORRECT["slowest_loop_over_samples_and_views"] = """
def multiview_prediction(model, x_t, t, views, labels, guidance_scale, null_label):
    out = torch.zeros_like(x_t)
    for i in range(x_t.shape[0]):
        for v, y in zip(views, labels):
            e = cfg_prediction(model, v.apply(x_t[i : i + 1]), t[i : i + 1], y[i : i + 1], guidance_scale, null_label)
            out[i] = out[i] + v.inverse(e)[0] / len(views)
    return out
"""
