"""Each command's options, parsed once from the command line into a frozen dataclass.

argparse is the parser (help, usage, completion are generated from it); what it
returns is an untyped bag, so ``from_namespace`` turns it into the command's
options here, checking every value's type against the dataclass, and no command
ever sees the bag. Defaults live here once: the parser shows and uses these.
Nothing here imports more than the standard library, so ``--help`` stays fast.
"""

from __future__ import annotations

import argparse
import dataclasses
import types
import typing
from dataclasses import dataclass
from typing import Any, TypeVar, Union

from planner.defaults import DEFAULT_PARALLELISM as DEFAULT_PARALLELISM
from planner.defaults import DEFAULT_POLL_INTERVAL_S as DEFAULT_POLL_INTERVAL_S

DEFAULT_PATH = "."  # plan file or directory


# ---- shared groups ---------------------------------------------------------------


@dataclass(frozen=True)
class Output:
    """--no-color and --debug, which every command takes."""

    no_color: bool = False
    debug: bool = False


@dataclass(frozen=True)
class StateChoice:
    """--state, --backend, --workspace: which state a command reads or writes."""

    state: str | None = None
    backend: str | None = None
    workspace: str | None = None


@dataclass(frozen=True)
class Variables:
    var: tuple[str, ...] = ()
    var_file: tuple[str, ...] = ()


@dataclass(frozen=True)
class Planning:
    """What `plan` and `apply PATH` share: variables, state, --target, --replace, --parallelism."""

    vars: Variables = Variables()
    choice: StateChoice = StateChoice()
    target: tuple[str, ...] = ()
    replace: tuple[str, ...] = ()
    parallelism: int = DEFAULT_PARALLELISM


# ---- one class per command ---------------------------------------------------------


@dataclass(frozen=True)
class ValidateOptions:
    out: Output
    vars: Variables
    path: tuple[str, ...] = (DEFAULT_PATH,)
    changed: bool = False
    format: str = "text"


@dataclass(frozen=True)
class GraphOptions:
    out: Output
    vars: Variables
    path: str = DEFAULT_PATH
    format: str = "dot"


@dataclass(frozen=True)
class PlanOptions:
    out: Output
    planning: Planning
    path: str = DEFAULT_PATH
    format: str = "text"
    out_file: str | None = None  # --out
    detailed_exitcode: bool = False


@dataclass(frozen=True)
class ApplyOptions:
    out: Output
    planning: Planning
    path: str = DEFAULT_PATH
    format: str = "text"
    auto_approve: bool = False
    require_digest: str | None = None
    poll_interval: float | None = None  # None: policy.poll_floor follows the restores in flight


@dataclass(frozen=True)
class ShowOptions:
    out: Output
    planfile: str
    format: str = "text"


@dataclass(frozen=True)
class StateListOptions:
    out: Output
    choice: StateChoice
    path: str = DEFAULT_PATH
    format: str = "text"


@dataclass(frozen=True)
class StateShowOptions:
    out: Output
    choice: StateChoice
    address: str
    path: str = DEFAULT_PATH
    format: str = "text"


@dataclass(frozen=True)
class StateRmOptions:
    out: Output
    choice: StateChoice
    address: tuple[str, ...]
    path: str = DEFAULT_PATH


@dataclass(frozen=True)
class StatePullOptions:
    out: Output
    choice: StateChoice
    path: str = DEFAULT_PATH


@dataclass(frozen=True)
class StatePushOptions:
    out: Output
    choice: StateChoice
    file: str
    force: bool = False
    path: str = DEFAULT_PATH


@dataclass(frozen=True)
class StateMvOptions:
    out: Output
    choice: StateChoice
    old: str
    new: str
    path: str = DEFAULT_PATH


@dataclass(frozen=True)
class StateMigrateOptions:
    out: Output
    state: str | None = None
    workspace: str | None = None
    path: str = DEFAULT_PATH


@dataclass(frozen=True)
class ForceUnlockOptions:
    out: Output
    choice: StateChoice
    lock_id: str
    path: str = DEFAULT_PATH


@dataclass(frozen=True)
class ReportOptions:
    out: Output
    choice: StateChoice
    run_id: str | None = None
    path: str = DEFAULT_PATH
    format: str = "markdown"
    out_file: str | None = None  # --out
    calibrate: bool = False


@dataclass(frozen=True)
class SimServeOptions:
    out: Output
    inventory: str
    host: str = "127.0.0.1"
    port: int = 0
    time_scale: float = 1.0
    faults: str = ""
    seed: int = 0
    clock_skew: float | None = None
    env_file: str | None = None


@dataclass(frozen=True)
class SimWaitOptions:
    out: Output
    env_file: str
    timeout: float = 60.0


@dataclass(frozen=True)
class SimGenerateOptions:
    out: Output
    servers: int = 60
    disks: int = 2
    seed: int = 0
    tiers: str = "db,app,web"
    region: str | None = None
    project: str | None = None
    for_examples: bool = False
    out_file: str | None = None  # --out


@dataclass(frozen=True)
class DemoOptions:
    out: Output
    servers: int = 60
    time_scale: float = 0.0
    dir: str = "demo-out"


@dataclass(frozen=True)
class SchemaOptions:
    out: Output


@dataclass(frozen=True)
class CompletionOptions:
    out: Output
    shell: str


# ---- the one conversion from argparse ------------------------------------------------

Opts = TypeVar("Opts")

# option names that would shadow a group's field name: argparse dest -> field name
_RENAMED = {"out": "out_file"}


class OptionsError(Exception):
    """The parser produced a value the options class does not accept: a bug here, not the user's."""


def from_namespace(cls: type[Opts], ns: argparse.Namespace) -> Opts:
    """``cls`` built from the parsed arguments, every value checked against its annotation."""
    values = {_RENAMED.get(k, k): v for k, v in vars(ns).items()}
    return _build(cls, values)


def _build(cls: type[Opts], values: dict[str, Any]) -> Opts:
    hints = typing.get_type_hints(cls)
    kwargs: dict[str, Any] = {}
    for f in dataclasses.fields(cls):  # type: ignore[arg-type]
        hint = hints[f.name]
        if isinstance(hint, type) and dataclasses.is_dataclass(hint):
            kwargs[f.name] = _build(hint, values)  # a group reads the same flat namespace
        elif f.name in values:
            kwargs[f.name] = _coerce(values[f.name], hint, f"{cls.__name__}.{f.name}")
    return cls(**kwargs)


def _coerce(value: Any, hint: Any, where: str) -> Any:
    origin = typing.get_origin(hint)
    if origin is tuple:  # tuple[str, ...]: argparse gives a list (append, nargs) or one value
        (item, _ellipsis) = typing.get_args(hint)
        items = [value] if isinstance(value, str) else list(value or ())
        return tuple(_coerce(v, item, where) for v in items)
    if origin in (Union, types.UnionType):
        args = typing.get_args(hint)
        if value is None and type(None) in args:
            return None
        (hint,) = [a for a in args if a is not type(None)]
    if hint is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if not isinstance(value, hint) or (hint is int and isinstance(value, bool)):
        raise OptionsError(f"{where}: {value!r} is not {hint.__name__}")
    return value
