"""``syncfw jobcal persons|resources ...``: the directory the appointments refer to.

A person's email is their calendar address; ``--alias`` adds other addresses that reach
them (attendees written back from another calendar under an alias still find the person).
``--no-sync`` keeps a person on appointments but out of other calendars.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import click
from rich.console import Console
from rich.table import Table

if TYPE_CHECKING:
    from .store import JobCalendar

__all__ = ["persons_group", "resources_group"]


def _store(ctx: click.Context) -> JobCalendar:
    from .cli import store  # the group module owns the target; imported late, no cycle

    return store(ctx)


@click.group("persons", invoke_without_command=True)
@click.pass_context
def persons_group(ctx: click.Context) -> None:
    """Persons: list (the default), add, edit."""
    if ctx.invoked_subcommand is None:
        ctx.invoke(list_persons)


@persons_group.command("list")
@click.pass_context
def list_persons(ctx: click.Context) -> None:
    """List the persons."""
    table = Table(title="persons")
    for name in ("name", "email", "aliases", "sync"):
        table.add_column(name)
    for person in _store(ctx).persons():
        table.add_row(
            person.name, person.email, ", ".join(person.aliases), "yes" if person.sync else "no"
        )
    Console(soft_wrap=False).print(table)


@persons_group.command("add")
@click.argument("name")
@click.argument("email")
@click.option("--alias", "aliases", multiple=True, metavar="EMAIL", help="Repeatable.")
@click.option("--sync/--no-sync", default=True, show_default=True, help="Show in calendars.")
@click.pass_context
def add_person(
    ctx: click.Context, name: str, email: str, aliases: tuple[str, ...], sync: bool
) -> None:
    """Add a person with their calendar address."""
    person = _store(ctx).add_person(name, email, aliases=aliases, sync=sync)
    click.echo(f"added {person.name} <{person.email}>")


@persons_group.command("edit")
@click.argument("email")
@click.option("--name")
@click.option("--email", "new_email", metavar="EMAIL", help="A new calendar address.")
@click.option("--alias", "aliases", multiple=True, metavar="EMAIL", help="Replaces the aliases.")
@click.option("--clear-aliases", is_flag=True)
@click.option("--sync/--no-sync", default=None, help="Show in calendars, or not.")
@click.pass_context
def edit_person(
    ctx: click.Context,
    email: str,
    name: str | None,
    new_email: str | None,
    aliases: tuple[str, ...],
    clear_aliases: bool,
    sync: bool | None,
) -> None:
    """Change the person with EMAIL (or alias); their appointments change with them."""
    if aliases and clear_aliases:
        raise click.UsageError("give --alias or --clear-aliases, not both")
    if not (name or new_email or aliases or clear_aliases or sync is not None):
        raise click.UsageError("nothing to change; see `syncfw jobcal persons edit --help`")
    person = _store(ctx).edit_person(
        email,
        name=name,
        new_email=new_email,
        aliases=() if clear_aliases else (aliases or None),
        sync=sync,
    )
    aka = f" (also {', '.join(person.aliases)})" if person.aliases else ""
    state = "" if person.sync else ", not synced"
    click.echo(f"{person.name} <{person.email}>{aka}{state}")


@click.group("resources", invoke_without_command=True)
@click.pass_context
def resources_group(ctx: click.Context) -> None:
    """Rooms and equipment: list (the default), add."""
    if ctx.invoked_subcommand is None:
        ctx.invoke(list_resources)


@resources_group.command("list")
@click.pass_context
def list_resources(ctx: click.Context) -> None:
    """List the resources."""
    table = Table(title="resources")
    table.add_column("name")
    table.add_column("email")
    for resource in _store(ctx).resources():
        table.add_row(resource.name, resource.email or "")
    Console(soft_wrap=False).print(table)


@resources_group.command("add")
@click.argument("name")
@click.option("--email", metavar="EMAIL", help="The room's or equipment's mailbox, if any.")
@click.pass_context
def add_resource(ctx: click.Context, name: str, email: str | None) -> None:
    """Add a resource; appointments name it with --resource NAME."""
    resource = _store(ctx).add_resource(name, email=email)
    click.echo(f"added {resource.name}" + (f" <{resource.email}>" if resource.email else ""))
