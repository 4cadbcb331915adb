"""Secret redaction for everything that leaves the machine (DESIGN.md §8).

`redact` replaces secrets with `[REDACTED:<kind>]`. Provider tokens with a recognisable shape
(PEM private keys, JWTs, Anthropic/OpenAI/GitHub/Slack/Google/Stripe keys, AWS key ids, bearer
tokens, passwords in URLs) are replaced wherever they appear. Literal values assigned to a
secret-sounding name (`password = "..."`, `API_KEY=...`, `"token": "..."`) lose the value but keep
the name, so the code stays readable. Exact values passed as `extra_secrets` (the workspace's
`.env` values, see `load_dotenv_values`) are replaced wherever they occur. Provider shapes live in
`swarm.redact_patterns`. `originals` (marker -> the distinct values it replaced) lets `restore` map
a marker a cloud reply quotes back; a marker that stood for several values is ambiguous and stays.

The assignment rule errs towards leaving code alone: the name must *end* in a secret word
(`db_password`, `authToken`, but not `token_type` or `max_tokens`), and an unquoted value is only
taken for a secret when it cannot be a code reference (`os.environ["X"]`, `get_token()`,
`settings.API_KEY`, `None` and numbers are left as they are).
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping

from swarm_lsp.swarm.redact_patterns import PEM as _PEM
from swarm_lsp.swarm.redact_patterns import TOKEN_PATTERNS as _TOKEN_PATTERNS

log = logging.getLogger(__name__)

MIN_DOTENV_VALUE = 6  # shorter .env values ("true", "8080", "dev") would mangle ordinary code
_MAX_DOTENV_BYTES = 1_000_000


@dataclass(frozen=True)
class RedactionResult:
    text: str
    count: int = 0
    kinds: Mapping[str, int] = field(default_factory=dict)  # kind -> number of replacements
    originals: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # marker -> distinct values


@dataclass(frozen=True)
class RedactionSummary:
    """What `redact_messages` replaced across all messages."""

    count: int = 0
    kinds: Mapping[str, int] = field(default_factory=dict)
    originals: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


def marker(kind: str) -> str:
    return f"[REDACTED:{kind}]"


# Only the token after the scheme word is replaced; `Bearer {token}` / `Bearer $TOKEN` never match.
_BEARER = re.compile(r"(?i)\b(bearer|basic)(\s+)([A-Za-z0-9._~+/-]{8,}=*)(?![A-Za-z0-9._~+/=-])")
_URL_PASSWORD = re.compile(r"(?i)\b([a-z][a-z0-9+.-]{0,30}://[^\s:/?#@\"'<>]{0,256}:)([^\s/?@\"'<>]{1,512}+)(@)")

_SECRET_WORDS = (
    r"(?:password|passwd|passphrase|secret|token|api[_-]?key|access[_-]?key|private[_-]?key|secret[_-]?key"
    r"|(?:signing|encryption|hmac|master|account)[_-]?key)"
)
# A name ending in a secret word, then `=`, `:`, `==`, `:=` or `=>` (a type annotation may sit
# between), then a quoted or bare literal. Only names ending in a secret word match at all, which
# keeps the scan linear on long `a=b=c` runs.
_ASSIGNMENT = re.compile(
    r"""(?<![\w$.-])
    (?P<kq>["']?)(?P<name>(?=[A-Za-z_])[\w.-]{0,100}?(?i:{words}|pass))(?![\w.-])(?P=kq)
    (?:[ \t]*:[ \t]*&?(?:'\w+[ \t]+)?[A-Za-z_][\w.]*(?:\[[^\]\n]*\])?(?:[ \t]*\|[ \t]*[A-Za-z_][\w.]*)*(?=[ \t]*=))?
    [ \t]*(?:==|:=|=>|=|:)[ \t]*
    (?:
        (?P<q>["'`])(?P<qval>(?:\\.|(?!(?P=q))[^\\\n])+)(?P=q)
      | (?P<bare>[^\s"'`,;&(){}\[\]<>]++)(?=[\s"'`,;&)}\]]|$)
    )""".replace("{words}", _SECRET_WORDS),
    re.VERBOSE,
)
_SECRET_NAME_END = re.compile(f"{_SECRET_WORDS}$", re.IGNORECASE)
_PASS_END = re.compile(r"(?:(?:^|[_.-])(?:pass|PASS|Pass)|[a-z]Pass)$")  # `db_pass`, `dbPass`; not `bypass`
_CODE_REFERENCE = re.compile(r"[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)*")
_NUMBER = re.compile(r"[-+]?(?:0[xX][0-9a-fA-F_]+|[\d_]*\.?\d[\d_]*(?:[eE][-+]?\d+)?)")
_PLACEHOLDER = re.compile(
    r"(?i)(?:\$\{?[\w.:-]*\}?|\{\{.*\}\}|\{[\w.]*\}|%\(\w+\)s|%s|<[^>]*>|\*+|x+|\.\.\.|\[REDACTED:[\w-]+\].*)"
)


def _is_secret_name(name: str) -> bool:
    return bool(_SECRET_NAME_END.search(name) or _PASS_END.search(name))


def _is_placeholder(value: str) -> bool:
    return not value.strip() or bool(_PLACEHOLDER.fullmatch(value.strip()))


def _looks_like_code(bare: str) -> bool:
    """An unquoted value that is a number, a name or an attribute path is code, not a secret."""
    if _NUMBER.fullmatch(bare):
        return True
    if _CODE_REFERENCE.fullmatch(bare):
        return "." in bare or not any(ch.isdigit() for ch in bare)
    return False


class _Redactor:
    def __init__(self, originals: dict[str, dict[str, None]] | None = None) -> None:
        self.kinds: Counter[str] = Counter()
        self.originals = originals if originals is not None else {}

    def hide(self, kind: str, value: str) -> str:
        """Count a replacement of `value` and return its marker."""
        self.kinds[kind] += 1
        if "[REDACTED:" in value:  # a marker from an earlier pass (`pw = "x:[REDACTED:jwt]"`): keep it whole
            value = restore(value, self.originals)
        self.originals.setdefault(marker(kind), {})[value] = None
        return marker(kind)

    def sub(self, pattern: re.Pattern[str], kind: str, text: str) -> str:
        def replace(match: re.Match[str]) -> str:
            return self.hide(kind, match.group(0))

        return pattern.sub(replace, text)

    def bearer(self, text: str) -> str:
        def replace(match: re.Match[str]) -> str:
            token = match.group(3)
            if _CODE_REFERENCE.fullmatch(token) and not any(ch.isdigit() for ch in token):
                return match.group(0)  # prose ("Bearer authentication") or a name, not a token
            return match.group(1) + match.group(2) + self.hide("bearer_token", token)

        return _BEARER.sub(replace, text)

    def url_password(self, text: str) -> str:
        def replace(match: re.Match[str]) -> str:
            if _is_placeholder(match.group(2)):
                return match.group(0)
            return match.group(1) + self.hide("url_password", match.group(2)) + match.group(3)

        return _URL_PASSWORD.sub(replace, text)

    def known(self, text: str, secrets: list[str]) -> str:
        for secret in secrets:  # longest first, so a value containing another goes whole
            found = text.count(secret)
            if found:
                text = text.replace(secret, self.hide("known_secret", secret))
                self.kinds["known_secret"] += found - 1  # `hide` counted the first
        return text

    def assignments(self, text: str) -> str:
        pieces: list[str] = []
        pos = 0
        while (match := _ASSIGNMENT.search(text, pos)) is not None:
            group = "qval" if match.group("qval") is not None else "bare"
            pieces.append(text[pos : match.start(group)])
            kind = _assignment_kind(match)
            if kind is None:
                # Not a secret, but keep scanning inside the value: a DSN string can hold `password=...`.
                pos = match.start(group)
                continue
            pieces.append(self.hide(kind, match.group(group)))
            pos = match.end(group)
        pieces.append(text[pos:])
        return "".join(pieces)


def _assignment_kind(match: re.Match[str]) -> str | None:
    """The kind of secret an `_ASSIGNMENT` match assigns, or None when it is not one."""
    name = match.group("name")
    if not _is_secret_name(name):
        return None
    quoted = match.group("qval")
    value = quoted if quoted is not None else match.group("bare")
    if _is_placeholder(value) or (quoted is None and _looks_like_code(value)):
        return None
    if match.group("q") == "`" and "${" in value:
        return None  # a JS template string builds the value from code
    lowered = name.lower()
    return "aws_secret_key" if "aws" in lowered and "secret" in lowered else "secret_assignment"


def _prepare_secrets(extra_secrets: Iterable[str]) -> list[str]:
    unique = {s for s in extra_secrets if isinstance(s, str) and s.strip()}
    return sorted(unique, key=len, reverse=True)


def _frozen(originals: Mapping[str, Mapping[str, None]]) -> dict[str, tuple[str, ...]]:
    return {key: tuple(values) for key, values in originals.items()}


def restore(text: str, originals: Mapping[str, Iterable[str]]) -> str:
    """Map each marker in `text` back to the value it replaced, when it replaced exactly one."""
    for mark, values in originals.items():
        if mark in text and len(distinct := tuple(dict.fromkeys(values))) == 1:
            text = text.replace(mark, distinct[0])
    return text


def restore_json(value: Any, originals: Mapping[str, Iterable[str]]) -> Any:
    """`restore` applied to every string (keys included) in decoded JSON."""
    if isinstance(value, str):
        return restore(value, originals)
    if isinstance(value, list):
        return [restore_json(item, originals) for item in value]
    if isinstance(value, dict):
        return {restore_json(key, originals): restore_json(item, originals) for key, item in value.items()}
    return value


def _redact(text: str, secrets: list[str], originals: dict[str, dict[str, None]] | None = None) -> RedactionResult:
    redactor = _Redactor(originals)
    text = redactor.sub(_PEM, "private_key", text)
    for kind, pattern in _TOKEN_PATTERNS:
        text = redactor.sub(pattern, kind, text)
    text = redactor.bearer(text)
    text = redactor.url_password(text)
    text = redactor.known(text, secrets)
    text = redactor.assignments(text)
    return RedactionResult(text=text, count=sum(redactor.kinds.values()), kinds=dict(redactor.kinds),
                           originals=_frozen(redactor.originals))


def redact(text: str, *, extra_secrets: Iterable[str] = ()) -> RedactionResult:
    """Replace every secret found in `text` with `[REDACTED:<kind>]`."""
    return _redact(text, _prepare_secrets(extra_secrets))


def redact_messages(
    messages: Iterable[Mapping[str, Any]], extra_secrets: Iterable[str] = ()
) -> tuple[list[dict[str, Any]], RedactionSummary]:
    """Redact the content of chat messages (str, or a list of `{"type": "text", "text": ...}` blocks).

    Returns new message dicts; the input is not modified.
    """
    secrets = _prepare_secrets(extra_secrets)
    total: Counter[str] = Counter()
    originals: dict[str, dict[str, None]] = {}  # shared, so a marker maps back only if unambiguous in all

    def clean(text: str) -> str:
        result = _redact(text, secrets, originals)
        total.update(result.kinds)
        return result.text

    redacted: list[dict[str, Any]] = []
    for message in messages:
        copy = dict(message)
        content = copy.get("content")
        if isinstance(content, str):
            copy["content"] = clean(content)
        elif isinstance(content, list):
            copy["content"] = [
                {**block, "text": clean(block["text"])}
                if isinstance(block, dict) and isinstance(block.get("text"), str)
                else block
                for block in content
            ]
        elif content is not None:
            raise TypeError(f"message content must be a string or a list of blocks, not {type(content).__name__}")
        redacted.append(copy)
    return redacted, RedactionSummary(count=sum(total.values()), kinds=dict(total), originals=_frozen(originals))


def _dotenv_files(workspace: Path) -> list[Path]:
    try:
        candidates = sorted(workspace.glob(".env*"))
    except OSError:
        return []
    return [p for p in candidates if (p.name == ".env" or p.name.startswith(".env.")) and p.is_file()]


def _parse_dotenv(text: str) -> list[str]:
    values: list[str] = []
    lines = iter(text.splitlines())
    for line in lines:
        stripped = line.strip()
        if not stripped or stripped.startswith("#") or "=" not in stripped:
            continue
        if stripped.startswith("export "):
            stripped = stripped[len("export ") :].lstrip()
        _key, _, value = stripped.partition("=")
        value = value.strip()
        if value[:1] in ("'", '"'):
            quote = value[0]
            body = value[1:]
            while quote not in body:  # a quoted value may span lines (e.g. a PEM key)
                following = next(lines, None)
                if following is None:
                    break
                body += "\n" + following
            value = body.split(quote, 1)[0]
        else:
            value = re.split(r"\s+#", value, maxsplit=1)[0].strip()
        if len(value) >= MIN_DOTENV_VALUE:
            values.append(value)
    return values


def load_dotenv_values(workspace: Path) -> list[str]:
    """The values of `.env` and `.env.*` files in the workspace root, for `extra_secrets`.

    Comments, empty values and values shorter than `MIN_DOTENV_VALUE` characters are skipped.
    """
    values: list[str] = []
    for path in _dotenv_files(Path(workspace)):
        try:
            if path.stat().st_size > _MAX_DOTENV_BYTES:
                log.warning("skipping %s for redaction: larger than %d bytes", path, _MAX_DOTENV_BYTES)
                continue
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError as exc:
            log.warning("cannot read %s for redaction: %s", path, exc)
            continue
        values.extend(_parse_dotenv(text))
    return list(dict.fromkeys(values))
