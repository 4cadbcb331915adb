"""Secret redaction before anything goes to the cloud (DESIGN.md §8)."""

from __future__ import annotations

import re

import pytest

from swarm_lsp.swarm import redact as redact_module
from swarm_lsp.swarm.redact import load_dotenv_values, redact, redact_messages
from tests.unit.regex_backtracking import backtracks_exponentially

ANTHROPIC_KEY = "sk-ant-api03-AbCdEf0123456789_xyz-abc"
GOOGLE_KEY = "AIzaSyD-9tSrke72PouQMnMX-a7eZSW0jkFMBWY"
AWS_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
JWT = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4ifQ"
    ".SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"
)
PEM = (
    "-----BEGIN RSA PRIVATE KEY-----\n"
    "MIIEpAIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun\n"
    "VTLw7onLRnrq0/IzW7yWR7QkrmBL7jTKEn5u+qKhbwKfBstIs+bMY2Zkp18gnTxK\n"
    "-----END RSA PRIVATE KEY-----"
)


@pytest.mark.parametrize(
    ("text", "secret", "kind"),
    [
        (f'Anthropic(api_key="{ANTHROPIC_KEY}")', ANTHROPIC_KEY, "anthropic_key"),
        ("OPENAI = 'sk-proj-4fGh7Jk9LmN0pQrStUvWxYz12'", "sk-proj-4fGh7Jk9LmN0pQrStUvWxYz12", "openai_key"),
        ("id = 'AKIAIOSFODNN7EXAMPLE'", "AKIAIOSFODNN7EXAMPLE", "aws_access_key_id"),
        (f'AWS_SECRET_ACCESS_KEY = "{AWS_SECRET}"', AWS_SECRET, "aws_secret_key"),
        (f"aws_secret_access_key = {AWS_SECRET}", AWS_SECRET, "aws_secret_key"),
        ("gh = 'ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789'", "ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789", "github_token"),
        ("gho_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789", "gho_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789", "github_token"),
        ("pat: github_pat_11ABCDEFG0123456789_abcdefghij", "github_pat_11ABCDEFG0123456789_abcdefghij", "github_token"),
        ("SLACK = 'xoxb-123456789012-abcdefghijkl'", "xoxb-123456789012-abcdefghijkl", "slack_token"),
        (f"maps('{GOOGLE_KEY}')", GOOGLE_KEY, "google_api_key"),
        (f"session = '{JWT}'", JWT, "jwt"),
        (f'KEY = """{PEM}"""', "MIIEpAIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun", "private_key"),
        ('headers = {"Authorization": "Bearer abc123def456ghi789"}', "abc123def456ghi789", "bearer_token"),
        ("curl -H 'Authorization: Bearer 9f8e7d6c5b4a3210'", "9f8e7d6c5b4a3210", "bearer_token"),
        ('DB = "postgres://admin:s3cr3t-pw@db.internal:5432/app"', "s3cr3t-pw", "url_password"),
        ('password = "hunter22"', "hunter22", "secret_assignment"),
        ("API_KEY=abc123def456", "abc123def456", "secret_assignment"),
        ("secret: s3cr3tValue9", "s3cr3tValue9", "secret_assignment"),
        ("token = 'tok_live_value'", "tok_live_value", "secret_assignment"),
        ('{"client_secret": "cs-98765-zyx"}', "cs-98765-zyx", "secret_assignment"),
        ("const apiKey = 'k-12345-abcde';", "k-12345-abcde", "secret_assignment"),
        ('password: str = "typed-secret-1"', "typed-secret-1", "secret_assignment"),
        ('if password == "admin1234":', "admin1234", "secret_assignment"),
        ("db_pass := \"go-pass-77\"", "go-pass-77", "secret_assignment"),
        ('dsn = "host=db user=app password=inline99 sslmode=require"', "inline99", "secret_assignment"),
        ("https://api.example.com/v1?api_key=XYZ123abc&page=2", "XYZ123abc", "secret_assignment"),
        ('SECRET_KEY = "django-insecure-0123abc"', "django-insecure-0123abc", "secret_assignment"),
    ],
)
def test_secrets_are_replaced_by_a_marker_of_their_kind(text: str, secret: str, kind: str) -> None:
    result = redact(text)
    assert secret not in result.text
    assert f"[REDACTED:{kind}]" in result.text
    assert result.kinds.get(kind, 0) >= 1
    assert result.count == sum(result.kinds.values())


@pytest.mark.parametrize(
    "code",
    [
        "token = get_token()",
        'password = os.environ["X"]',
        'password = os.getenv("DB_PASSWORD")',
        "tokens = tokenize(text)",
        "max_tokens = 512",
        'token_type = "bearer"',
        "self.password = password",
        "def login(user: str, password: str = None) -> Token: ...",
        "cancel_token = CancelToken()",
        "secret = settings.SECRET_KEY,",
        "token = None",
        'password = ""',
        'API_KEY = "${API_KEY}"',
        "password: ${{ secrets.DB_PASSWORD }}",
        'url = f"postgres://{user}:{password}@{host}/db"',
        'headers = {"Authorization": f"Bearer {token}"}',
        "Bearer authentication is described in RFC 6750.",
        'bypass = "abcdef123"',
        "model = 'sk-learn-compatible-estimator'",
        'if text.startswith("-----BEGIN RSA PRIVATE KEY-----"):\n    return parse(text)',
        "The token: a string identifying the session.",
        "for token in tokens:\n    count += len(token)",
    ],
)
def test_ordinary_code_is_left_alone(code: str) -> None:
    result = redact(code)
    assert result.text == code
    assert result.count == 0 and not result.kinds


def test_assignment_keeps_the_name_and_the_quotes() -> None:
    assert redact('db_password = "hunter22"').text == 'db_password = "[REDACTED:secret_assignment]"'
    assert redact("GITHUB_TOKEN=abc123def456").text == "GITHUB_TOKEN=[REDACTED:secret_assignment]"


def test_url_keeps_user_and_host() -> None:
    text = redact("redis://cache:pa55word@redis:6379/0").text
    assert text == "redis://cache:[REDACTED:url_password]@redis:6379/0"


def test_pem_block_goes_whole() -> None:
    result = redact(f"key = '''{PEM}'''")
    assert result.text == "key = '''[REDACTED:private_key]'''"
    truncated = redact(PEM.rsplit("-----END", 1)[0])
    assert "MIIE" not in truncated.text and truncated.kinds == {"private_key": 1}


def test_extra_secrets_are_replaced_everywhere() -> None:
    code = 'conn = connect("db.internal", "Tr0ub4dor&3")\nlog("using Tr0ub4dor&3")'
    result = redact(code, extra_secrets=["Tr0ub4dor&3", "not-in-text"])
    assert "Tr0ub4dor" not in result.text
    assert result.kinds == {"known_secret": 2}


def test_longer_extra_secret_wins_over_a_contained_one() -> None:
    result = redact("x = 'abcdef-123456'", extra_secrets=["abcdef", "abcdef-123456"])
    assert result.text == "x = '[REDACTED:known_secret]'"


def test_counts_add_up_over_kinds() -> None:
    text = f'password = "hunter22"\nid = "AKIAIOSFODNN7EXAMPLE"\nother_password = "second-one"\n{JWT}'
    result = redact(text)
    assert result.kinds == {"secret_assignment": 2, "aws_access_key_id": 1, "jwt": 1}
    assert result.count == 4


def test_redact_messages_copies_and_summarises() -> None:
    messages = [
        {"role": "system", "content": "You review code."},
        {"role": "user", "content": 'API_KEY = "abc123def456"\nprint(1)'},
        {"role": "assistant", "content": [{"type": "text", "text": "token = 'zzz999yyy'"}]},
    ]
    redacted, summary = redact_messages(messages, extra_secrets=["print(1)"])
    assert messages[1]["content"] == 'API_KEY = "abc123def456"\nprint(1)'  # input untouched
    assert redacted[0] == messages[0]
    assert redacted[1]["content"] == 'API_KEY = "[REDACTED:secret_assignment]"\n[REDACTED:known_secret]'
    assert redacted[2]["content"][0]["text"] == "token = '[REDACTED:secret_assignment]'"
    assert summary.count == 3
    assert summary.kinds == {"secret_assignment": 2, "known_secret": 1}


def test_load_dotenv_values(tmp_path) -> None:
    (tmp_path / ".env").write_text(
        "# comment\n"
        "DATABASE_PASSWORD=plain-value-1\n"
        'QUOTED="double quoted value"\n'
        "SINGLE='single-quoted'\n"
        "export EXPORTED=exported-value # trailing comment\n"
        "EMPTY=\n"
        "SHORT=abc12\n"
        "DEBUG=true\n"
        'MULTI="-----BEGIN KEY-----\nline-two\n-----END KEY-----"\n'
    )
    (tmp_path / ".env.local").write_text("LOCAL_TOKEN=local-token-9\nDATABASE_PASSWORD=plain-value-1\n")
    (tmp_path / ".envrc").write_text("NOT_READ=envrc-value-1\n")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / ".env").write_text("NESTED=nested-value-1\n")
    values = load_dotenv_values(tmp_path)
    assert values == [
        "plain-value-1",
        "double quoted value",
        "single-quoted",
        "exported-value",
        "-----BEGIN KEY-----\nline-two\n-----END KEY-----",
        "local-token-9",
    ]


def test_load_dotenv_values_without_files(tmp_path) -> None:
    assert load_dotenv_values(tmp_path) == []
    assert load_dotenv_values(tmp_path / "missing") == []


PATHOLOGICAL = {  # long runs that a pattern retried at every offset would rescan from each one
    "assignments": ("a=" * 50_000, "a=" * 50_000),
    "dotted_name": ("a." * 50_000 + "=x", "a." * 50_000 + "=x"),
    "secret_names": ("token=" * 50_000, "token=[REDACTED:secret_assignment]"),
    "url_userinfo": ("a://b:c" * 30_000, "a://b:c" * 30_000),
    "one_word": ("x" * 300_000, "x" * 300_000),
}  # how long they take: bench/redact_pathological.py


@pytest.mark.parametrize("name", PATHOLOGICAL)
def test_pathological_input_redacts_to_the_expected_text(name: str) -> None:
    text, expected = PATHOLOGICAL[name]
    assert redact(text).text == expected


PATTERNS = {name: value for name, value in vars(redact_module).items() if isinstance(value, re.Pattern)}
PATTERNS.update(redact_module._TOKEN_PATTERNS)
# `_ASSIGNMENT`'s bare value with its possessive `[...]++` turned into a nested `(?:[...]+)+`:
NESTED_VALUE = r"""password\s*=\s*(?P<bare>(?:[^\s"'`,;&(){}\[\]<>]+)+)(?=[\s"'`,;&)}\]]|$)"""


@pytest.mark.parametrize(
    ("pattern", "exponential"),
    [(r"(a+)+b", True), (r"(a*)*b", True), (r"(a|a)*b", True), (r"(?:\w+\s?)*$", True), (r"(x*;x*)*$", True),
     (r"(?:[a-z]{1,3})*$", True), (r"(?=(a+)+b)", True), (r"(?:(a+)+b)++", True), (r"(.*,)*$", True),
     pytest.param(NESTED_VALUE, True, id="nested_assignment_value"),
     (r"(a++)+b", False), (r"(?>a+)+b", False), (r"(?:\.\w+)*", False), (r"a*a*b", False), (r"(?:a|ab)*c", False),
     (r"(?:\\.|[^\\\n])+", False)],
)
def test_the_backtracking_check_tells_exponential_patterns_from_safe_ones(pattern: str, exponential: bool) -> None:
    assert backtracks_exponentially(re.compile(pattern)) is exponential


@pytest.mark.parametrize("name", sorted(PATTERNS))
def test_no_redaction_pattern_backtracks_exponentially(name: str) -> None:
    assert {"_ASSIGNMENT", "_BEARER", "_PEM", "_URL_PASSWORD", "jwt"} <= PATTERNS.keys()
    assert not backtracks_exponentially(PATTERNS[name]), f"{name} can backtrack exponentially: {PATTERNS[name].pattern}"
