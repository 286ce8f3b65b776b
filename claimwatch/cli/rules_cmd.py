"""``claimwatch rules check`` and ``claimwatch rules explain``."""

from __future__ import annotations

import sys

import click

from claimwatch.cli.common import EX_CONFIG, EX_FAILURE, Context, fail, pass_ctx


@click.group()
def rules() -> None:
    """Claim-scoring rules: check them, or see which fire on a sentence."""


@rules.command("check")
@pass_ctx
def rules_check(obj: Context) -> None:
    """Validate the rule file (and config extras) and run every rule's examples."""
    from pipeline.claims import RuleError, check_rules
    from pipeline.claims.pipeline import rules_from_config

    try:
        ruleset = rules_from_config(obj.config)
    except RuleError as exc:
        fail(str(exc), EX_CONFIG)
    failures = check_rules(ruleset)
    for failure in failures:
        click.echo(f"FAIL {failure}")
    click.echo(f"{len(failures)} failing example(s); rules sha256 {ruleset.sha256}")
    if failures:
        sys.exit(EX_FAILURE)


@rules.command("explain")
@click.argument("sentence")
@pass_ctx
def rules_explain(obj: Context, sentence: str) -> None:
    """Show which rules fire on SENTENCE, and why, and what the learned decision makes of it."""
    from pipeline.claims import RuleError, explain
    from pipeline.claims.learned import ModelError
    from pipeline.claims.pipeline import model_from_config, rules_from_config

    try:
        ruleset = rules_from_config(obj.config)
        model = model_from_config(obj.config)
    except (RuleError, ModelError) as exc:
        fail(str(exc), EX_CONFIG)
    click.echo(explain(sentence, ruleset, model))
