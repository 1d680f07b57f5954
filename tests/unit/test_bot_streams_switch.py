"""Who turns bot streams on: the CLI and the server (unless TRADEWARDEN_BOT_STREAMS=0), not RunnerConfig."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from tradewarden.cli.main import app
from tradewarden.services.bots.runner import RunnerConfig
from tradewarden.services.bots.streams import STREAMS_ENV, streams_enabled


def test_runner_config_keeps_streams_off_by_default() -> None:
    assert RunnerConfig().streams is False  # tests driving a virtual clock stay on REST quotes


@pytest.mark.parametrize(("value", "on"), [(None, True), ("1", True), ("0", False), ("off", False)])
def test_env_switch(monkeypatch: pytest.MonkeyPatch, value: str | None, on: bool) -> None:
    if value is None:
        monkeypatch.delenv(STREAMS_ENV, raising=False)
    else:
        monkeypatch.setenv(STREAMS_ENV, value)
    assert streams_enabled() is on


def test_runner_command_has_no_streams_flag() -> None:
    result = CliRunner().invoke(app, ["runner", "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0 and "--no-streams" in result.output
