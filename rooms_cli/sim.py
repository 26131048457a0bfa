"""`rooms sim`: run a market scenario offline and write the report and plots."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn


def sim(
    scenario: Annotated[
        str,
        typer.Argument(
            help="A bundled scenario name (default, stress, replay, oracle_outages) "
            "or the path of a scenario TOML file."
        ),
    ] = "default",
    seed: Annotated[
        int | None, typer.Option(help="Random seed; overrides the scenario's own seed.")
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(help="Output directory. Default: ./sim-out/<scenario>-<seed>."),
    ] = None,
    hours: Annotated[
        float | None,
        typer.Option(help="Simulated hours of trading; overrides the scenario's duration."),
    ] = None,
    plots: Annotated[bool, typer.Option(help="Write the PNG plots.")] = True,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
) -> None:
    """Simulate rooms, agents and the oracle on a virtual clock.

    Writes report.json, report.md and plots. Exits with status 1 if any books-balance
    invariant fails, 2 for a bad scenario or option.
    """
    # Imported here, not at the top: every `rooms` command imports this module, and the
    # simulator's imports (the container, pydantic settings, matplotlib's setup) take longer
    # than the rest of `rooms --help` together.
    from rooms_sim.report import summary_table, write_json, write_markdown, write_plots
    from rooms_sim.runner import run_simulation
    from rooms_sim.scenario import ScenarioError, load_scenario

    console = Console(stderr=True)
    try:
        loaded = load_scenario(scenario)
    except ScenarioError as error:
        console.print(f"[red]error:[/red] {error}")
        raise typer.Exit(2) from None
    updates: dict[str, object] = {}
    if seed is not None:
        updates["seed"] = seed
    if hours is not None:
        if hours <= 0:
            console.print("[red]error:[/red] --hours must be positive")
            raise typer.Exit(2)
        updates["duration_hours"] = hours
    if updates:
        loaded = loaded.model_copy(update=updates)
    out_dir = out or Path("sim-out") / f"{loaded.name}-{loaded.seed}"
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        console.print(f"[red]error:[/red] cannot create {out_dir}: {error.strerror}")
        raise typer.Exit(2) from None

    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        TextColumn("{task.fields[bets]} bets"),
        TimeElapsedColumn(),
        console=console,
        disable=quiet,
        transient=False,
    ) as progress:
        task = progress.add_task(
            f"{loaded.name} seed {loaded.seed}: {loaded.duration_hours:g} simulated h",
            total=1.0,
            bets=0,
        )

        def report_progress(fraction: float, bets: int) -> None:
            progress.update(task, completed=fraction, bets=f"{bets:,}")

        metrics, _ = asyncio.run(run_simulation(loaded, report_progress))

    write_json(metrics, out_dir / "report.json")
    plot_files = write_plots(metrics, out_dir) if plots else []
    write_markdown(metrics, out_dir / "report.md", plot_files)
    Console().print(summary_table(metrics))
    console.print(f"report: {out_dir / 'report.json'}, {out_dir / 'report.md'}")
    if not metrics.invariants_hold:
        failed = ", ".join(k for k, v in metrics.invariants.items() if not v)
        console.print(f"[red]invariants failed:[/red] {failed}")
        raise typer.Exit(1)
