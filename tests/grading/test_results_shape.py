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


def test_the_total_is_the_sum_of_the_question_scores_as_written():
    # Points split by Otter's rule are repeating fractions; each question's score is
    # written rounded, and the total must not exceed (or differ from) their sum.
    from diffcourse_grading.results import CaseResult, QuestionResult, results_json

    results = [
        QuestionResult(
            f"q{i}",
            10 / 3,
            [CaseResult(True, True, 10 / 9)] * 2 + [CaseResult(False, True, 10 / 9)],
        )
        for i in range(1, 8)
    ]
    out = results_json(results, "", {}, [])
    written = [t["score"] for t in out["tests"] if "max_score" in t]
    assert len(written) == 7 and written[0] == round(20 / 9, 5)
    assert out["score"] == round(sum(written), 5)
