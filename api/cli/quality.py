"""``peerconsult evaluate`` and ``peerconsult bench``: thin commands over the lab (``lab/``),
imported only when they run, so that the service never loads it."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from api.cli.common import console, exit_on_sigterm, load_model, progress_bar, read_settings, run


def evaluate(
    dataset_dir: Annotated[
        Path, typer.Argument(exists=True, file_okay=False, help="members/questions/qrels.json")
    ],
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output")] = False,
    worst: Annotated[int, typer.Option(min=0, help="How many worst questions to show")] = 5,
    model: Annotated[
        str | None, typer.Option(help="Embedding model (default: PEERCONSULT_EMBEDDING_MODEL)")
    ] = None,
    within: Annotated[
        int,
        typer.Option(
            min=0,
            max=1_000_000,
            help="Evaluate inside a synthetic network of this many members (as at scale)",
        ),
    ] = 0,
    offline: Annotated[
        bool,
        typer.Option(
            "--offline", help="Rank in-process, without a database (ablations, baselines, --cv)"
        ),
    ] = False,
    without: Annotated[
        list[str] | None,
        typer.Option(help="--offline: switch a component off (dense, lexical, tags, ...)"),
    ] = None,
    baseline: Annotated[
        str | None,
        typer.Option(help="--offline: a simple baseline instead (word-tfidf, char-tfidf, ...)"),
    ] = None,
    cv: Annotated[
        bool, typer.Option("--cv", help="--offline: leave-one-question-out cross-validation")
    ] = False,
    dense_top: Annotated[
        int | None, typer.Option(help="--offline: the dense score from the N best passages")
    ] = None,
    window: Annotated[
        int | None, typer.Option(help="--offline: passages of up to N sentences")
    ] = None,
    gaps: Annotated[
        bool, typer.Option("--gaps", help="Calibrate gap detection on the set instead")
    ] = False,
    related: Annotated[
        bool,
        typer.Option("--related", help="Measure the related outcomes on the set instead"),
    ] = False,
) -> None:
    """nDCG@5, Recall@10 (grade >= 2) and MRR of the service's answers on a judged set (over
    HTTP, as members ask); with --offline the ranker in-process, with --gaps the calibration
    of gap detection, with --related how well earlier outcomes are found."""
    from lab.evaluation import gaps as gap_calibration
    from lab.evaluation import offline as offline_evaluation
    from lab.evaluation import over_http
    from lab.evaluation import related as related_evaluation
    from lab.evaluation.dataset import DatasetError, load_dataset

    settings = read_settings()
    try:
        dataset = load_dataset(dataset_dir)
    except DatasetError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from None
    if model is not None:
        settings = settings.model_copy(update={"embedding_model": model})
    embedder = load_model(settings)
    if gaps:
        sys.stdout.write(gap_calibration.report(str(dataset_dir), embedder) + "\n")
        return
    if related:
        sys.stdout.write(related_evaluation.report(str(dataset_dir), embedder) + "\n")
        return
    if offline:
        options = offline_evaluation.Options(
            without=tuple(without or ()),
            baseline=baseline,
            cross_validate=cv,
            dense_top=dense_top,
            worst=worst,
            **({"window": window} if window else {}),
        )
        sys.stdout.write(offline_evaluation.report(dataset, embedder, options) + "\n")
        return

    async def work() -> Any:
        with progress_bar() as progress:
            task = progress.add_task(
                "members and questions",
                total=within + len(dataset.members) + len(dataset.questions),
            )
            return await over_http.evaluate_over_http(
                dataset,
                embedder,
                database_url=settings.database_url,
                within=within,
                progress=lambda n: progress.advance(task, n),
            )

    report = run(work())
    shown = over_http.as_json if as_json else over_http.as_text
    sys.stdout.write(shown(report, model=embedder.name, within=within, worst=worst) + "\n")


def bench(
    members: Annotated[
        list[int] | None, typer.Option("--members", help="Network sizes (repeatable)")
    ] = None,
    full: Annotated[bool, typer.Option("--full", help="Also 100,000 members")] = False,
    requests: Annotated[int, typer.Option(min=20, help="Questions per measurement")] = 200,
    workers: Annotated[
        str, typer.Option(help="Server worker processes: a number, or auto (as serve)")
    ] = "auto",
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output")] = False,
    digests_only: Annotated[
        bool,
        typer.Option("--digests", help="Only the weekly digests, on networks of plain member rows"),
    ] = False,
) -> None:
    """Latency, throughput, import speed and index recall on synthetic networks, each as a
    ratio against a baseline measured in the same run."""
    from lab.bench import runner

    exit_on_sigterm()
    settings = read_settings()
    sizes = members or [1000, 10000]
    if full and 100_000 not in sizes:
        sizes.append(100_000)
    if digests_only:
        results = run(
            runner.run_digests(
                sizes,
                database_url=settings.database_url,
                say=lambda message: console.print(f"[dim]{message}[/dim]"),
            )
        )
        if as_json:
            sys.stdout.write(json.dumps(results, indent=2) + "\n")
        else:
            Console().print(runner.table(results))
        return
    embedder = load_model(settings)
    measured = run(
        runner.run(
            sizes,
            embedder=embedder,
            model=settings.embedding_model,
            database_url=settings.database_url,
            requests=requests,
            workers=workers,
            say=lambda message: console.print(f"[dim]{message}[/dim]"),
            # Each size as soon as it is measured (a long run's earlier sizes are not lost).
            measured=lambda result: console.print(
                f"[dim]{json.dumps(runner.as_dict(result))}[/dim]"
            ),
        )
    )
    results = [runner.as_dict(result) for result in measured]
    if as_json:
        sys.stdout.write(json.dumps(results, indent=2) + "\n")
        return
    Console().print(runner.table(results))
