"""The mitigation gate recognises standard fixes at the flagged line, and never excuses the flaw
itself (including near-misses: a fix in one branch only, a hard-coded fallback, a check that
comes after the use); swarm findings are anchored on the operation they are about."""

from __future__ import annotations

import dataclasses
import json
import textwrap
from pathlib import Path

import pytest

from swarm_lsp.swarm.audit.anchors import anchor
from swarm_lsp.swarm.audit.findings import Finding
from swarm_lsp.swarm.audit.mitigations import gate_findings, mitigation


def flagged(source: str) -> tuple[str, int]:
    """The source without its `# <-` marker, and the marked line (1-based)."""
    text = textwrap.dedent(source).strip("\n") + "\n"
    line = next(i for i, row in enumerate(text.splitlines(), 1) if row.rstrip().endswith("# <-"))
    return text.replace("  # <-", ""), line


MITIGATED = {
    "parameterised sqlite": (89, '''
        def find(cursor, name):
            query = "SELECT id FROM users WHERE name = ?"
            cursor.execute(query, (name,))  # <-
        '''),
    "sqlalchemy text with binds": (89, '''
        from sqlalchemy import text
        def find(conn, name):
            return conn.execute(text("SELECT id FROM users WHERE name = :n"), {"n": name})  # <-
        '''),
    "argument list": (78, '''
        import subprocess
        def ping(host):
            subprocess.run(["ping", "-c", "1", "--", host], check=True)  # <-
        '''),
    "quoted for the shell": (78, '''
        import os, shlex
        def ping(host):
            os.system("ping -c 1 " + shlex.quote(host))  # <-
        '''),
    "escaped ldap filter": (90, '''
        from ldap3.utils.conv import escape_filter_chars
        def member(conn, user):
            conn.search("dc=example,dc=com", f"(uid={escape_filter_chars(user)})")  # <-
        '''),
    "xpath variables": (643, '''
        def user(tree, name):
            return tree.xpath("//user[@name=$name]", name=name)  # <-
        '''),
    "realpath then commonpath": (22, '''
        import os
        BASE = "/srv/files"
        def read(name):
            path = os.path.realpath(os.path.join(BASE, name))
            if os.path.commonpath([BASE, path]) != BASE:
                raise PermissionError(name)
            return open(path).read()  # <-
        '''),
    "secure_filename": (22, '''
        import os
        from werkzeug.utils import secure_filename
        UPLOADS = "/srv/uploads"
        def save(upload):
            upload.save(open(os.path.join(UPLOADS, secure_filename(upload.filename)), "wb"))  # <-
        '''),
    "host allow-list": (918, '''
        import requests
        from urllib.parse import urlparse
        ALLOWED = {"example.com"}
        def fetch(url):
            if urlparse(url).hostname not in ALLOWED:
                raise ValueError(url)
            return requests.get(url, timeout=5)  # <-
        '''),
    "escaped markup": (79, '''
        from markupsafe import escape
        def greet(name):
            return f"<p>Hello {escape(name)}</p>"  # <-
        '''),
    "safe yaml": (502, '''
        import yaml
        def load(text):
            return yaml.load(text, Loader=yaml.SafeLoader)  # <-
        '''),
    "pbkdf2": (328, '''
        import hashlib
        def digest(password, salt):
            return hashlib.pbkdf2_hmac("sha256", password, salt, 600_000)  # <-
        '''),
    "aes-gcm": (327, '''
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM
        def seal(key, nonce, data):
            return AESGCM(key).encrypt(nonce, data, None)  # <-
        '''),
    "secrets module through an alias": (338, '''
        from secrets import token_urlsafe
        def reset_token():
            return token_urlsafe(32)  # <-
        '''),
    "secret from the environment": (798, '''
        import os
        def client():
            api_key = os.environ["API_KEY"]  # <-
            return api_key
        '''),
    "defusedxml through an alias": (611, '''
        import defusedxml.ElementTree as ET
        def parse(data):
            return ET.fromstring(data)  # <-
        '''),
    "relative-only redirect": (601, '''
        from urllib.parse import urlparse
        def go(target):
            if urlparse(target).netloc:
                target = "/"
            return redirect(target)  # <-
        '''),
    "validated before the session": (501, '''
        def choose(request, session, allowed):
            role = request.form["role"]
            if role not in allowed:
                raise PermissionError(role)
            session["role"] = role  # <-
        '''),
}

FLAWED = {
    "f-string query": (89, '''
        def find(cursor, name):
            cursor.execute(f"SELECT id FROM users WHERE name = '{name}'")  # <-
        '''),
    "escaped in one branch only": (89, '''
        def find(cursor, name, strict):
            if strict:
                name = escape(name)
            cursor.execute("SELECT id FROM users WHERE name = '%s'" % name)  # <-
        '''),
    "query reassigned in a branch": (89, '''
        def find(cursor, name, fast):
            query = "SELECT 1"
            if fast:
                query = "SELECT id FROM users WHERE name = '" + name + "'"
            cursor.execute(query)  # <-
        '''),
    "a program chosen by the input": (78, '''
        import subprocess, shlex
        def run(command):
            subprocess.run(shlex.split(command))  # <-
        '''),
    "list with shell=True": (78, '''
        import subprocess
        def run(cmd):
            subprocess.run(["sh", "-c", cmd], shell=True)  # <-
        '''),
    "realpath without a check": (22, '''
        import os
        BASE = "/srv/files"
        def read(name):
            path = os.path.realpath(os.path.join(BASE, name))
            return open(path).read()  # <-
        '''),
    "check after the use": (22, '''
        import os
        BASE = "/srv/files"
        def read(name):
            data = open(os.path.join(BASE, name)).read()  # <-
            if not os.path.realpath(name).startswith(BASE):
                raise PermissionError(name)
            return data
        '''),
    "yaml without a loader": (502, '''
        import yaml
        def load(text):
            return yaml.load(text, Loader=yaml.Loader)  # <-
        '''),
    "hmac over md5": (328, '''
        import hashlib, hmac
        def sign(key, msg):
            return hmac.new(key, msg, hashlib.md5).hexdigest()  # <-
        '''),
    "from random import": (338, '''
        from random import choice
        def code():
            return "".join(choice("0123456789") for _ in range(6))  # <-
        '''),
    "hard-coded fallback": (798, '''
        import os
        def client():
            api_key = os.environ.get("API_KEY", "sk_live_123")  # <-
            return api_key
        '''),
    "lxml with entities on": (611, '''
        from lxml import etree
        def parse(data):
            return etree.fromstring(data, etree.XMLParser(resolve_entities=True))  # <-
        '''),
    "redirect to input": (601, '''
        def go(request):
            target = request.args["next"]
            if not target:
                target = "/"
            return redirect(target)  # <-
        '''),
    "unvalidated session write": (501, '''
        def choose(request, session):
            session["role"] = request.form["role"]  # <-
        '''),
}


@pytest.mark.parametrize("cwe, source", MITIGATED.values(), ids=MITIGATED.keys())
def test_a_recognised_fix_is_a_mitigation_with_a_reason(cwe, source):
    text, line = flagged(source)
    assert mitigation(text, line, cwe)


@pytest.mark.parametrize("cwe, source", FLAWED.values(), ids=FLAWED.keys())
def test_the_flaw_itself_is_never_excused(cwe, source):
    text, line = flagged(source)
    assert mitigation(text, line, cwe) is None


def test_unknown_classes_unparsable_code_and_lines_without_a_sink_are_kept():
    text, line = flagged(MITIGATED["parameterised sqlite"][1])
    assert mitigation(text, line, 703) is None
    assert mitigation("def broken(:\n    pass\n", 1, 89) is None
    assert mitigation(text, 1, 89) is None  # the def line holds no query


def test_gate_findings_drops_mitigated_and_unlocated_findings_with_reasons():
    text, line = flagged(MITIGATED["argument list"][1])
    snippet = text.splitlines()[line - 1]

    def finding(at: int, cwe: int, snippet: str) -> Finding:
        return Finding("m.py", at, 1, at, 2, cwe, "high", "high", "shell", snippet, "swarm", f"swarm-cwe-{cwe}")

    on_import = finding(1, 78, text.splitlines()[0])  # the import line: no command runs there or after it
    kept, dropped = gate_findings([on_import, finding(line, 78, snippet), finding(line, 78, "not the line")], text)
    assert kept == []
    assert [d["reason"].split(":")[0] for d in dropped] == ["not located", "no flow", "mitigated"]
    assert "no OS command injection operation (CWE-78) on the line or after it" in dropped[1]["reason"]
    assert "arguments are a list" in dropped[2]["reason"]


def swarm_finding(text: str, line: int, cwe: int) -> Finding:
    row = text.splitlines()[line - 1]
    return Finding("m.py", line, 1, line, len(row) + 1, cwe, "high", "low", "auditor's words", row, "swarm",
                   f"swarm-cwe-{cwe}")


COMMAND = '''import subprocess
def ping(request):
    host = request.args["host"]
    subprocess.run(f"ping {host}", shell=True)
'''


def test_a_finding_on_the_input_line_moves_to_the_operation_the_input_reaches():
    moved, why = anchor(swarm_finding(COMMAND, 3, 78), COMMAND)
    assert (moved.start_line, moved.cwe, moved.snippet) == (4, 78, COMMAND.splitlines()[3])
    assert why == "moved from line 3 to the operation on line 4"
    kept, dropped = gate_findings([swarm_finding(COMMAND, 3, 78)], COMMAND)
    assert [f.start_line for f in kept] == [4] and dropped == []  # still a flaw, now on the right line


def test_a_finding_of_the_wrong_class_takes_the_class_of_the_operation_on_its_line():
    moved, why = anchor(swarm_finding(COMMAND, 4, 89), COMMAND)
    assert (moved.cwe, moved.rule_id, moved.rule_name) == (78, "swarm-cwe-78", "OS command injection")
    assert moved.message == "OS command injection: auditor's words" and "not CWE-89" in why


SEAL = '''from cryptography.hazmat.primitives.ciphers import Cipher, algorithms
def seal(key, token, sizes):
    encryptor = Cipher(algorithms.ARC4(key), mode=None).encryptor()
    sealed = encryptor.update(token) + encryptor.finalize()
    sizes.append(len(sealed))
    return sealed
'''


def test_a_weak_primitive_finding_on_the_objects_use_moves_to_where_the_object_was_made():
    moved, why = anchor(swarm_finding(SEAL, 4, 327), SEAL)
    assert (moved.start_line, moved.cwe) == (3, 327)
    assert why == "moved from line 4 to line 3, where the object it uses was made"
    kept, dropped = gate_findings([swarm_finding(SEAL, 4, 327)], SEAL)
    assert [f.start_line for f in kept] == [3] and dropped == []
    elsewhere = swarm_finding(SEAL, 5, 327)  # `sizes` was not made by a cipher: nothing to move to
    assert anchor(elsewhere, SEAL) == (elsewhere, None)
    assert "no broken or risky cipher operation" in gate_findings([elsewhere], SEAL)[1][0]["reason"]


def test_findings_on_unknown_apis_and_bandit_findings_are_not_anchored():
    text = "def f(graph, name):\n    label = name.strip()\n    return graph.run_cypher('MATCH (n {name: ' + label + '})')\n"
    unknown = swarm_finding(text, 2, 89)
    assert anchor(unknown, text) == (unknown, None)
    bandit = dataclasses.replace(swarm_finding(COMMAND, 3, 78), source="bandit", rule_id="B602")
    assert anchor(bandit, COMMAND) == (bandit, None)


CORPUS = Path(__file__).resolve().parents[1] / "fixtures" / "audit_corpus"
CORPUS_ENTRIES = json.loads((CORPUS / "manifest.json").read_text())


@pytest.mark.parametrize("entry", CORPUS_ENTRIES, ids=[e["file"] for e in CORPUS_ENTRIES])
def test_on_the_development_corpus_every_twin_and_no_flawed_file_is_excused_at_its_operation(entry):
    reason = mitigation((CORPUS / entry["file"]).read_text(), entry["line"], entry["cwe"])
    assert (reason is None) == entry["vulnerable"], reason
