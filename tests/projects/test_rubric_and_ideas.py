"""The rubric and the ideas are data, checked against the course file and rendered from it."""

from __future__ import annotations

import re

import pytest
import yaml

from diffcourse_staff.course import load_course
from diffcourse_staff.projects.data import (
    IDEAS_FILE,
    RUBRIC_FILE,
    ProjectDataError,
    load_ideas,
    load_rubric,
)
from diffcourse_staff.projects.rubric import gradescope_text, rubric_markdown


@pytest.fixture(scope="module")
def course():
    return load_course()


def _rubric_variant(tmp_path, mutate):
    data = yaml.safe_load(RUBRIC_FILE.read_text())
    mutate(data)
    path = tmp_path / "rubric.yml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def test_every_milestone_has_a_rubric_worth_its_points(course):
    project, rubric = load_rubric(course)
    for m in project.milestones:
        assert sum(c.points for c in rubric.milestones[m.id]) == m.points


CASES = {
    "points differ from course.yml": (
        lambda d: d["milestones"]["proposal"][0].update(points=5),
        "milestones.proposal",
        "course.yml gives the milestone 10",
    ),
    "unknown milestone": (
        lambda d: d["milestones"].update(poster=d["milestones"].pop("presentation")),
        "milestones.poster",
        "no such milestone",
    ),
    "partial not below full": (
        lambda d: d["milestones"]["final"][0].update(partial_points=10),
        "milestones.final.0",
        "strictly between",
    ),
    "misspelled key": (
        lambda d: d["milestones"]["final"][0].update(ful="x"),
        "milestones.final.0.ful",
        "Extra inputs",
    ),
    "duplicate criterion": (
        lambda d: d["milestones"]["checkin"][1].update(id="pipeline"),
        "milestones.checkin[1].id",
        "duplicate",
    ),
}


@pytest.mark.parametrize("case", CASES)
def test_a_bad_rubric_is_refused_naming_the_key(tmp_path, course, case):
    mutate, key, problem = CASES[case]
    with pytest.raises(ProjectDataError) as err:
        load_rubric(course, _rubric_variant(tmp_path, mutate))
    assert err.value.key == key and problem in err.value.problem


def test_a_milestone_without_rubric_is_refused(tmp_path, course):
    path = _rubric_variant(tmp_path, lambda d: d["milestones"].pop("checkin"))
    with pytest.raises(ProjectDataError, match="milestones.checkin: the milestone has no rubric"):
        load_rubric(course, path)


def test_gradescope_text_has_every_criterion_with_its_three_levels(course):
    project, rubric = load_rubric(course)
    text = gradescope_text(project, rubric)
    blocks = text.split("\n== ")[1:]
    assert len(blocks) == len(project.milestones)
    for block, m in zip(blocks, project.milestones, strict=True):
        questions = re.findall(r"^Q\d+ .* \((\d+) pts\)$", block, re.M)
        assert sum(map(int, questions)) == m.points
        full = [int(x) for x in re.findall(r"^  \+(\d+): Full\.", block, re.M)]
        partial = [int(x) for x in re.findall(r"^  \+(\d+): Partial\.", block, re.M)]
        assert full == [int(q) for q in questions]
        assert all(0 < p < f for p, f in zip(partial, full, strict=True))
        assert block.count("+0: None.") == len(questions)


def test_markdown_rubric_is_one_table_per_milestone_with_totals(course):
    project, rubric = load_rubric(course)
    md = rubric_markdown(project, rubric)
    totals = [int(x) for x in re.findall(r"\| \*\*Total\*\* \| \*\*(\d+)\*\* \|", md)]
    assert totals == [m.points for m in project.milestones]


def test_ideas_cover_both_tracks_with_data_baseline_and_metric():
    ideas = load_ideas()
    assert len(ideas.ideas) >= 8
    per_track = {t: [i for i in ideas.ideas if i.track == t] for t in ideas.tracks}
    assert set(per_track) == {"custom-data", "pretrained"}
    assert all(len(v) >= 4 for v in per_track.values())
    for idea in ideas.ideas:
        assert (
            "hub" not in idea.dataset.lower()
            and "download" not in idea.dataset.replace("no download", "").lower()
        ), idea.id


def test_an_idea_in_an_unknown_track_is_refused(tmp_path):
    data = yaml.safe_load(IDEAS_FILE.read_text())
    data["ideas"][3]["track"] = "video"
    path = tmp_path / "ideas.yml"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(ProjectDataError, match=r"ideas\[3\].track: unknown track 'video'"):
        load_ideas(path)
