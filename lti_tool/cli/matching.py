"""``tandem match PROGRAMME``: match day from the command line."""

from __future__ import annotations

import click

from programmes import (
    OBJECTIVES,
    ProgrammeError,
    get_programme,
    operator_actor,
    publish,
    run_matching,
)

from .base import app_transaction, build_app, fail, main

STEPS = ("loading participants", "clearing the previous draft", "scoring", "writing", "draft ready")


@main.command("match")
@click.argument("programme_id", type=int)
@click.option("--dry-run", is_flag=True, help="Run and report, but keep nothing.")
@click.option("--objective", type=click.Choice(OBJECTIVES), default="max_score", show_default=True)
@click.option("--publish", "do_publish", is_flag=True, help="Publish the draft to both sides.")
def match_command(programme_id: int, dry_run: bool, objective: str, do_publish: bool) -> None:
    """Run matching for PROGRAMME (its id) and print a summary.

    The draft replaces earlier unlocked draft pairs; locked and published pairs stay.
    With --dry-run nothing is written.
    """
    if dry_run and do_publish:
        fail("--dry-run and --publish do not go together", 2)
    app = build_app()
    try:
        with app_transaction(app) as session:
            actor = operator_actor(session, programme_id)
            programme = get_programme(session, actor, programme_id)
            with click.progressbar(length=len(STEPS), label=f"Matching {programme.name!r}") as bar:

                def progress(message: str) -> None:
                    bar.label = f"Matching: {message}"
                    bar.update(1)

                summary = run_matching(
                    session, actor, programme_id, objective=objective, progress=progress
                )
            published = publish(session, actor, programme_id) if do_publish else 0
            if dry_run:
                session.rollback()
    except ProgrammeError as exc:
        fail(str(exc))
    gap = "" if summary.gap is None else f", within {summary.gap:.3%} of the best possible"
    lowest = "-" if summary.lowest is None else f"{summary.lowest:.1f}"
    click.echo(
        f"{summary.mentees} mentees, {summary.mentors} mentors: {summary.proposed} new pairs, "
        f"{summary.held} kept, {summary.unmatched} unmatched; "
        f"total score {summary.total:.1f}{gap}; lowest {lowest}; {summary.seconds:.2f} s"
    )
    for item in summary.unmatched_reasons[:20]:
        click.echo(f"  unmatched: {item['name']}: {item['reason']}")
    if len(summary.unmatched_reasons) > 20:
        click.echo(f"  ... and {len(summary.unmatched_reasons) - 20} more")
    if dry_run:
        click.echo("dry run: nothing was saved")
    elif published:
        click.echo(f"published {published} pairs: both sides can now accept or decline")
    else:
        click.echo("draft saved: review it on the match-day page, then publish")
