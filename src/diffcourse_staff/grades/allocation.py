"""Where a student's free late units go: the placement that gives the best final grade.

The rule (also on the syllabus): free units are spent where they raise the final grade
most, not first come first served. Among placements giving the same grade, the one
spending fewer units wins, then the one spending them on earlier assignments.

Two exact searches:
- `knapsack`: when the grade is a sum of per-assignment terms (the engine makes it so
  by fixing which assignments each component drops and taking the best over all drop
  choices), a dynamic programme over (assignment, units spent): O(n * budget * cap).
- `exhaustive`: any objective (bands with per-component minimums are not additive);
  enumerates every placement, which is few for a term's worth of late work.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

EPS = 1e-9


def better(a: tuple[float, int, tuple[int, ...]], b: tuple[float, int, tuple[int, ...]]) -> bool:
    """a beats b: higher value; then fewer units; then units on earlier assignments."""
    if a[0] > b[0] + EPS:
        return True
    if a[0] < b[0] - EPS:
        return False
    if a[1] != b[1]:
        return a[1] < b[1]
    return a[2] > b[2]


def knapsack(gains: Sequence[Sequence[float]], budget: int) -> tuple[float, tuple[int, ...]]:
    """Maximise sum(gains[i][f_i]) with sum(f_i) <= budget, 0 <= f_i < len(gains[i]).

    Returns the best total and the units f_i per item.
    """
    # best[b]: the best (value, units, allocation) using at most b units on the items so far
    best: list[tuple[float, int, tuple[int, ...]]] = [(0.0, 0, ())] * (budget + 1)
    for g in gains:
        new = []
        for b in range(budget + 1):
            choice = None
            for f in range(min(len(g) - 1, b) + 1):
                v, units, alloc = best[b - f]
                cand = (v + g[f], units + f, alloc + (f,))
                if choice is None or better(cand, choice):
                    choice = cand
            new.append(choice)
        best = new
    value, _, alloc = best[budget]
    return value, alloc


def placements(caps: Sequence[int], budget: int):
    """Every (f_0, ..., f_n-1) with 0 <= f_i <= caps[i] and sum <= budget."""
    if not caps:
        yield ()
        return
    for f in range(min(caps[0], budget) + 1):
        for rest in placements(caps[1:], budget - f):
            yield (f, *rest)


def exhaustive(
    caps: Sequence[int], budget: int, objective: Callable[[tuple[int, ...]], Any]
) -> tuple[int, ...]:
    """The placement (f_i <= caps[i], sum <= budget) with the largest objective.

    `objective` returns something comparable whose last element is a float (ties
    within EPS on it count as equal); ties break as in `knapsack`.
    """
    best_alloc, best_key = None, None
    for alloc in placements(caps, budget):
        key = objective(alloc)
        if best_key is None:
            best_alloc, best_key = alloc, key
            continue
        head, tail = tuple(key[:-1]), key[-1]
        best_head, best_tail = tuple(best_key[:-1]), best_key[-1]
        if head != best_head:
            if head > best_head:
                best_alloc, best_key = alloc, key
            continue
        if better((tail, sum(alloc), alloc), (best_tail, sum(best_alloc), best_alloc)):
            best_alloc, best_key = alloc, key
    return tuple(best_alloc) if best_alloc is not None else ()
