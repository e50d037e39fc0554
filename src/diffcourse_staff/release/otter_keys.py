"""The configuration keys Otter Grader 7.0.0 accepts, read from Otter's own classes.

Otter rejects an unknown top-level key of `# ASSIGNMENT CONFIG` but silently
drops unknown keys under `generate:` and `tests:` (a typo such as
`generate: {threshold: 0.5}` goes unnoticed), so the lint checks every level
against these trees. Reading them from the installed Otter keeps the list
right for the version the course pins.
"""

from __future__ import annotations

import functools

import fica


def _key_tree(config_class: type) -> dict[str, dict | None]:
    tree: dict[str, dict | None] = {}
    for name in dir(config_class):
        key = getattr(config_class, name, None)
        if isinstance(key, fica.Key):
            sub = key.get_subkey_container()
            tree[name] = _key_tree(sub) if sub is not None else None
    return tree


@functools.cache
def assignment_keys() -> dict[str, dict | None]:
    """Keys of `# ASSIGNMENT CONFIG`: name -> subtree (None for a leaf)."""
    from otter.assign.assignment import Assignment

    return _key_tree(Assignment)


@functools.cache
def question_keys() -> dict[str, dict | None]:
    """Keys of a `# BEGIN QUESTION` cell."""
    from otter.assign.question_config import QuestionConfig

    return _key_tree(QuestionConfig)


# Keys of a `""" # BEGIN TEST CONFIG` block inside a test cell (otter/assign/tests_manager.py).
TEST_CONFIG_KEYS = {
    "hidden": None,
    "points": None,
    "success_message": None,
    "failure_message": None,
}


def unknown_keys(config: dict, tree: dict[str, dict | None], prefix: str = "") -> list[str]:
    """Dotted names of the keys of `config` that `tree` does not know, at every level."""
    unknown = []
    for key, value in config.items():
        dotted = f"{prefix}{key}"
        if key not in tree:
            unknown.append(dotted)
        elif tree[key] is not None and isinstance(value, dict):
            unknown.extend(unknown_keys(value, tree[key], dotted + "."))
    return unknown
