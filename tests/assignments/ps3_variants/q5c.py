# ruff: noqa: E501  (catalog of answer sources: long lines stay as a student would write them)
"""render_occupancy: bugs the hidden tests must fail, and correct answers they must accept."""

FUNCTION = "render_occupancy"

BUGS = {
    "product_of_occupancy": "\ndef render_occupancy(grid, axis):\n    return torch.prod(grid, dim=axis)\n",
    "one_minus_product_of_occupancy": "\ndef render_occupancy(grid, axis):\n    return 1 - torch.prod(grid, dim=axis)\n",
    "clamped_sum": "\ndef render_occupancy(grid, axis):\n    return grid.sum(dim=axis).clamp(max=1)\n",
    "max_along_axis": "\ndef render_occupancy(grid, axis):\n    return grid.max(dim=axis).values\n",
    "mean_along_axis": "\ndef render_occupancy(grid, axis):\n    return grid.mean(dim=axis)\n",
    "axis_off_by_one": "\ndef render_occupancy(grid, axis):\n    return 1 - torch.prod(1 - grid, dim=axis - 1)\n",
    "detached": "\ndef render_occupancy(grid, axis):\n    return (1 - torch.prod(1 - grid, dim=axis)).detach()\n",
    "keepdim": "\ndef render_occupancy(grid, axis):\n    return 1 - torch.prod(1 - grid, dim=axis, keepdim=True)\n",
    "hard_coded_float32": "\ndef render_occupancy(grid, axis):\n    return 1 - torch.prod(1 - grid.float(), dim=axis)\n",
}

CORRECT = {
    "log_space": "\ndef render_occupancy(grid, axis):\n    return 1 - torch.exp(torch.log1p(-grid).sum(dim=axis))\n",
    "movedim_loop": """
def render_occupancy(grid, axis):
    g = grid.movedim(axis, 0)
    empty = torch.ones_like(g[0])
    for k in range(g.shape[0]):
        empty = empty * (1 - g[k])
    return 1 - empty
""",
}

# Weakness classes of issue 11 (class letter, source): (c) arguments changed in place.
WEAKNESS = {
    "grid_complemented_in_place": (
        "c",
        """
def render_occupancy(grid, axis):
    empty = grid.neg_().add_(1)
    return 1 - torch.prod(empty, dim=axis)
""",
    ),
}
BUGS.update({name: source for name, (_cls, source) in WEAKNESS.items()})
