"""What the CLI's commands share: the configuration flags and how they become a `Config`, the
version, and the usage error (an InputError: exit code 2, no traceback)."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from swarm_lsp.server.config import Config, load_config
from swarm_lsp.swarm.errors import InputError

ACTIONS = ("document", "tests", "refactor", "audit")


class UsageError(InputError):
    """Bad input on the command line: printed without a traceback, exit code 2."""


CONFIG_FLAGS = ("tiers", "candidates", "reviewers", "escalation", "max_tokens", "temperature", "doc_style", "doc_examples", "doc_reviewers",
                "seed",
                "coverage_goal", "test_timeout", "mutants", "differential_inputs", "differential_seconds")


def config_from_args(args: argparse.Namespace, workspace: Path) -> Config:
    overrides = {key: getattr(args, key, None) for key in CONFIG_FLAGS}
    if isinstance(tiers := overrides.get("tiers"), str):
        overrides["tiers"] = [t.strip() for t in tiers.split(",") if t.strip()]
    config = load_config(workspace, overrides=overrides)  # a ConfigError is an InputError: exit 2
    if not getattr(args, "verbose", 0):  # -v on the command line wins over the configured level
        logging.getLogger().setLevel(config.log_level.upper())
    return config


def add_config_flags(parser: argparse.ArgumentParser, *, workspace: bool = True) -> None:
    group = parser.add_argument_group("configuration (overrides files and SWARM_LSP_* variables)")
    if workspace:
        group.add_argument("--workspace", metavar="DIR", help="workspace root (default: nearest folder "
                           "above the file with pyproject.toml, swarm-lsp.toml or .git)")
    group.add_argument("--tiers", metavar="NAME,...", help="backends to try in order, e.g. llamacpp:qwen2.5-coder-0.5b")
    group.add_argument("--candidates", type=int, metavar="N", help="candidates per tier (1-16)")
    group.add_argument("--reviewers", type=int, metavar="N", help="reviewer quorum size (0-31; 0: gates alone decide)")
    group.add_argument("--escalation", metavar="MODE", help="never (first tier only), on-failure, cloud-only")
    group.add_argument("--max-tokens", type=int, metavar="N", help="token limit per model reply")
    group.add_argument("--temperature", type=float, metavar="T", help="sampling temperature of the first candidate")
    group.add_argument("--doc-style", metavar="STYLE", help="auto, google, numpy or rest (Python docstrings)")
    group.add_argument("--doc-examples", metavar="MODE", help="document: verified (examples run in a sandbox, "
                       "only passing ones kept; the default), observed (also calls run and shown to the writer "
                       "before it writes) or off")
    group.add_argument("--doc-reviewers", metavar="MODE", help="document: off (the default) or auto (with "
                       "--reviewers 0, the embedded 1.5B votes on each claim)")
    group.add_argument("--seed", type=int, metavar="N", help="sampling seed of the first candidate")
    group.add_argument("--coverage-goal", type=float, metavar="F", help="tests: stop writing once the kept tests "
                       "cover this share (0-1) of the target's lines and branches (default 1)")
    group.add_argument("--test-timeout", type=float, metavar="S", help="tests: seconds per sandboxed pytest run")
    group.add_argument("--mutants", type=int, metavar="N", help="tests: mutants run for the mutation score (0: off)")
    group.add_argument("--differential-inputs", type=int, metavar="N", help="refactor: inputs the original and "
                       "the rewrite both run on in the sandbox (default 200; 0: the tests alone judge)")
    group.add_argument("--differential-seconds", type=float, metavar="S", help="refactor: seconds those runs may "
                       "take per candidate (default 30)")


def version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("swarm-lsp")
    except PackageNotFoundError:
        return "unknown (not installed)"
