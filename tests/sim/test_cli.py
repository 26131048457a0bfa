"""`rooms sim` from the command line: outputs, errors, exit codes."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from rooms_cli import app

runner = CliRunner()


def test_sim_writes_report_and_plots(tmp_path: Path) -> None:
    result = runner.invoke(app, ["sim", "default", "--hours", "1", "--out", str(tmp_path), "-q"])
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["all_invariants_hold"] is True
    assert (tmp_path / "report.md").exists()
    assert len(list(tmp_path.glob("*.png"))) == 5


def test_bad_scenario_file_names_the_field_without_a_traceback(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('name = "bad"\n[agents]\nnoise = "many"\n')
    result = runner.invoke(app, ["sim", str(bad), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert "agents.noise" in result.output
    assert "Traceback" not in result.output


def test_unknown_scenario_lists_the_bundled_ones(tmp_path: Path) -> None:
    result = runner.invoke(app, ["sim", "nope", "--out", str(tmp_path)])
    assert result.exit_code == 2
    assert "default" in result.output


def test_help_documents_every_option() -> None:
    result = runner.invoke(app, ["sim", "--help"])
    assert result.exit_code == 0
    for option in ("--seed", "--out", "--hours", "--plots", "--quiet"):
        assert option in result.output
