"""results.json has one home (diffcourse_grading.results): the staff tools write the
results of a grading that left none through it, in the runner's shape and words."""

from __future__ import annotations

from diffcourse_grading.results import not_graded_results

from diffcourse_staff.release import grade


def test_staff_fallback_is_the_runners_own():
    questions = {"q1": 2.0, "q2": 3.5}
    staff = grade.not_graded_results(questions, "grading ran past the outer time limit")
    assert staff == not_graded_results(questions, "grading ran past the outer time limit")
    entries = {t["name"]: t for t in staff["tests"] if "max_score" in t}
    assert {q: (t["score"], t["max_score"]) for q, t in entries.items()} == {
        "q1": (0, 2.0),
        "q2": (0, 3.5),
    }
    for t in entries.values():
        assert "not graded: grading ran past the outer time limit" in t["output"]
    assert staff["score"] == 0 and "did not finish" in staff["output"]
    # the staff part the release gates and the batch read
    assert set(staff["extra_data"]["diffcourse_grading"]["questions"]) == {"q1", "q2"}
