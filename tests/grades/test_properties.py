"""Properties of the policy engine on random students (hypothesis), for two schemes:
the weighted one (drops, no-late work, hard limit: the knapsack path) and the
Pass/Distinction/Fail one (per-component minimums: the exhaustive path).

- the free-day placement is optimal: no placement within the caps and the budget
  gives a better grade (checked against brute force over every placement);
- submitting earlier never lowers a grade;
- more free days never lower a grade;
- the knapsack agrees with brute force on random gain tables.
"""

from __future__ import annotations

import dataclasses
import itertools
from functools import cache

from grades_helpers import scheme_course
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from diffcourse_staff.course import load_course
from diffcourse_staff.grades.allocation import knapsack
from diffcourse_staff.grades.engine import Grader
from diffcourse_staff.grades.inputs import Extension, PartScore, read_inputs

SCHEMES = ("weighted_5_5_45_45", "pass_distinction_fail")
DAY = 86400
PROPERTY = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@cache
def scheme(name: str):
    course = load_course(scheme_course(name))
    inputs = read_inputs(course, scheme_course(name).parent / "inputs")
    return course, inputs


def gradescope_parts(course):
    return [
        (aid, p.part)
        for aid, parts in course.grading_scheme.parts
        for p in parts
        if not p.container
    ]


@st.composite
def students(draw, name: str):
    """One synthetic student's scores (keyed as in Inputs) and extensions."""
    course, inputs = scheme(name)
    scores = {}
    for aid, part in gradescope_parts(course):
        maximum = inputs.max_points[(aid, part)]
        status = draw(st.sampled_from(["Graded"] * 6 + ["Missing", "Ungraded"]))
        late = draw(
            st.one_of(
                st.just(0),
                st.integers(0, 7 * DAY),
                st.sampled_from([DAY + 14 * 60, DAY + 16 * 60, 2 * DAY, 4 * DAY + 3600]),
            )
        )
        score = draw(st.integers(0, int(2 * maximum))) / 2 if status == "Graded" else None
        scores[("X1", aid, part)] = PartScore(
            score, status, 0 if status == "Missing" else late, "", "t"
        )
    participation = {
        ("X1", c.name): draw(st.integers(0, int(c.points)))
        for c in course.grading
        if not c.assignments
    }
    extensions = {}
    for a in course.assignments:
        if draw(st.integers(0, 5)) == 0:
            extensions[("X1", a.id)] = Extension(draw(st.integers(0, 2)), draw(st.booleans()))
    return scores, participation, extensions


def make_inputs(name, student):
    course, inputs = scheme(name)
    scores, participation, extensions = student
    roster = inputs.roster.iloc[:1].rename(index=lambda _: "X1")
    return dataclasses.replace(
        inputs, roster=roster, scores=scores, participation=participation, extensions=extensions
    )


def rank(grader, grade):
    order = [b.grade for b in grader.scheme.bands] + [grader.scheme.below]
    return order.index(grade)


def brute_force_best(grader, inputs):
    """(best band rank, best final fraction) over every placement, by enumeration."""
    records = [grader._assignment(inputs, "X1", a.id) for a in grader.course.assignments]
    participation = {
        c.name: inputs.participation.get(("X1", c.name))
        for c in grader.components
        if not c.assignments
    }
    budget = grader.policy.free_late_days
    best = None
    for alloc in itertools.product(*(range(a.cap + 1) for a in records)):
        if sum(alloc) > budget:
            continue
        final, comps = grader._evaluate(records, alloc, participation)
        key = (-grader._grade(final, comps)[0], final)
        if best is None or key[0] > best[0] or (key[0] == best[0] and key[1] > best[1]):
            best = key
    return -best[0], best[1]


for_each_scheme = given(
    st.sampled_from(SCHEMES).flatmap(lambda n: st.tuples(st.just(n), students(n)))
)


@PROPERTY
@for_each_scheme
def test_placement_is_optimal(case):
    name, student = case
    course, _ = scheme(name)
    grader, inputs = Grader(course), make_inputs(name, student)
    result = grader.grade_student(inputs, "X1")
    best_rank, best_final = brute_force_best(grader, inputs)
    assert rank(grader, result.grade) == best_rank
    assert abs(result.final_fraction - best_final) < 1e-8
    assert result.free_used <= course.late_policy.free_late_days
    for a in result.assignments:
        assert a.free_units <= course.late_policy.max_late_days_per_assignment


@PROPERTY
@for_each_scheme
def test_submitting_earlier_never_lowers_the_grade(case):
    name, student = case
    course, _ = scheme(name)
    grader = Grader(course)
    scores, participation, extensions = student
    before = grader.grade_student(make_inputs(name, student), "X1")
    for key, s in scores.items():
        if s.lateness_s == 0:
            continue
        for earlier in (0, s.lateness_s // 2, s.lateness_s - DAY, s.lateness_s - 60):
            changed = dict(scores)
            changed[key] = dataclasses.replace(s, lateness_s=max(0, earlier))
            after = grader.grade_student(
                make_inputs(name, (changed, participation, extensions)), "X1"
            )
            assert after.final_fraction >= before.final_fraction - 1e-9, (key, earlier)
            assert rank(grader, after.grade) <= rank(grader, before.grade), (key, earlier)


@PROPERTY
@given(
    case=st.sampled_from(SCHEMES).flatmap(lambda n: st.tuples(st.just(n), students(n))),
    more=st.integers(1, 3),
)
def test_more_free_days_never_lower_the_grade(case, more):
    name, student = case
    course, _ = scheme(name)
    inputs = make_inputs(name, student)
    richer = dataclasses.replace(
        course,
        late_policy=dataclasses.replace(
            course.late_policy, free_late_days=course.late_policy.free_late_days + more
        ),
    )
    before = Grader(course).grade_student(inputs, "X1")
    after = Grader(richer).grade_student(inputs, "X1")
    assert after.final_fraction >= before.final_fraction - 1e-9
    assert rank(Grader(richer), after.grade) <= rank(Grader(course), before.grade)


@settings(max_examples=200, deadline=None)
@given(
    gains=st.lists(
        st.lists(st.floats(0, 10, allow_nan=False), min_size=1, max_size=4), min_size=0, max_size=5
    ),
    budget=st.integers(0, 6),
)
def test_knapsack_matches_brute_force(gains, budget):
    value, alloc = knapsack(gains, budget)
    assert len(alloc) == len(gains) and sum(alloc) <= budget
    assert all(0 <= f < len(g) for f, g in zip(alloc, gains, strict=True))
    assert abs(value - sum(g[f] for g, f in zip(gains, alloc, strict=True))) < 1e-9
    best = max(
        sum(g[f] for g, f in zip(gains, combo, strict=True))
        for combo in itertools.product(*(range(len(g)) for g in gains))
        if sum(combo) <= budget
    )
    # Ties within EPS (1e-9) per item go to fewer days: at most len(gains) x EPS lost.
    assert value >= best - len(gains) * 1e-9 - 1e-12
