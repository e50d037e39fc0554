"""The staff command line and the report builder."""

from __future__ import annotations

import shutil

import pytest

from diffcourse_staff.projects.__main__ import main
from diffcourse_staff.projects.report import build_report
from diffcourse_staff.projects.starter import TEMPLATE


def test_check_validates_every_data_file(capsys):
    assert main(["check"]) == 0
    out = capsys.readouterr().out
    assert "4 milestones with rubrics" in out and out.rstrip().endswith("OK")


def test_errors_are_one_line_with_exit_status_1(tmp_path, capsys):
    assert main(["starter", "video", str(tmp_path / "x")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: unknown track 'video'") and err.count("\n") == 1


def test_gradescope_rubric_from_the_command_line(capsys):
    assert main(["rubric", "--gradescope"]) == 0
    out = capsys.readouterr().out
    assert out.count("\n== ") == 4 and "+0: None." in out


@pytest.mark.skipif(shutil.which("chromium") is None, reason="needs chromium (make browser-deps)")
def test_the_report_template_builds_to_pdf(tmp_path):
    report = tmp_path / "report.md"
    shutil.copy(TEMPLATE, report)
    pdf = build_report(report)
    assert pdf == tmp_path / "report.pdf" and pdf.read_bytes().startswith(b"%PDF")


def test_without_a_browser_the_report_is_html(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    report = tmp_path / "report.md"
    shutil.copy(TEMPLATE, report)
    html = build_report(report)
    assert html.suffix == ".html"
    text = html.read_text()
    assert "<table>" in text and "<h2>4. Quantitative result</h2>" in text
