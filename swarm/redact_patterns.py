"""The shapes of provider credentials `swarm.redact` replaces wherever they appear.

Each pattern is anchored on a provider's fixed prefix and length so ordinary identifiers do not
match; `_AROUND` keeps a token from matching inside a longer word. A kind listed here is the
`<kind>` of its `[REDACTED:<kind>]` marker.
"""

from __future__ import annotations

import re

PEM = re.compile(
    r"-----BEGIN[A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----"
    r"(?:.*?-----END[A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----"
    # a block cut off before its END line (a truncated file) still goes, body lines and all
    r"|(?:(?:\s|\\n|\\r)*+(?:[A-Za-z0-9+/=]{16,}+|[A-Za-z-]+: [^\n]*))++)",
    re.DOTALL,
)
_AROUND = r"(?<![A-Za-z0-9_-])(?:{})(?![A-Za-z0-9_-])"


def _token(body: str) -> re.Pattern[str]:
    return re.compile(_AROUND.format(body))


TOKEN_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("jwt", _token(r"eyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*")),
    ("anthropic_key", _token(r"sk-ant-[A-Za-z0-9_-]{20,}")),
    # OpenAI keys are random; demanding a digit spares kebab-case words like `sk-learn-compatible-api`.
    ("openai_key", _token(r"sk-(?=[A-Za-z0-9_-]*\d)[A-Za-z0-9_-]{20,}")),
    ("stripe_key", _token(r"[sr]k_(?:live|test)_[A-Za-z0-9]{16,}")),
    ("aws_access_key_id", re.compile(r"(?<![A-Z0-9])(?:AKIA|ASIA)[A-Z0-9]{16}(?![A-Z0-9])")),
    ("github_token", _token(r"gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{22,}")),
    ("gitlab_token", _token(r"gl(?:pat|dt|rt|ptt|soat)-[A-Za-z0-9_-]{20,}")),
    ("slack_token", _token(r"xox[abeoprs]-[A-Za-z0-9-]{10,}")),
    ("slack_webhook", re.compile(r"https://hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9/_-]{20,}")),
    ("google_api_key", _token(r"AIza[0-9A-Za-z_-]{35}")),
    ("sendgrid_key", _token(r"SG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}")),
    ("twilio_api_key", _token(r"SK[0-9a-f]{32}")),
    ("npm_token", _token(r"npm_[A-Za-z0-9]{36}")),
    ("pypi_token", _token(r"pypi-AgE[A-Za-z0-9_-]{50,}")),
    ("digitalocean_token", _token(r"do[opr]_v1_[a-f0-9]{64}")),
    ("vault_token", _token(r"hv[sbr]\.[A-Za-z0-9_-]{24,}")),
    ("heroku_api_key", _token(r"HRKU-[A-Za-z0-9_-]{20,}")),
)
