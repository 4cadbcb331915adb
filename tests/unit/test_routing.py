"""Adaptive routing on a synthetic history: a tier that has kept failing on this kind of work is
skipped (with the reason), only once enough recent outcomes of the same action, language, size and
workspace say so; the last tier is never skipped; the engine then never calls it (scripted backends)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from swarm_lsp.swarm.backends.scripted import ScriptedBackend
from swarm_lsp.swarm.engine import Swarm, SwarmSettings
from swarm_lsp.swarm.ledger import ActionRecord, CallRecord, Ledger
from swarm_lsp.swarm.routing import route
from swarm_lsp.swarm.tiers import parse_tier
from swarm_lsp.swarm.types import ActionRequest, DocumentSnapshot

SMALL, LARGE = "llamacpp:small", "llamacpp:large"
PLAN = [parse_tier(SMALL), parse_tier(LARGE)]
NOW = datetime(2026, 12, 3, 12, 0, tzinfo=timezone.utc)
SOURCE = "def scale(values, factor):\n    return [v * factor for v in values]\n"
GOOD = {"summary": "Multiply every value by a factor.", "params": {"values": "The numbers.", "factor": "The multiplier."},
        "returns": "The scaled numbers.", "raises": {}}


def record(ledger: Ledger, winner: str | None, *, tried=(SMALL, LARGE), action="document", language="python",
           lines=2, workspace="/ws", status=None, age=timedelta(hours=1)) -> None:
    when = NOW - age
    row = ActionRecord(action=action, target="m.py::f", status=status or ("accepted" if winner else "rejected"),
                       workspace=workspace, tier=winner, time=when, language=language, target_lines=lines)
    ledger.record_action(row)
    for tier in tried:
        ledger.record_call(CallRecord(backend=tier, model=tier, action_id=row.action_id, action=action, tier=tier,
                                      workspace=workspace, time=when))
        if tier == winner:
            break


def history(ledger: Ledger, small_wins: int, large_wins: int) -> None:
    for _ in range(small_wins):
        record(ledger, SMALL)
    for _ in range(large_wins):
        record(ledger, LARGE)


def decide(ledger: Ledger, **kind):
    args = {"action": "document", "language": "python", "lines": 2, "workspace": "/ws", **kind}
    return route(PLAN, ledger, now=NOW, **args)


def test_a_tier_that_keeps_failing_is_skipped_with_its_record(tmp_path):
    with Ledger(tmp_path / "l.sqlite3") as ledger:
        history(ledger, small_wins=2, large_wins=9)
        kept, [outcome] = decide(ledger)
    assert [s.name for s in kept] == [LARGE]
    assert outcome.message() == f"skipped {SMALL}: 2 of 11 recent successes"
    assert outcome.to_dict() == {"tier": SMALL, "successes": 2, "outcomes": 11, "estimate": 0.231, "skipped": True}


def test_too_little_history_or_a_good_record_keeps_the_tier(tmp_path):
    with Ledger(tmp_path / "l.sqlite3") as ledger:
        history(ledger, small_wins=0, large_wins=4)  # 0 of 4: not yet enough to judge
        assert [s.name for s in decide(ledger)[0]] == [SMALL, LARGE]
        history(ledger, small_wins=3, large_wins=3)  # 3 of 10
        kept, [outcome] = decide(ledger)
    assert [s.name for s in kept] == [SMALL, LARGE] and (outcome.successes, outcome.outcomes) == (3, 10)


def test_only_the_same_kind_of_work_counts(tmp_path):
    with Ledger(tmp_path / "l.sqlite3") as ledger:
        for other in ({"action": "tests"}, {"language": "rust"}, {"lines": 200}, {"workspace": "/other"},
                      {"age": timedelta(days=31)}, {"status": "cancelled"}):
            for _ in range(10):
                record(ledger, LARGE if "status" not in other else None, **other)
        kept, [outcome] = decide(ledger)
        assert [s.name for s in kept] == [SMALL, LARGE] and outcome.outcomes == 0
        assert decide(ledger, lines=300)[1][0].outcomes == 10  # the large targets are their own bucket


def test_a_tier_not_tried_on_an_action_is_not_judged_by_it(tmp_path):
    with Ledger(tmp_path / "l.sqlite3") as ledger:
        for _ in range(10):
            record(ledger, LARGE, tried=(LARGE,))  # earlier skips: the small tier made no call
        assert decide(ledger)[1][0].outcomes == 0


def test_the_last_tier_is_never_skipped(tmp_path):
    with Ledger(tmp_path / "l.sqlite3") as ledger:
        for _ in range(12):
            record(ledger, None)  # both tiers failed every time
        kept, decided = decide(ledger)
    assert [s.name for s in kept] == [LARGE] and [o.tier for o in decided] == [SMALL]


async def test_the_engine_never_calls_a_skipped_tier_and_says_why(tmp_path):
    request = ActionRequest("document", DocumentSnapshot("m.py", SOURCE, version=1), "scale", workspace="/ws")
    for routing in ("adaptive", "fixed"):
        with Ledger(tmp_path / f"{routing}.sqlite3") as ledger:
            for _ in range(11):
                record(ledger, LARGE, lines=2, age=timedelta(0))
            backends = {SMALL: ScriptedBackend(SMALL, [GOOD]), LARGE: ScriptedBackend(LARGE, [GOOD])}
            events = []
            swarm = Swarm(SwarmSettings(tiers=(SMALL, LARGE), routing=routing), backends.__getitem__, ledger)
            result = await swarm.run(request, events=events.append)
            assert result.status == "accepted"
            if routing == "adaptive":
                assert result.tier == LARGE and backends[SMALL].calls == []
                assert result.evidence["routing"][0] == {"tier": SMALL, "successes": 0, "outcomes": 11,
                                                         "estimate": 0.077, "skipped": True}
                assert f"skipped {SMALL}: 0 of 11 recent successes" in [e.message for e in events]
            else:
                assert result.tier == SMALL and "routing" not in result.evidence
            [row] = ledger.query("SELECT language, target_lines FROM actions ORDER BY id DESC LIMIT 1")
            assert (row["language"], row["target_lines"]) == ("python", 2)
