"""The policy engine: one student's final grade from their part scores, by course.yml's rules.

The steps, in this order (the syllabus states the same order):

1. Scores. Each assignment is the sum of its parts (for a problem set: the autograded
   notebook and the written PDF); a part that `replaces` another (the GPU grading
   container's scores) takes its place for every student it has a score for. Missing
   and not-yet-graded parts score 0 (the report lists what is pending).
2. Lateness, per part: "Lateness (H:M:S)" less the student's extension, less the grace
   period, rounded up to whole units. An assignment is as late as its latest part.
   Late work on an assignment that accepts none, or later than the hard limit
   (`zero_after`), scores 0. Free units are placed where they raise the final grade
   most (`allocation`), at most `max_late_days_per_assignment` on one assignment; each
   late unit of a part beyond the free ones spent on its assignment costs
   `penalty_percent_per_day` of the part's score (or of its points possible).
3. Drops: within each component, the `drop_lowest` assignments whose removal leaves the
   highest component score (for assignments of equal points: the lowest percentages).
   Excused assignments leave the component altogether.
4. Aggregation: a component's score is its kept points over their points possible
   (assignments weigh by their course.yml points); the final grade is the weighted mean
   of the components (a component with nothing left to grade leaves the mean), as a
   percentage or in points. No rounding: 89.99 is below 90.
5. The grade: the first band (letter) whose minimum the final grade reaches and whose
   per-component minimums are all met; otherwise `below`.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field, replace

from diffcourse_staff.course import Course
from diffcourse_staff.grades.allocation import EPS, better, exhaustive, knapsack
from diffcourse_staff.grades.inputs import Extension, Inputs, PartScore
from diffcourse_staff.grades.lateness import late_units


@dataclass
class PartResult:
    part: str
    label: str  # the Gradescope assignment, or "GPU grading container"
    score: float | None
    max_points: float
    status: str
    lateness_s: int
    submitted: str
    source: str
    late_units: int = 0
    replaced_by: str | None = None  # label of the part whose score stands in for this one
    extra_units: int = 0  # late units beyond the free ones
    earned: float = 0.0
    rule: str = ""  # how earned follows from score, in words and numbers


@dataclass
class AssignmentResult:
    id: str
    title: str
    component: str
    points: float  # the assignment's points in course.yml
    parts: list[PartResult]
    extension: Extension
    no_late: bool
    late_units: int = 0
    cap: int = 0  # free units that could help here
    free_units: int = 0
    dropped: bool = False
    table: list[float] = field(default_factory=list)  # fraction earned with 0..cap free units

    @property
    def excused(self) -> bool:
        return self.extension.excused

    @property
    def possible(self) -> float:
        return sum(p.max_points for p in self.parts)

    @property
    def earned(self) -> float:
        return sum(p.earned for p in self.parts)

    @property
    def fraction(self) -> float:
        return self.earned / self.possible if self.possible else 0.0

    @property
    def pending(self) -> list[str]:
        return [p.label for p in self.parts if p.status == "Ungraded"]


@dataclass
class StudentResult:
    sid: str
    name: str
    email: str
    assignments: list[AssignmentResult]
    components: dict[str, float | None]  # fraction 0..1, None when all of it is excused
    final_fraction: float
    final_value: float  # in the scheme's unit: percent, or points
    grade: str
    free_budget: int
    why: list[str] = field(default_factory=list)  # the ledger's reasons, one per line

    @property
    def free_used(self) -> int:
        return sum(a.free_units for a in self.assignments)

    @property
    def final_percent(self) -> float:
        return 100 * self.final_fraction

    @property
    def pending(self) -> list[str]:
        return [p for a in self.assignments for p in a.pending]


class Grader:
    """Grades students of one course; holds what does not change from student to student."""

    def __init__(self, course: Course):
        self.course = course
        self.policy = course.late_policy
        self.scheme = course.grading_scheme
        self.components = course.grading
        self.total = (
            100.0 if self.scheme.scheme == "percent" else sum(c.weight for c in self.components)
        )
        self.component_of = {aid: c.name for c in self.components for aid in c.assignments}
        self.has_component_minimums = any(b.component_minimums for b in self.scheme.bands)

    # ------------------------------------------------------------ one assignment

    def _parts(self, inputs: Inputs, sid: str, aid: str) -> list[PartResult]:
        """The parts that count, with replacements applied."""
        parts = {p.part: p for p in self.scheme.parts_of(aid)}
        results, replacing = [], {}
        for p in self.scheme.parts_of(aid):
            score = inputs.scores.get((sid, aid, p.part))
            if p.replaces:
                if score is not None and score.score is not None:
                    replacing[p.replaces] = (p, score)
                continue
            if score is None:
                score = PartScore(None, "Missing", 0, "", "no row")
            label = p.gradescope or "GPU grading container"
            results.append(
                PartResult(
                    p.part,
                    label,
                    score.score,
                    inputs.max_points.get((aid, p.part), 0.0),
                    score.status,
                    score.lateness_s,
                    score.submitted,
                    score.source,
                )
            )
        for r in results:
            if r.part in replacing:
                p, score = replacing[r.part]
                label = parts[p.part].gradescope or "GPU grading container"
                was = "none" if r.score is None else f"{r.score:g}"
                r.replaced_by = f"{label} ({score.source}; the Gradescope score was {was})"
                r.score = score.score
                r.status = "Graded"
        return results

    def _assignment(self, inputs: Inputs, sid: str, aid: str) -> AssignmentResult:
        a = self.course.assignment(aid)
        ext = inputs.extensions.get((sid, aid), Extension())
        result = AssignmentResult(
            aid,
            a.title,
            self.component_of[aid],
            a.points,
            self._parts(inputs, sid, aid),
            ext,
            aid in self.policy.no_late_work,
        )
        for p in result.parts:
            if p.score is not None and p.status != "Missing":
                p.late_units = late_units(
                    p.lateness_s,
                    unit_seconds=self.policy.unit_seconds,
                    grace_minutes=self.policy.grace_minutes,
                    extension_units=ext.extra_units,
                )
        result.late_units = max((p.late_units for p in result.parts), default=0)
        if not result.excused and not result.no_late:
            result.cap = min(self.policy.max_late_days_per_assignment, result.late_units)
        result.table = [self._fraction(result, f) for f in range(result.cap + 1)]
        return result

    def _part_earned(self, a: AssignmentResult, p: PartResult, free: int) -> tuple[float, int, str]:
        """(points earned, late units charged, the rule in words) for `free` units spent."""
        unit = self.policy.unit
        if p.score is None:
            return (
                0.0,
                0,
                "pending: counts 0 until graded" if p.status == "Ungraded" else "missing: 0",
            )
        if p.late_units == 0:
            return p.score, 0, "on time"
        if a.no_late:
            return 0.0, 0, f"{p.late_units} {unit}(s) late; this assignment accepts no late work: 0"
        limit = self.policy.zero_after
        if limit is not None and p.late_units > limit:
            return 0.0, 0, f"{p.late_units} {unit}(s) late, more than the limit of {limit}: 0"
        extra = max(0, p.late_units - free)
        if extra == 0:
            return p.score, 0, f"{p.late_units} {unit}(s) late, all covered by free {unit}s"
        rate = self.policy.penalty_percent_per_day / 100
        if self.policy.penalty_basis == "score":
            earned = p.score * max(0.0, 1 - rate * extra)
            how = f"{p.score:g} x (1 - {extra} x {rate * 100:g}%) = {earned:.2f}"
        else:
            earned = max(0.0, p.score - rate * extra * p.max_points)
            how = f"{p.score:g} - {extra} x {rate * 100:g}% x {p.max_points:g} = {earned:.2f}"
        covered = min(free, p.late_units)
        return (
            earned,
            extra,
            f"{p.late_units} {unit}(s) late, {covered} free, {extra} charged: {how}",
        )

    def _fraction(self, a: AssignmentResult, free: int) -> float:
        if not a.possible:
            return 0.0
        return sum(self._part_earned(a, p, free)[0] for p in a.parts) / a.possible

    # ------------------------------------------------------------ aggregation

    def _component_fractions(
        self, records: list[AssignmentResult], fractions: list[float], participation
    ):
        """Per component: (fraction or None, ids dropped), with the best drop choice."""
        by_id = {a.id: (a, f) for a, f in zip(records, fractions, strict=True)}
        out = {}
        for c in self.components:
            if not c.assignments:
                value = participation.get(c.name)
                out[c.name] = ((value or 0.0) / c.points, ())
                continue
            active = [by_id[aid] for aid in c.assignments if not by_id[aid][0].excused]
            if not active:
                out[c.name] = (None, ())
                continue
            drop = min(c.drop_lowest, len(active) - 1)
            best = None
            for dropped in itertools.combinations(range(len(active)), drop):
                kept = [x for i, x in enumerate(active) if i not in dropped]
                pts = sum(a.points for a, _ in kept)
                value = sum(f * a.points for a, f in kept) / pts
                if best is None or value > best[0] + EPS:
                    best = (value, tuple(active[i][0].id for i in dropped))
            out[c.name] = best
        return out

    def _final(self, comps) -> float:
        active = [
            (c.weight, comps[c.name][0]) for c in self.components if comps[c.name][0] is not None
        ]
        weight = sum(w for w, _ in active)
        return sum(w * f for w, f in active) / weight if weight else 0.0

    def _grade(self, final: float, comps) -> tuple[int, str]:
        """(rank: 0 is best, grade) for a final fraction and the component fractions."""
        value = final * self.total
        for rank, band in enumerate(self.scheme.bands):
            if value < band.minimum - EPS:
                continue
            if all(
                self._component_value(name, comps[name][0]) >= minimum - EPS
                for name, minimum in band.component_minimums
            ):
                return rank, band.grade
        return len(self.scheme.bands), self.scheme.below

    def _component_value(self, name: str, fraction: float | None) -> float:
        if fraction is None:
            return float("inf")  # all excused: no minimum applies
        comp = next(c for c in self.components if c.name == name)
        return 100 * fraction if self.scheme.scheme == "percent" else comp.weight * fraction

    def _evaluate(self, records, alloc, participation):
        fractions = [a.table[f] for a, f in zip(records, alloc, strict=True)]
        comps = self._component_fractions(records, fractions, participation)
        final = self._final(comps)
        return final, comps

    # ------------------------------------------------------------ allocation

    def _allocate(self, records: list[AssignmentResult], participation) -> tuple[int, ...]:
        budget = self.policy.free_late_days
        caps = [a.cap for a in records]
        if not any(caps) or budget == 0:
            return tuple(0 for _ in records)
        if self.has_component_minimums:

            def objective(alloc):
                final, comps = self._evaluate(records, alloc, participation)
                return (-self._grade(final, comps)[0], final)

            return exhaustive(caps, budget, objective)
        # Additive once the drops are fixed: best over every drop choice of a knapsack.
        late = [i for i, a in enumerate(records) if a.cap]
        index = {a.id: i for i, a in enumerate(records)}
        active_weight = 0.0
        choices = []  # per component with assignments: list of kept-id tuples
        const_part = 0.0
        for c in self.components:
            if not c.assignments:
                active_weight += c.weight
                const_part += c.weight * (participation.get(c.name) or 0.0) / c.points
                continue
            active = [aid for aid in c.assignments if not records[index[aid]].excused]
            if not active:
                continue
            active_weight += c.weight
            drop = min(c.drop_lowest, len(active) - 1)
            options = [
                (c, tuple(x for x in active if x not in d))
                for d in itertools.combinations(active, drop)
            ]
            if drop and not any(records[index[aid]].cap for aid in active):
                # Nothing late here: its best drop does not depend on the placement.
                def kept_value(option):
                    kept = [records[index[aid]] for aid in option[1]]
                    return sum(a.table[0] * a.points for a in kept) / sum(a.points for a in kept)

                options = [max(options, key=kept_value)]
            choices.append(options)
        best = None
        for combo in itertools.product(*choices):
            coef = [0.0] * len(records)
            for c, kept in combo:
                pts = sum(records[index[aid]].points for aid in kept)
                for aid in kept:
                    coef[index[aid]] = c.weight * records[index[aid]].points / pts / active_weight
            gains = [[coef[i] * v for v in records[i].table] for i in late]
            value, late_alloc = knapsack(gains, budget)
            alloc = [0] * len(records)
            for i, f in zip(late, late_alloc, strict=True):
                alloc[i] = f
            value += sum(coef[i] * a.table[0] for i, a in enumerate(records) if not a.cap)
            alloc = tuple(alloc)
            cand = (value + const_part / active_weight, sum(alloc), alloc)
            if best is None or better(cand, best):
                best = cand
        return best[2]

    # ------------------------------------------------------------ one student

    def grade_student(self, inputs: Inputs, sid: str) -> StudentResult:
        participation = {
            c.name: inputs.participation.get((sid, c.name))
            for c in self.components
            if not c.assignments
        }
        records = [self._assignment(inputs, sid, a.id) for a in self.course.assignments]
        alloc = self._allocate(records, participation)
        final, comps = self._evaluate(records, alloc, participation)
        for a, free in zip(records, alloc, strict=True):
            a.free_units = free
            for p in a.parts:
                p.earned, p.extra_units, p.rule = self._part_earned(a, p, free)
            a.dropped = a.id in comps[a.component][1]
        _, grade = self._grade(final, comps)
        row = inputs.roster.loc[sid]
        result = StudentResult(
            sid,
            str(row["Name"]),
            str(row["Email"]),
            records,
            {name: value for name, (value, _) in comps.items()},
            final,
            final * self.total,
            grade,
            self.policy.free_late_days,
        )
        result.why = self._why(records, alloc, participation, final)
        return result

    def _why(self, records, alloc, participation, final) -> list[str]:
        """Each spent unit's worth, and what one more would have added where it was not spent."""
        unit, lines = self.policy.unit, []
        left = self.policy.free_late_days - sum(alloc)
        fmt = "percentage points" if self.scheme.scheme == "percent" else "points"
        for i, a in enumerate(records):
            if a.free_units:
                without = list(alloc)
                without[i] = 0
                gain = (
                    final - self._evaluate(records, tuple(without), participation)[0]
                ) * self.total
                lines.append(
                    f"{a.id}: {a.free_units} free {unit}(s) spent; they add {gain:.2f} {fmt}"
                    " to the final grade"
                )
            if a.late_units and a.free_units < a.cap:
                more = list(alloc)
                more[i] += 1
                gain = (self._evaluate(records, tuple(more), participation)[0] - final) * self.total
                if gain <= EPS:
                    lines.append(
                        f"{a.id}: a free {unit} here would add nothing to the final grade"
                        " (the assignment is dropped, or scores 0 however late)"
                    )
                    continue
                reason = (
                    "so none was spent on it"
                    if left
                    else f"but moving a free {unit} here from elsewhere would not raise the grade"
                )
                lines.append(
                    f"{a.id}: one more free {unit} here would add {gain:.2f} {fmt}, {reason}"
                )
        return lines

    def grade_all(self, inputs: Inputs) -> list[StudentResult]:
        return [self.grade_student(inputs, sid) for sid in sorted(inputs.roster.index)]


def with_pending_score(
    inputs: Inputs, aid: str, part: str, value: float
) -> tuple[Inputs, list[str]]:
    """Inputs where every not-yet-graded score of (aid, part) is `value`; and whose they were."""
    scores, changed = dict(inputs.scores), []
    for (sid, a, p), s in inputs.scores.items():
        if a == aid and p == part and s.status == "Ungraded":
            scores[(sid, a, p)] = replace(s, score=value, status="Graded")
            changed.append(sid)
    return replace(inputs, scores=scores), sorted(changed)
