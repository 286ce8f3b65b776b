"""``claimwatch model train`` and ``claimwatch model evaluate``: the learned claim decision."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import TYPE_CHECKING

import click

from claimwatch.cli.common import EX_CONFIG, EX_FAILURE, EX_USAGE, Context, fail, pass_ctx

if TYPE_CHECKING:
    from pipeline.claims.model import RuleSet
    from pipeline.claims.units import LabelledUnit


@click.group()
def model() -> None:
    """The learned claim decision: retrain it from labelled units, or measure it."""


def _units(path: Path) -> list[LabelledUnit]:
    from pipeline.claims.units import UnitFileError, read_units

    try:
        return read_units(path)
    except UnitFileError as exc:
        fail(str(exc), EX_FAILURE)


def _rules(obj: Context) -> RuleSet:
    from pipeline.claims import RuleError
    from pipeline.claims.pipeline import rules_from_config

    try:
        return rules_from_config(obj.config)
    except RuleError as exc:
        fail(str(exc), EX_CONFIG)


@model.command("train")
@click.option("--data", "data", type=click.Path(path_type=Path), required=True,
              help="Labelled units, JSON Lines (see pipeline/claims/units.py).")  # fmt: skip
@click.option("--out", "out", type=click.Path(path_type=Path), default=None,
              help="Where to write the weights (default: <data_dir>/models/claims.json).")  # fmt: skip
@click.option("--seed", type=int, default=13, show_default=True)
@pass_ctx
def model_train(obj: Context, data: Path, out: Path | None, seed: int) -> None:
    """Fit the claim decision on DATA and write its weights (JSON, with no training sentence).

    The shipped weights are rebuilt from the development data with
    `claimwatch model train --data ../shared/eval/claims_dev.jsonl --out pipeline/claims/weights.json`.
    """
    from pipeline.claims.learned import DEFAULT_MODEL_PATH, parse_model
    from pipeline.claims.training import TrainingError, train

    units = _units(data)
    ruleset = _rules(obj)
    started = time.perf_counter()
    try:
        trained = train(units, ruleset, seed)
    except TrainingError as exc:
        fail(f"{data}: {exc}", EX_FAILURE)
    target = out or obj.config.data_dir / "models" / "claims.json"
    text = trained.dumps()
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    partial.write_text(text, encoding="utf-8")
    partial.replace(target)  # never a half-written weights file
    written = parse_model(text.encode(), str(target))
    info = trained.trained
    click.echo(
        f"trained on {info['examples']} candidate sentences of {info['articles']} articles "
        f"({info['positives']} risky), {info['features']} features, C {info['c']}, "
        f"threshold {trained.threshold} (inner CV F1 {info['inner_cv_f1']}) "
        f"in {time.perf_counter() - started:.1f} s"
    )
    click.echo(f"wrote {target} sha256 {written.sha256}")
    if target.resolve() == DEFAULT_MODEL_PATH.resolve():
        click.echo("these are now the shipped weights")
    else:
        click.echo(f'to score with it, set [rules] model = "{target}" in the config')


@model.command("evaluate")
@click.option("--data", "data", type=click.Path(path_type=Path), required=True,
              help="Labelled units, JSON Lines.")  # fmt: skip
@click.option("--folds", type=int, default=5, show_default=True)
@click.option("--seed", type=int, default=13, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print the figures as one JSON object.")
@pass_ctx
def model_evaluate(obj: Context, data: Path, folds: int, seed: int, as_json: bool) -> None:
    """Cross-validate the claim decision on DATA, grouped by article (no article in both the
    training and the test side of a fold), beside the rules alone."""
    from pipeline.claims.evaluation import cross_validate, evaluate
    from pipeline.claims.learned import LinearModel
    from pipeline.claims.training import TrainingError

    units = _units(data)
    if folds < 2:
        fail("--folds must be at least 2", EX_USAGE)
    ruleset = _rules(obj)
    try:
        learned, _ = cross_validate(units, ruleset, folds, seed)
    except TrainingError as exc:
        fail(f"{data}: {exc} (in every fold's training side)", EX_FAILURE)
    rules_only = evaluate(units, ruleset, LinearModel.rules_only())
    if as_json:
        payload = {"learned_cv": learned.as_json(), "rules_only": rules_only.as_json()}
        click.echo(json.dumps(payload, indent=1))
        return
    for title, evaluation in ((f"learned, {folds}-fold CV by article", learned),
                              ("rules alone", rules_only)):  # fmt: skip
        o = evaluation.overall
        click.echo(f"{title}: P {o.precision:.3f} R {o.recall:.3f} F1 {o.f1:.3f}; "
                   f"mentions flagged {evaluation.mentions_flagged:.1%}")  # fmt: skip
        for name, figures in evaluation.as_json()["by_batch"].items():
            click.echo(f"    {name:16s} P {figures['precision']:.3f} R {figures['recall']:.3f} "
                       f"F1 {figures['f1']:.3f} ({figures['risky']} risky of {figures['units']})")  # fmt: skip
