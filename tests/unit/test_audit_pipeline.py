"""The audit's deterministic pass (bandit, the location and mitigation gates, the suppressions) is
one function, and its cost is linear in the size of the file: the file is parsed once whatever the
number of findings, and the tree is walked a number of times proportional to the file, not to
findings x file. Counted, never timed."""

from __future__ import annotations

import ast
import asyncio
import threading
from types import SimpleNamespace

import pytest

from swarm_lsp.swarm.audit import flow_index
from swarm_lsp.swarm.audit.bandit_pass import bandit_findings
from swarm_lsp.swarm.audit.pipeline import deterministic_pass
from swarm_lsp.swarm.audit.suppress import Suppressions
from swarm_lsp.swarm.cancel import Cancelled, CancelToken

HEADER = "import hashlib\nimport subprocess\n\n\n"
# One bandit finding each: the first is mitigated (a fixed argument list), the second is kept.
BLOCKS = (
    'def ping_{i}(host):\n    timeout = {i}\n    subprocess.run(["/bin/ping", "-W", str(timeout), "--", host])\n\n\n',
    "def digest_{i}(data):\n    value = hashlib.md5(data).hexdigest()\n    return value[:{i}]\n\n\n",
)


def module(functions: int) -> str:
    return HEADER + "".join(BLOCKS[i % 2].format(i=i) for i in range(functions))


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The sources `ast.parse` was given as text (bandit parses its temporary file's bytes)."""
    seen: list[str] = []
    real = ast.parse

    def counting(source, *args, **kwargs):
        if isinstance(source, str):
            seen.append(source)
        return real(source, *args, **kwargs)

    monkeypatch.setattr(ast, "parse", counting)
    return seen


@pytest.mark.parametrize("functions", [1, 200])
def test_the_file_is_parsed_once_whatever_the_number_of_findings(parses, functions):
    text = module(functions)
    result = deterministic_pass("m.py", text)
    assert len(result.analysed) == functions + 1  # one per function, plus `import subprocess` (B404)
    assert len(result.kept) + len(result.dropped) == len(result.analysed)
    assert parses.count(text) == 1


def test_the_tree_walk_grows_with_the_file_not_with_findings_times_file(monkeypatch: pytest.MonkeyPatch):
    """Every node visit of the gates goes through `ast.iter_child_nodes` (ast.walk) or `children`."""
    texts = {n: module(n) for n in (50, 200)}
    findings = {n: bandit_findings("m.py", text) for n, text in texts.items()}
    visits = {}
    for n, text in texts.items():
        count = 0

        def counting(real):
            def visit(node):
                nonlocal count
                count += 1
                return real(node)
            return visit

        with monkeypatch.context() as patch:
            patch.setattr(ast, "iter_child_nodes", counting(ast.iter_child_nodes))
            patch.setattr(flow_index, "children", counting(flow_index.children))
            deterministic_pass("m.py", text, findings=findings[n])
        visits[n] = count
    assert visits[200] <= 4.5 * visits[50]  # 4x the file and the findings: quadratic work would be 16x


def test_kept_suppressed_and_dropped_are_told_apart():
    text = module(2)
    result = deterministic_pass("m.py", text, Suppressions.from_options(skip=["B404"]))
    assert [f.rule_id for f in result.kept] == ["B324"]
    assert [(f.rule_id, why) for f, why in result.suppressed] == [("B404", "skipped in the configuration")]
    [dropped] = result.dropped
    assert dropped["finding"]["rule_id"] == "B603" and dropped["reason"].startswith("mitigated: the program is fixed")
    assert {f.rule_id for f in result.analysed} == {"B404", "B603", "B324"}


def test_given_findings_replace_bandit_and_within_keeps_one_symbols():
    text = module(4)
    everything = bandit_findings("m.py", text)
    second = deterministic_pass("m.py", text, findings=everything, within=(10, 12))
    assert [(f.rule_id, f.start_line) for f in second.kept] == [("B324", 11)]
    assert second.dropped == [] and second.analysed == everything
    unlocated = deterministic_pass("m.py", "x = 1\n", findings=everything[:1])
    assert unlocated.kept == [] and unlocated.dropped[0]["reason"].startswith("not located")


def test_a_cancelled_pass_stops_between_findings():
    cancel = CancelToken()
    cancel.cancel("stop")
    text = module(3)
    with pytest.raises(Cancelled):
        deterministic_pass("m.py", text, cancel=cancel, findings=bandit_findings("m.py", text))


async def test_the_editor_audit_runs_the_whole_pass_in_the_analysis_process(monkeypatch: pytest.MonkeyPatch,
                                                                              tmp_path):
    from swarm_lsp.server.lsp import diagnostics

    offloaded, published = [], []
    real = diagnostics.in_worker_process_async

    async def recorded(function, *args):
        offloaded.append(function)
        return await real(function, *args)

    monkeypatch.setattr(diagnostics, "in_worker_process_async", recorded)
    document = SimpleNamespace(language="python", path=str(tmp_path / "m.py"), text=module(1), version=3)
    async def notify(method, params):  # serialised off the loop: the protocol's part, stood in for here
        published.append((method, params))

    server = SimpleNamespace(store=SimpleNamespace(get=lambda uri: document), root=tmp_path,
                             config=SimpleNamespace(audit_skip=["B404"]),
                             protocol=SimpleNamespace(notify_serialised_off_loop=notify))
    summary = await diagnostics.publish_audit(server, "file:///m.py")
    assert offloaded == [deterministic_pass]  # bandit, gates and suppressions: one hop, off the loop
    [(method, params)] = published
    assert method == "textDocument/publishDiagnostics" and params.diagnostics == [] and params.version == 3
    assert summary["published"] and summary["findings"] == 0
