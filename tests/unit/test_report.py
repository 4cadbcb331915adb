"""The savings report (swarm/report.py) on a ledger of known rows (tests/fixtures/report_ledger.py),
against `Ledger.totals()` and figures worked out by hand; and `swarm-lsp report` in-process (table,
JSON, PNG, usage errors) plus once as a subprocess (stdout holds only the report)."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime, timedelta, timezone

import pytest

from swarm_lsp.server import cli
from swarm_lsp.server.workspace import find_workspace
from swarm_lsp.swarm.ledger import Ledger
from swarm_lsp.swarm.report import CLOUD_TOKENS_PER_LOCAL_TOKEN, build_report, parse_since
from tests.fixtures.report_ledger import CLOUD, DAY1, DAY2, LARGE, SMALL, workspaces, write_rows

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
SINCE_DAY2 = datetime(2025, 3, 2, tzinfo=timezone.utc)


@pytest.fixture
def folders(tmp_path):
    folders = workspaces(tmp_path)
    with Ledger() as ledger:  # the test's own ledger (SWARM_LSP_LEDGER_PATH, tests/conftest.py)
        write_rows(ledger, folders)
    return folders


@pytest.fixture
def ledger(folders):
    with Ledger() as book:
        yield book


@pytest.fixture
def in_tmp(tmp_path, monkeypatch):
    """Run the CLI from tmp_path: its workspace is the report's serving root."""
    monkeypatch.chdir(tmp_path)
    return find_workspace(tmp_path)


def cli_json(capsys, *args: str) -> dict:
    assert cli.main(["report", "--json", *args]) == 0
    return json.loads(capsys.readouterr().out)


def test_factor_is_the_stated_one():
    assert CLOUD_TOKENS_PER_LOCAL_TOKEN == 1.16


@pytest.mark.parametrize("filters", [{}, {"since": SINCE_DAY2}, {"workspace": "a"}, {"since": SINCE_DAY2, "workspace": "b"}])
def test_totals_agree_with_the_ledger(ledger, folders, filters):
    workspace = str(folders[filters["workspace"]]) if "workspace" in filters else None
    since = filters.get("since")
    report = build_report(ledger, folders["a"], since, workspace)
    totals = ledger.totals(since=since, workspace=workspace)
    assert report["calls"] == {"total": totals["calls"], "local": totals["local_calls"], "cloud": totals["cloud_calls"],
                               "failed": totals["failed_calls"], "usage_estimated": report["calls"]["usage_estimated"]}
    assert report["tokens"] == {"local": totals["local_tokens"], "cloud": totals["cloud_tokens"],
                                "usage_estimated": totals["estimated_tokens"], "cache_read": totals["cache_read_tokens"],
                                "cache_write": totals["cache_write_tokens"]}
    assert report["actions"]["by_status"] == totals["actions_by_status"]
    assert report["actions"]["total"] == totals["actions"]
    # the breakdowns add up to the totals
    assert sum(a["local_tokens"] for a in report["by_action"].values()) == totals["local_tokens"]
    assert sum(d["cloud_tokens"] for d in report["by_day"]) == totals["cloud_tokens"]
    assert sum(m["tokens"] for m in report["by_model"].values()) == totals["local_tokens"] + totals["cloud_tokens"]
    assert report["all_time"] == ledger.totals() and report["workspace"] == ledger.totals(workspace=str(folders["a"]))


def test_figures_worked_out_by_hand(ledger, folders):
    report = build_report(ledger, folders["a"])
    assert report["message"] is None and report["filters"] == {"since": None, "workspace": None}
    assert report["actions"] == {"total": 6, "by_status": {"accepted": 3, "rejected": 1, "failed": 1, "cancelled": 1},
                                 "accepted_locally": 2, "escalated": 1, "not_accepted": 3}
    assert report["calls"] == {"total": 10, "local": 8, "cloud": 2, "failed": 3, "usage_estimated": 1}
    assert report["tokens"] == {"local": 985, "cloud": 1300, "usage_estimated": 340, "cache_read": 800,
                                "cache_write": 50}
    avoided = report["avoided_cloud_tokens"]
    # the two actions finished locally: 120 + 90 and 340 local tokens, x 1.16
    assert (avoided["local_tokens"], avoided["actions"], avoided["estimate"]) == (550, 2, 638)
    assert avoided["is_estimate"] is True and "ESTIMATE" in avoided["method"] and "1.16" in avoided["method"]
    document = report["by_action"]["document"]
    assert document == {"actions": 3, "by_status": {"accepted": 3, "rejected": 0, "failed": 0, "cancelled": 0},
                        "accepted_locally": 2, "escalated": 1, "not_accepted": 0, "calls": 5, "local_tokens": 670,
                        "cloud_tokens": 1300, "avoided_cloud_tokens_estimate": 638,
                        "elapsed_s": {"median": 6.0, "p90": 10.0}}
    assert report["by_action"]["tests"]["elapsed_s"] == {"median": 8.0, "p90": 8.0}
    assert report["by_action"]["refactor"]["not_accepted"] == 1 and report["by_action"]["refactor"]["escalated"] == 0
    assert set(report["by_action"]) == {"document", "tests", "audit", "refactor"}
    assert report["by_model"] == {
        CLOUD: {"cloud": True, "calls": 2, "failed_calls": 1, "prompt_tokens": 1000, "completion_tokens": 300,
                "tokens": 1300, "usage_estimated_calls": 0, "estimated_tokens": 0, "median_latency_s": 5.0},
        SMALL: {"cloud": False, "calls": 5, "failed_calls": 1, "prompt_tokens": 340, "completion_tokens": 55,
                "tokens": 395, "usage_estimated_calls": 0, "estimated_tokens": 0, "median_latency_s": 1.5},
        LARGE: {"cloud": False, "calls": 3, "failed_calls": 1, "prompt_tokens": 500, "completion_tokens": 90,
                "tokens": 590, "usage_estimated_calls": 1, "estimated_tokens": 340, "median_latency_s": 5.0},
    }
    assert report["by_day"] == [
        {"day": DAY1, "local_tokens": 330, "cloud_tokens": 1300, "avoided_cloud_tokens_estimate": 244},  # 210 x 1.16
        {"day": DAY2, "local_tokens": 655, "cloud_tokens": 0, "avoided_cloud_tokens_estimate": 394},  # 340 x 1.16
    ]


def test_since_and_workspace_filter_every_figure(ledger, folders):
    since = build_report(ledger, folders["a"], SINCE_DAY2)
    assert since["filters"]["since"] == "2025-03-02T00:00:00.000000+00:00"
    assert since["actions"]["total"] == 4 and since["tokens"]["local"] == 655 and since["tokens"]["cloud"] == 0
    assert since["avoided_cloud_tokens"]["estimate"] == 394 and [d["day"] for d in since["by_day"]] == [DAY2]
    only_a = build_report(ledger, folders["a"], workspace=str(folders["a"]))
    assert only_a["actions"]["total"] == 3 and only_a["tokens"] == {
        "local": 340, "cloud": 1300, "usage_estimated": 0, "cache_read": 800, "cache_write": 50}
    assert only_a["avoided_cloud_tokens"]["estimate"] == 244 and set(only_a["by_action"]) == {"document", "audit"}
    both = build_report(ledger, folders["a"], SINCE_DAY2, str(folders["b"]))
    assert both["actions"]["by_status"] == {"accepted": 1, "rejected": 1, "failed": 1, "cancelled": 0}
    assert set(both["by_model"]) == {SMALL, LARGE, CLOUD} and both["by_model"][CLOUD]["median_latency_s"] is None
    assert both["all_time"] == ledger.totals()  # the scope totals ignore the filters


def test_an_empty_ledger_is_a_report_of_zeros(tmp_path):
    with Ledger(tmp_path / "empty.sqlite3") as ledger:
        report = build_report(ledger, tmp_path)
    assert report["message"] == "no actions recorded"
    assert report["actions"]["total"] == 0 and report["tokens"]["local"] == 0
    assert report["avoided_cloud_tokens"]["estimate"] == 0
    assert report["by_action"] == {} and report["by_model"] == {} and report["by_day"] == []
    assert build_report(None, tmp_path) == {"error": "no ledger"}


def test_since_accepts_dates_datetimes_and_relative_times():
    now = datetime(2025, 6, 10, 12, tzinfo=timezone.utc)
    assert parse_since("2025-06-01") == datetime(2025, 6, 1, tzinfo=timezone.utc)
    assert parse_since("2025-06-01T09:30") == datetime(2025, 6, 1, 9, 30, tzinfo=timezone.utc)
    assert parse_since("2025-06-01T09:30+02:00") == datetime(2025, 6, 1, 7, 30, tzinfo=timezone.utc)
    assert parse_since("7d", now) == now - timedelta(days=7)
    assert parse_since(" 24h ", now) == now - timedelta(hours=24)
    for bad in ("yesterday", "2025-13-01", "7w", "-3d", "", "99999999999d"):
        with pytest.raises(ValueError, match="expected YYYY-MM-DD"):
            parse_since(bad, now)


def test_cli_json_is_the_report(folders, in_tmp, capsys):
    with Ledger() as ledger:
        assert cli_json(capsys) == build_report(ledger, in_tmp)
        assert cli_json(capsys, "--since", DAY2, "--workspace", str(folders["b"])) == build_report(
            ledger, in_tmp, SINCE_DAY2, str(folders["b"]))


def test_cli_table_shows_the_key_figures(folders, in_tmp, capsys):
    assert cli.main(["report"]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    for figure in ("savings report", "985", "1,300", "~638", "ESTIMATE", "x 1.16", "by action", "by model",
                   "document", "refactor", SMALL, LARGE, CLOUD, "usage estimated", "340", "10.0"):
        assert figure in out, figure
    assert "no actions recorded" not in out


def test_cli_png_is_a_chart(folders, in_tmp, tmp_path, capsys):
    chart = tmp_path / "tokens.png"
    assert cli.main(["report", "--png", str(chart), "--since", "2025-03-01"]) == 0
    data = chart.read_bytes()
    assert data.startswith(PNG_MAGIC) and len(data) > 10_000
    assert f"wrote {chart}" in capsys.readouterr().err


def test_cli_on_an_empty_ledger(in_tmp, tmp_path, capsys):
    assert cli_json(capsys)["message"] == "no actions recorded"
    assert cli.main(["report", "--png", str(tmp_path / "empty.png")]) == 0
    assert "no actions recorded" in capsys.readouterr().out
    assert (tmp_path / "empty.png").read_bytes().startswith(PNG_MAGIC)


@pytest.mark.parametrize(("args", "message"), [
    (["--since", "last tuesday"], "argument --since: 'last tuesday' is not a time"),
    (["--since", "2025-02-30"], "argument --since: '2025-02-30' is not a time"),
    (["--workspace", "no-such-folder"], "argument --workspace: no-such-folder: not a folder"),
    (["--png", "missing/chart.png"], "argument --png: missing/chart.png: folder missing does not exist"),
    (["--png", "."], "argument --png: .: is a folder"),
])
def test_cli_usage_errors(in_tmp, capsys, args, message):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["report", *args])
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_png_without_matplotlib_names_the_extra(in_tmp, tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # what find_spec reports when it is not installed
    assert cli.main(["report", "--png", str(tmp_path / "chart.png")]) == 2
    assert "pip install 'swarm-lsp[report]'" in capsys.readouterr().err
    assert not (tmp_path / "chart.png").exists()


def test_subprocess_stdout_holds_only_the_json(folders, in_tmp, tmp_path):
    completed = subprocess.run([sys.executable, "-m", "swarm_lsp.server.cli", "report", "--json", "--png",
                                str(tmp_path / "c.png")], capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert completed.returncode == 0, completed.stderr
    assert json.loads(completed.stdout)["tokens"]["local"] == 985
    assert "wrote" in completed.stderr
