"""`gate advisories sync|status`: keep a local copy of OSV's PyPI export, KEV and EPSS."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

import click

from gate.cli import handle_errors

FEEDS = ("osv", "kev", "epss")


@click.group("advisories")
def advisories_group() -> None:
    """Download and inspect the advisory data `gate scan` uses offline."""


@advisories_group.command("sync")
@click.option("--dir", "directory", type=click.Path(path_type=Path),
              help="Where to keep the data (default: GATE_ADVISORIES_SYNC_DIR or <cache>/feeds).")
@click.option("--only", multiple=True, type=click.Choice(FEEDS), help="Sync only these feeds.")
@click.option("--osv-url", envvar="GATE_SYNC_OSV_URL", help="OSV PyPI export zip URL.")
@click.option("--kev-url", envvar="GATE_SYNC_KEV_URL", help="CISA KEV catalog JSON URL.")
@click.option("--epss-url", envvar="GATE_SYNC_EPSS_URL", help="FIRST EPSS scores CSV.gz URL.")
@click.option("--timeout", type=click.FloatRange(min=1, max=3600), default=120.0,
              show_default=True, help="Seconds per download without progress.")
@handle_errors
def sync_command(
    directory: Path | None, only: tuple[str, ...], osv_url: str | None, kev_url: str | None,
    epss_url: str | None, timeout: float,
) -> None:
    """Fetch what changed (conditional requests); a failed feed keeps its old copy (exit 2)."""
    from gate.advisories.sync import default_feeds, sync, sync_dir

    folder = sync_dir(directory)
    feeds = default_feeds(osv_url=osv_url, kev_url=kev_url, epss_url=epss_url)
    chosen = [feed for feed in feeds if not only or feed.name in only]
    results = sync(folder, chosen, timeout_seconds=timeout)
    for result in results:
        click.echo(f"{result.name}: {result.status}: {result.message}")
    click.echo(f"data in {folder}")
    sys.exit(2 if any(result.status == "failed" for result in results) else 0)


@advisories_group.command("status")
@click.option("--dir", "directory", type=click.Path(path_type=Path), help="The sync directory.")
@handle_errors
def status_command(directory: Path | None) -> None:
    """Show each synced feed's age and size; exit 1 when none is present."""
    from gate.advisories.sync import default_feeds, read_meta, sync_dir

    folder = sync_dir(directory)
    now = datetime.now(UTC)
    present = 0
    for feed in default_feeds():
        meta = read_meta(folder, feed.file)
        if meta is None:
            click.echo(f"{feed.name}: not synced")
            continue
        present += 1
        days = (now - meta.checked).total_seconds() / 86400
        click.echo(f"{feed.name}: checked {meta.checked_at} ({days:.1f} days ago), "
                   f"{meta.size} bytes, sha256 {meta.sha256[:12]}, from {meta.url}")
    click.echo(f"data in {folder}")
    sys.exit(0 if present else 1)
