"""The HTML report: renders from a theory-test folder, self-contained, every section."""

from __future__ import annotations

import pytest
from test_theory import TINY, TINY_THEORY

from ioc_sim.cli.main import main
from ioc_sim.report.html import SECTIONS, build_report


@pytest.fixture(scope="module")
def theory_folder(tmp_path_factory):
    d = tmp_path_factory.mktemp("report")
    (d / "tiny.toml").write_text(TINY, encoding="utf-8")
    (d / "theory.toml").write_text(TINY_THEORY, encoding="utf-8")
    out = d / "out"
    assert (
        main(
            [
                "theory",
                "test",
                str(d / "theory.toml"),
                "--experiment",
                str(d / "tiny.toml"),
                "--out",
                str(out),
                "--workers",
                "1",
                "--quiet",
            ]
        )
        == 0
    )
    assert (
        main(
            [
                "validate",
                "--pattern",
                "P5",
                "--default-only",
                "--quiet",
                "--out",
                str(out / "validation"),
            ]
        )
        == 0
    )
    return out


def test_report_renders_every_section(theory_folder, capsys):
    target = theory_folder / "r.html"
    assert main(["report", str(theory_folder), "--out", str(target)]) == 0
    text = target.read_text(encoding="utf-8")
    for section in SECTIONS:
        assert f"<h2>{section}</h2>" in text, section
    assert "data:image/png;base64," in text  # figures embedded
    assert 'src="http' not in text and "<script" not in text  # nothing fetched
    assert "Kendall" in text and "| P5" not in text and ">P5<" in text
    assert "supported" in text


def test_report_default_path(theory_folder):
    assert main(["report", str(theory_folder)]) == 0
    assert (theory_folder / "report.html").exists()
    assert build_report(theory_folder).startswith("<!DOCTYPE html>")


def test_report_of_a_folder_without_scorecard(tmp_path, capsys):
    assert main(["report", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "scorecard.json" in err and "\n" not in err.strip()
