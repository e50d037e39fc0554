"""The grading:, late_policy: and policies: sections of course.yml."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, field_validator, model_validator

from diffcourse_staff.course_schema.values import (
    GRADING_SCHEMES,
    LATE_UNITS,
    PENALTY_BASES,
    Amount,
    Count,
    Invalid,
    Section,
    Text,
    amount,
    choice,
    unique,
)

# --------------------------------------------------------------------------
# grading:


class ComponentEntry(Section):
    """A category of the final grade; one without assignments is scored from the
    participation CSV, out of its own `points`."""

    name: Text
    weight: Amount | None = Field(
        None, description="percent of the final grade (scheme percent) or points (scheme points)"
    )
    assignments: list[Text] = []
    drop_lowest: Count = 0
    points: amount(above=True) = Field(100, description="only for a component without assignments")

    @model_validator(mode="after")
    def drop_lowest_keeps_one(self):
        refs, drop = self.assignments, self.drop_lowest
        if refs and drop >= len(refs):
            raise Invalid(
                f"drops {drop} of {len(refs)} assignments: keep at least one", "drop_lowest"
            )
        if drop and not refs:
            raise Invalid("a component without assignments has nothing to drop", "drop_lowest")
        return self

    @model_validator(mode="after")
    def own_points_only_without_assignments(self):
        if "points" in self.model_fields_set and self.assignments:
            raise Invalid(
                "only a component without assignments (scored from the participation CSV)"
                " has its own points",
                "points",
            )
        return self


class BandEntry(Section):
    """A final grade (Pass, Distinction...) and what it takes, in the scheme's unit."""

    grade: Text
    minimum: Amount
    component_minimums: dict[str, Amount] = Field(
        {}, description="component name -> the least it must reach on its own"
    )


class PartEntry(Section):
    """Where one part of an assignment's score comes from."""

    part: Text
    gradescope: Text | None = Field(None, description="the Gradescope assignment's name")
    container: bool = Field(False, description="the grading container's scores.csv")
    autograded: bool = False
    replaces: Text | None = Field(
        None, description="the part this one takes the place of, where it has a score"
    )

    @model_validator(mode="after")
    def gradescope_or_container(self):
        if (self.gradescope is not None) == self.container:
            raise Invalid("give either gradescope: <assignment name> or container: true")
        return self


class GradingSection(Section):
    scheme: choice("scheme", GRADING_SCHEMES) = "percent"
    components: list[ComponentEntry]
    letter_cutoffs: dict[str, Amount] | None = Field(
        None, description="letter -> lowest percentage (or give bands)"
    )
    bands: list[BandEntry] | None = Field(None, description="best first (or give letter_cutoffs)")
    below: Text | None = Field(None, description="the grade under the lowest band (F, Fail)")
    parts: dict[str, Annotated[list[PartEntry], Field(json_schema_extra={"minItems": 1})]] = Field(
        {}, description="assignment id -> its parts; unlisted: one, named by its title"
    )
    ignore_gradescope: list[Text] = []

    @field_validator("components")
    @classmethod
    def has_components(cls, value):
        if not value:
            raise Invalid("expected a non-empty list of components")
        return value

    @model_validator(mode="after")
    def weights_given_unless_points(self):
        for i, comp in enumerate(self.components):
            if self.scheme == "percent" and comp.weight is None:
                raise Invalid("missing required key(s): weight", "components", i)
        return self

    @model_validator(mode="after")
    def component_names_unique(self):
        unique([c.name for c in self.components], "component name", "components", "name")
        return self

    @model_validator(mode="after")
    def weights_add_up_to_100(self):
        if self.scheme != "percent":
            return self
        total = sum(c.weight for c in self.components)
        if abs(total - 100) > 1e-9:
            raise Invalid(f"weights add up to {total:g}, not 100", "components")
        return self

    @model_validator(mode="after")
    def one_kind_of_grade_bands(self):
        fields = self.model_fields_set
        if ("letter_cutoffs" in fields) == ("bands" in fields):
            raise Invalid(
                "give exactly one of letter_cutoffs (letters) and bands (e.g. Pass/Distinction)"
            )
        if "letter_cutoffs" in fields and not self.letter_cutoffs:
            raise Invalid("expected a mapping of letter to lowest percentage", "letter_cutoffs")
        if "bands" in fields and not self.bands:
            raise Invalid("expected a list of bands, best first", "bands")
        return self

    @model_validator(mode="after")
    def bands_best_first(self):
        for i, band in enumerate(self.bands or ()):
            if i and band.minimum > self.bands[i - 1].minimum:
                raise Invalid(
                    "bands are listed best first (minimums do not increase)", "bands", i, "minimum"
                )
        return self

    @model_validator(mode="after")
    def band_minimums_name_components(self):
        names = [c.name for c in self.components]
        for i, band in enumerate(self.bands or ()):
            for name in band.component_minimums:
                if name not in names:
                    raise Invalid(
                        f"unknown component {name!r} (known: {', '.join(names)})",
                        "bands",
                        i,
                        "component_minimums",
                    )
        unique([b.grade for b in self.bands or ()], "grade", "bands", "grade")
        return self

    @model_validator(mode="after")
    def parts_replace_within_their_assignment(self):
        """Labels unique; a part replaces another part (no chains); the container's part
        replaces one (the replaced part's Max Points hold); one part at least replaces
        nothing; at most one container part."""
        for aid, parts in self.parts.items():
            unique([p.part for p in parts], "part", f"parts.{aid}", "part")
            by_label = {p.part: p for p in parts}
            for i, p in enumerate(parts):
                if p.replaces is None:
                    if p.container:
                        raise Invalid(
                            "the container's scores replace a Gradescope part (its Max Points"
                            " hold)",
                            "parts",
                            aid,
                            i,
                            "replaces",
                        )
                    continue
                target = by_label.get(p.replaces)
                if target is None or target is p:
                    raise Invalid(
                        f"no other part {p.replaces!r} in {aid}", "parts", aid, i, "replaces"
                    )
                if target.replaces is not None:
                    raise Invalid(
                        f"{p.replaces!r} replaces a part itself: no chains",
                        "parts",
                        aid,
                        i,
                        "replaces",
                    )
            if sum(p.container for p in parts) > 1:
                raise Invalid("at most one container part per assignment", "parts", aid)
            if parts and all(p.replaces for p in parts):
                raise Invalid("needs at least one part that replaces nothing", "parts", aid)
        return self

    def default_below(self) -> str:
        return self.below or ("F" if self.letter_cutoffs is not None else "Fail")


# --------------------------------------------------------------------------
# late_policy:, policies:


class LatePolicyEntry(Section):
    free_late_days: Count = Field(description="free late units for the whole term")
    max_late_days_per_assignment: Count
    penalty_percent_per_day: amount(maximum=100) = Field(
        description="per late unit past the free ones"
    )
    unit: choice("unit", tuple(LATE_UNITS))
    grace_minutes: Count = 0
    penalty_basis: choice("basis", PENALTY_BASES) = Field(
        "score", description="a late unit costs this percentage of the score, or of the points"
    )
    zero_after: Count | None = Field(
        None, description="late by more than this many units (after extensions): zero"
    )
    no_late_work: list[Text] = Field([], description="assignment ids that accept no late work")


class PoliciesSection(Section):
    """Policy paragraphs; {placeholders} are filled from this section."""

    collaboration: Text
    ai_use: Text
    regrades: Text
    regrade_window_days: Annotated[int, Field(ge=1)]
    accommodations: Text | None = None
