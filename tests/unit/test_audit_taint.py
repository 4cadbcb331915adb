"""The flow pass: request input that reaches an operation unmitigated is a finding, shown with the
input it comes from; a mitigated operation, a sanitised or allow-listed value, and a library
function handed a path or URL are not."""

from __future__ import annotations

import textwrap

import pytest

from swarm_lsp.swarm.audit import taint
from swarm_lsp.swarm.audit.flow_index import Source
from swarm_lsp.swarm.audit.pipeline import deterministic_pass
from swarm_lsp.swarm.audit.taint import flow_findings


def found(code: str, prefix: str = "") -> list[tuple[int, int, str]]:
    text = prefix + textwrap.dedent(code)
    return [(f.start_line, f.cwe, f.input) for f in flow_findings("app.py", Source(text))]


FLASK = "from flask import redirect, request, session\nimport os, requests, subprocess\n"


def test_a_query_argument_reaching_a_request_through_assignments_is_ssrf_with_its_input():
    findings = flow_findings("app.py", Source(FLASK + textwrap.dedent('''\
        def preview():
            raw = request.args.get("url", "")
            target = raw.strip()
            return requests.get(target, timeout=5).text
    ''')))
    [finding] = findings
    assert (finding.start_line, finding.cwe, finding.source, finding.rule_id) == (6, 918, "flow", "flow-cwe-918")
    assert finding.input == "request.args.get('url', '')"
    assert "reaches requests.get(...)" in finding.message and finding.at_least("medium")
    assert finding.snippet == "    return requests.get(target, timeout=5).text"


def test_a_host_checked_against_an_allow_list_is_not_reported():
    assert found(prefix=FLASK, code='''\
        from urllib.parse import urlparse
        ALLOWED = {"example.org"}
        def preview():
            target = request.args.get("url", "")
            if urlparse(target).hostname not in ALLOWED:
                return "no"
            return requests.get(target, timeout=5).text
    ''') == []


@pytest.mark.parametrize("code, expected", [
    ('''\
        @app.route("/files/<name>")
        def download(name):
            return open(os.path.join("/srv/files", name)).read()
    ''', [(3, 22, "parameter `name`")]),
    ('''\
        @app.route("/files/<name>")
        def download(name):
            base = os.path.realpath("/srv/files")
            path = os.path.realpath(os.path.join(base, name))
            if os.path.commonpath([base, path]) != base:
                return "no"
            return open(path).read()
    ''', []),
    ('''\
        def load(name):
            return open(os.path.join("/srv/files", name)).read()
    ''', []),
], ids=["route parameter", "resolved and checked", "library function"])
def test_path_traversal_needs_request_input_and_no_containment_check(code, expected):
    prefix = FLASK + "app = object()\n"  # three lines before the code
    assert found(code, prefix) == [(line + 3, cwe, what) for line, cwe, what in expected]


def test_an_http_server_handler_reads_its_path_as_input():
    assert found('''\
        import os
        from http.server import BaseHTTPRequestHandler
        from urllib.parse import parse_qs, urlparse

        class Logs(BaseHTTPRequestHandler):
            def do_GET(self):
                name = parse_qs(urlparse(self.path).query)["name"][0]
                with open(os.path.join("/var/log", name)) as handle:
                    self.wfile.write(handle.read())

        class NotAHandler:
            def do_GET(self):
                return open(self.path).read()
    ''') == [(8, 22, "self.path")]


def test_a_parameter_interpolated_into_a_query_is_injection_but_a_query_passed_on_is_not():
    assert found('''\
        import ldap

        def find_user(conn, username):
            conn.search_s("ou=people", ldap.SCOPE_SUBTREE, f"(uid={username})")

        def run(db, sql):
            return db.execute(sql)

        def matches(pattern, text):
            import re
            return re.search(pattern, text)
    ''') == [(4, 90, "parameter `username`")]


def test_sanitised_and_allow_listed_values_stop_the_flow():
    assert found(prefix=FLASK, code='''\
        from markupsafe import escape
        ROLES = {"viewer", "editor"}

        def hello():
            name = request.args["name"]
            return f"<p>Hello {escape(name)}</p>"

        def switch():
            role = request.form["role"]
            if role not in ROLES:
                return "no"
            session["role"] = role
    ''') == []


def test_markup_redirects_commands_and_session_writes_from_request_input():
    assert found(prefix=FLASK, code='''\
        def hello():
            return f"<p>Hello {request.args['name']}</p>"

        def after_login():
            return redirect(request.args["next"])

        def ping():
            subprocess.run("ping -c 1 " + request.form["host"], shell=True)
            subprocess.run(["ping", "-c", "1", request.form["host"]])

        def tenant():
            session["tenant"] = request.headers.get("X-Tenant")
    ''') == [(4, 79, "request.args['name']"), (7, 601, "request.args['next']"),
             (10, 78, "request.form['host']"), (14, 501, "request.headers.get('X-Tenant')")]


def test_a_flaw_bandit_reports_is_reported_once_as_bandits():
    text = FLASK + textwrap.dedent('''\
        def search(db):
            term = request.args["q"]
            return db.execute(f"SELECT * FROM items WHERE name = '{term}'")
    ''')
    assert [(f.cwe, f.source) for f in flow_findings("app.py", Source(text))] == [(89, "flow")]
    kept = deterministic_pass("app.py", text).kept
    assert [(f.start_line, f.cwe, f.source) for f in kept if f.cwe == 89] == [(5, 89, "bandit")]


def test_the_flow_pass_joins_bandits_in_the_deterministic_pass_behind_the_suppressions():
    text = FLASK + textwrap.dedent('''\
        def after_login():
            return redirect(request.args["next"])

        def tracked():
            return redirect(request.args["to"])  # nosec
    ''')
    from swarm_lsp.swarm.audit.suppress import Suppressions

    result = deterministic_pass("app.py", text, Suppressions())
    assert [(f.start_line, f.rule_id) for f in result.kept if f.cwe == 601] == [(4, "flow-cwe-601")]
    assert [(f.start_line, why) for f, why in result.suppressed] == [(7, "# nosec")]


def test_names_are_followed_once_each_so_a_doubling_chain_stays_linear(monkeypatch: pytest.MonkeyPatch):
    chain = "\n".join(f"    x{i + 1} = x{i} + x{i}" for i in range(12))
    text = FLASK + f'def handler():\n    x0 = request.args["a"]\n{chain}\n    return open(x12).read()\n'
    calls = 0
    follow = taint.Flows._followed

    def counted(self, *args):
        nonlocal calls
        calls += 1
        return follow(self, *args)

    monkeypatch.setattr(taint.Flows, "_followed", counted)
    [finding] = flow_findings("app.py", Source(text))
    assert finding.cwe == 22 and finding.input == "request.args['a']"
    assert calls <= 2 * 14  # once per name and line read, not 2 ** 12
