"""`handrail check`: the gate for git hooks and CI.

The options and the body live in `cli.check_core`, which `handrail.cli.entry` runs without
click on the common command lines; this is the click command built from the same table, for
help, usage errors and the options only click runs (`--rerun`, `--record-gate`, ...).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click

from handrail.cli.check_core import OPTIONS, CheckArgs, CheckOption, run_check_command
from handrail.cli.common import Context, fail, pass_ctx

F = TypeVar("F", bound=Callable[..., Any])


def _click_option(option: CheckOption) -> Callable[[F], F]:
    kwargs: dict[str, Any] = {"help": option.help}
    if option.kind == "choice":
        kwargs.update(type=click.Choice(list(option.choices)), default=option.default)
        kwargs["show_default"] = True
    elif option.kind == "switch":
        kwargs["default"] = None
    elif option.kind == "flag":
        kwargs["is_flag"] = True
    else:
        kwargs["metavar"] = option.metavar
        if option.kind == "multiple":
            kwargs["multiple"] = True
    return click.option(*option.decls, **kwargs)


class _ClickOutput:
    def echo(self, message: str, *, err: bool = False, nl: bool = True) -> None:
        click.echo(message, err=err, nl=nl)

    def fail(self, message: str) -> NoReturn:
        fail(message)


def _check(ctx: Context, paths: tuple[Path, ...], **options: Any) -> None:
    """Report every finding in the workspace, or under PATHS.

    Exit 0 when clean, 1 when any finding is an error, 2 for a usage or configuration error.
    """
    args = CheckArgs(paths=paths, **options)
    raise SystemExit(run_check_command(ctx, args, _ClickOutput()))


def _build() -> click.Command:
    callback: Callable[..., Any] = pass_ctx(_check)
    for option in reversed(OPTIONS):
        callback = _click_option(option)(callback)
    callback = click.argument("paths", nargs=-1, type=click.Path(path_type=Path))(callback)
    return click.command("check")(callback)


check = _build()
