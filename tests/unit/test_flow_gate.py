"""The flow gate on swarm findings: an operation of the finding's class must be there, and the input
the auditor names must reach it; what the gate cannot follow is kept."""

from __future__ import annotations

import textwrap

import pytest

from swarm_lsp.swarm.audit.findings import CWE_CLASSES, Finding
from swarm_lsp.swarm.audit.mitigations import gate_findings

WEB = textwrap.dedent('''\
    import hashlib
    import subprocess

    import requests

    from flask import request


    def user_row(db, user_id):
        cur = db.cursor()
        query = f"SELECT * FROM users WHERE id = {user_id}"
        cur.execute(query)
        return cur.fetchone()


    def ping_safe(host):
        return subprocess.run(["ping", "-c", "1", host], check=False).returncode


    def each(db, names):
        for name in names:
            db.execute("DELETE FROM t WHERE n = '%s'" % name)


    def preview():
        target = request.args.get("url", "")
        return requests.get(target, timeout=5).text


    def digest(data):
        tag = data.strip()
        return hashlib.md5(tag.encode()).hexdigest()
''')


def line_of(text: str, fragment: str) -> int:
    return next(i for i, row in enumerate(text.splitlines(), 1) if fragment in row)


def finding(fragment: str, cwe: int, named: str = "") -> Finding:
    line = line_of(WEB, fragment)
    row = WEB.splitlines()[line - 1]
    return Finding("web.py", line, 1, line, len(row) + 1, cwe, "high", "medium", "the auditor's words", row,
                   "swarm", f"swarm-cwe-{cwe}", CWE_CLASSES[cwe], input=named)


def judged(*findings: Finding) -> tuple[list[Finding], list[str]]:
    kept, dropped = gate_findings(list(findings), WEB)
    return kept, [d["reason"] for d in dropped]


@pytest.mark.parametrize("fragment, cwe, why", [
    ("cur = db.cursor()", 78, "no OS command injection operation (CWE-78) on the line or after it in the function"),
    ("return cur.fetchone()", 90, "no LDAP injection operation (CWE-90) on the line or after it in the function"),
    ("def ping_safe(host):", 89, "no SQL injection operation (CWE-89) on the line or after it in the function"),
    ("tag = data.strip()", 327, "on the line"),
])
def test_a_class_with_no_operation_of_that_class_is_dropped_with_the_reason(fragment, cwe, why):
    kept, reasons = judged(finding(fragment, cwe))
    assert kept == [] and reasons[0].startswith("no flow: ") and why in reasons[0]


def test_the_named_input_must_reach_the_operation():
    kept, reasons = judged(finding("cur.execute(query)", 89, "user_id"))
    assert [f.input for f in kept] == ["user_id"]
    kept, reasons = judged(finding("cur.execute(query)", 89, "request.args['id']"))
    assert kept == [] and reasons == ["no flow: the input the auditor named, `request.args['id']`, "
                                      f"does not reach line {line_of(WEB, 'cur.execute(query)')}"]


def test_the_line_that_builds_the_query_is_an_operation_the_input_reaches():
    kept, _ = judged(finding("query = f", 89, "user_id"))
    assert [(f.start_line, f.input) for f in kept] == [(line_of(WEB, "query = f"), "user_id")]
    kept, reasons = judged(finding("cur = db.cursor()", 89, "user_id"))  # moved to the query, reached
    assert [(f.start_line, f.input) for f in kept] == [(line_of(WEB, "query = f"), "user_id")]


def test_an_input_named_by_the_request_field_it_is_read_from_reaches_the_operation():
    kept, _ = judged(finding("requests.get(target", 918, "url"))  # target = request.args.get("url", "")
    assert [f.input for f in kept] == ["url"]
    kept, reasons = judged(finding("requests.get(target", 918, "host"))
    assert kept == [] and "`host`, does not reach" in reasons[0]


@pytest.mark.parametrize("named", ["name", "the user's name", ""])
def test_what_the_gate_cannot_follow_or_read_is_kept(named):
    kept, _ = judged(finding("db.execute(\"DELETE", 89, named))  # `name` is a loop target
    assert len(kept) == 1


def test_a_weak_primitive_on_its_line_is_kept_whatever_input_is_named():
    kept, _ = judged(finding("hashlib.md5(", 328, "nothing"))
    assert [f.cwe for f in kept] == [328]
