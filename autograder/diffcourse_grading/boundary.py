"""What submitted code may reach of the grader's objects through a call channel.

A test passes grader objects into student functions (fake models, optimizers,
lambdas); the worker gets references whose calls and attribute reads come back
here. These rules decide which objects may be handed out and which attributes
read, so that no reference leads to code execution in the grader or changes how
the tests' objects behave later.
"""

from __future__ import annotations

import functools
import types
from dataclasses import dataclass

# Attributes of the tests' modules and optimizers that submitted code may not read (besides
# _private ones): they would let it change how those objects behave later.
DENIED_ATTRIBUTES = ("register", "apply", "load_state_dict", "add_module", "set_", "hook")
# Functions the grader may hand to submitted code (by reference) come from these modules.
TRUSTED_FUNCTION_MODULES = {"__grading_test__", "__grading_reference__"}


@dataclass
class WorkerGlobal:
    """A worker global the grader cannot copy: passed back into calls by name."""

    name: str
    type_name: str = "object"

    def __repr__(self):
        return f"<{self.type_name} {self.name} (in the submission)>"


def encode_worker_global(obj):
    """The wire reference of a WorkerGlobal (None for anything else)."""
    if isinstance(obj, WorkerGlobal):
        return {"$": "global", "name": obj.name}
    return None


def may_export(obj) -> bool:
    """Whether submitted code may hold a reference to this grader object.

    Never modules, classes, code, frames or free builtins (exec, open, os.system):
    through them a submission could run code in the grader. Functions only
    when the tests or the reference defined them.
    """
    if isinstance(obj, (types.ModuleType, type, types.CodeType, types.FrameType)):
        return False
    if isinstance(obj, (types.BuiltinFunctionType, types.BuiltinMethodType)):
        # only methods of library objects (a tensor's, an optimizer's): a builtin type's
        # methods such as str.format read attributes by name, private ones included
        owner = getattr(obj, "__self__", None)
        return not (
            owner is None
            or isinstance(owner, types.ModuleType)
            or type(owner).__module__ == "builtins"
        )
    if isinstance(obj, types.FunctionType):
        return obj.__module__ in TRUSTED_FUNCTION_MODULES
    if isinstance(obj, types.MethodType):
        return not isinstance(obj.__self__, (types.ModuleType, type))
    if type(obj).__module__ == "builtins" and callable(obj):
        return False  # method-wrappers, slot wrappers and the like
    if isinstance(obj, functools.partial):
        return may_export(obj.func)
    return True


def getattr_allowed(obj, name: str) -> bool:
    """Public attributes, except those that would let submitted code change how a
    module or an optimizer of the tests behaves later (hooks, apply, loading state)."""
    if name.startswith("_"):
        return False
    import torch

    if isinstance(obj, (torch.nn.Module, torch.optim.Optimizer)):
        return not any(d in name for d in DENIED_ATTRIBUTES)
    return True
