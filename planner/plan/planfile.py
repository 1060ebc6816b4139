"""The saved plan: ``plan --out F`` writes it, ``show F`` and ``apply F`` read it.

Owns the file (atomic, fsynced save; bounded load of a regular file; the format
version), what makes a saved plan exactly what was reviewed, once, against its
own state, and the checks ``apply F`` makes before it runs anything:

- the **digest**: SHA-256 over the canonical JSON of the whole public view
  (``planner.render.plan_json``) except the digest itself: every action with its
  target, disks, backup, power_on, destination_path, depends_on, batch and facts,
  the region, project, state binding and creation times. ``plan`` prints it,
  ``load`` refuses a file whose content no longer matches it (edited after it was
  made), and ``apply --require-digest`` runs only the plan a reviewer saw;
- the **facts**: every action that calls the cloud carries the facts it relies on,
  and its restore agrees with them (``planner.plan.facts.fact_problems``);
- the **invariants** (``plan_problems``), whatever the digest (it is unkeyed: anyone can
  recompute it): unique addresses, a restore exactly where an action acts (a forget
  never carries one), dependencies on restores of the plan without a cycle, and no two
  restores writing one server or volume (validate's RP205, disk maps included);
- the **state binding**: lineage, serial, the resolved absolute location and the
  state's content digest. ``apply F`` reads and writes that state only, and
  refuses another ``--state``, another lineage, a moved serial (naming the run
  when it was this plan that moved it) or a changed content;
- the **staleness check** (``check_fresh``): region and project, every fact
  refreshed from the cloud, and no restore of a target in the cloud's operation
  logs since the plan was made (a replay from another machine, with other state).

The state location written in the file is trusted only in the form ``plan``
writes it (absolute, normalized, no symlink on the way): a relative path, a
``..`` or a path that now leads through a symlink is refused, never followed,
so a plan file cannot send state writes anywhere but the directory it names,
and ``--require-digest`` covers the location like everything else. A location
refused for its state (none where the plan had one, one where it had none) is
refused before the lock creates its directory or lock file.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import stat
import tempfile
from collections.abc import Collection, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
from pydantic import ValidationError

from planner.addresses import Address, AddressError
from planner.clock import to_datetime
from planner.cloud.client import CloudClient
from planner.cloud.world import RefreshNeeds, refresh
from planner.errors import StalePlanError, UserError
from planner.fsutil import fsync_dir
from planner.plan.facts import fact_problems, moved_facts
from planner.plan.model import PLAN_FORMAT_VERSION, Action, ExecutionPlan, StateRef
from planner.render import fmt
from planner.render.fmt import rfc3339
from planner.render.plan_json import LIFTED, plan_to_dict, plan_to_json
from planner.state.backend import LocalBackend
from planner.state.lock import locked_error
from planner.state.model import State
from planner.state.store import StateStore

MAX_PLAN_BYTES = 256 * 1024 * 1024  # ~100,000 actions; anything larger is not a plan we wrote
DIGEST_PREFIX = "sha256:"
# Restores the cloud accepted up to this long before the plan's cloud time still count
# as "since the plan was made": the cloud clock is estimated from whole-second Date
# headers, and the operation-log filter takes whole seconds.
REPLAY_SLACK_S = 120.0
MOVED_SHOWN_MAX = 50
# state references that are not files (planner.state.backend.PG_PREFIX)
REMOTE_PREFIXES = ("postgres:",)
_INVALID_HINT = "Make the plan again with `restore-planner plan --out FILE`."
_MODIFIED_HINT = "apply only a plan file as `restore-planner plan --out` wrote it; plan again and review the new plan"


# -- digest ------------------------------------------------------------------------


_SORTED = orjson.OPT_SORT_KEYS


def canonical_json(value: Any) -> bytes:
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def digest_of(plan: ExecutionPlan) -> str:
    """``sha256:<hex>`` of everything in the plan's public view but the digest itself."""
    view = plan_to_dict(plan)
    view.pop("digest", None)
    return DIGEST_PREFIX + hashlib.sha256(canonical_json(view)).hexdigest()


def parse_digest(text: str) -> str:
    """A digest as given on the command line (``sha256:`` optional) -> ``sha256:<hex>``."""
    hexpart = text.strip().lower().removeprefix(DIGEST_PREFIX)
    if len(hexpart) != 64 or any(c not in "0123456789abcdef" for c in hexpart):
        raise UserError(
            f"--require-digest {text!r} is not a plan digest",
            "give the 64 hex digits `restore-planner plan` printed as `Plan digest: sha256:...`",
        )
    return DIGEST_PREFIX + hexpart


def state_identity(state: State) -> str:
    """The state's content as a digest: a state edited without a new serial differs."""
    data = state.model_dump(mode="json")
    return DIGEST_PREFIX + hashlib.sha256(canonical_json(data)).hexdigest()


def seal(
    plan: ExecutionPlan, state: State, state_path: Path, existed: bool, cloud_now: float
) -> None:
    """Bind ``plan`` to its state and cloud time, then set its digest (last: it covers both).

    ``existed``: whether the state was on disk (a state not yet written has a lineage
    of its own each time it is loaded, so the plan records none).
    """
    plan.state = StateRef(
        lineage=state.lineage if existed else None,
        serial=state.serial if existed else 0,
        path=str(state_path),
        location=_location(state_path),
        identity=state_identity(state) if existed else "",
    )
    plan.cloud_created_at = to_datetime(cloud_now)
    plan.digest = digest_of(plan)


def _location(state_path: Path) -> str:
    """A state file's resolved absolute path; another backend's reference as it is
    (``postgres:<schema>/<workspace>``, planner.state.backend: no path to resolve)."""
    if str(state_path).startswith(REMOTE_PREFIXES):
        return str(state_path)
    return str(Path(os.path.abspath(state_path)).resolve())


def cloud_now(client: CloudClient) -> float:
    """The cloud's current time as the client estimates it from ``Date`` headers."""
    # CloudClient.cloud_clock is new; a client without it falls back to its own clock
    # (the replay check then relies on the clocks agreeing within REPLAY_SLACK_S)
    clock = getattr(client, "cloud_clock", None) or client.clock
    return float(clock.now())


# -- save and load -----------------------------------------------------------------


def save(plan: ExecutionPlan, out: str | Path) -> None:
    """Write ``plan`` to ``out`` atomically: a unique temp file beside it, fsync, rename,
    fsync of the directory. A crash leaves the old file or the new one, never half of one."""
    target = Path(out)
    directory = target.parent
    data = plan_to_json(plan).encode("utf-8")
    try:
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{target.name}.", suffix=".tmp")
    except OSError as exc:
        raise UserError(f"cannot save the plan to {out}: {exc.strerror}") from None
    try:
        try:
            os.fchmod(fd, 0o644)  # mkstemp makes it 0600; a plan holds no secret
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, target)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise UserError(f"cannot save the plan to {out}: {exc.strerror}") from None
    fsync_dir(directory)


def is_saved_plan(path: str) -> bool:
    """A regular file that is not YAML and starts like the JSON object ``save`` writes."""
    p = Path(path)
    if p.suffix in (".yaml", ".yml"):
        return False
    try:
        st = p.stat()
    except OSError:
        return False
    if not stat.S_ISREG(st.st_mode):
        return False  # a FIFO or device is never opened here (it could block or never end)
    try:
        with p.open("rb") as f:
            return f.read(1) == b"{"
    except OSError:
        return False


def load(path: str) -> ExecutionPlan:
    """The saved plan at ``path``, refused unless it is intact and complete."""
    text = _read_bounded(path)
    try:
        data = _json_of(text)
        plan = plan_from_dict(data)
    except UserError as exc:
        raise UserError(
            f"{path} is not a saved plan ({exc.message})",
            exc.hint or "a saved plan is the file written by `restore-planner plan --out FILE`",
        ) from None
    verify(plan, path, _raw_digest(data))
    return plan


def _raw_digest(data: Any) -> str | None:
    """The digest of the file's own content (what ``plan --out`` wrote is the plan's public
    view, so for an intact file it is the plan's digest), without rebuilding that view from
    the model: a third of what loading a plan of 1,000 restores cost. None when it cannot be
    computed; ``verify`` then compares against the model's view as before."""
    if not isinstance(data, dict):
        return None
    view = {k: v for k, v in data.items() if k != "digest"}
    try:
        # orjson writes what ``canonical_json`` writes for what a plan holds (compact,
        # sorted, UTF-8) in a tenth of the time; where it would differ (a float written
        # with an exponent, an integer past 64 bits) the stated digest does not match and
        # ``canonical_json`` decides, as before. Equal bytes are the same JSON value.
        fast = DIGEST_PREFIX + hashlib.sha256(orjson.dumps(view, option=_SORTED)).hexdigest()
        if fast == data.get("digest"):
            return fast
    except (TypeError, orjson.JSONEncodeError):
        pass
    try:
        return DIGEST_PREFIX + hashlib.sha256(canonical_json(view)).hexdigest()
    except (TypeError, ValueError):  # NaN or infinity read from the file
        return None


def _read_bounded(path: str) -> str:
    try:
        # O_NONBLOCK: opening a FIFO must not wait for a writer; it is refused below
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError as exc:
        raise UserError(f"cannot read saved plan {path}: {exc.strerror}") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise UserError(
                f"{path} is not a saved plan (not a regular file)",
                "a saved plan is the file written by `restore-planner plan --out FILE`",
            )
        if st.st_size > MAX_PLAN_BYTES:
            raise UserError(
                f"{path} is not a saved plan ({st.st_size:,} bytes; a saved plan is at most "
                f"{MAX_PLAN_BYTES:,})",
                "a saved plan is the file written by `restore-planner plan --out FILE`",
            )
        chunks: list[bytes] = []
        size = 0
        while chunk := os.read(fd, 1 << 20):
            size += len(chunk)
            if size > MAX_PLAN_BYTES:  # it grew while we read it
                raise UserError(
                    f"{path} is not a saved plan (larger than {MAX_PLAN_BYTES:,} bytes)"
                )
            chunks.append(chunk)
    except OSError as exc:
        raise UserError(f"cannot read saved plan {path}: {exc.strerror}") from None
    finally:
        os.close(fd)
    try:
        return b"".join(chunks).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UserError(
            f"{path} is not a saved plan (not UTF-8 text: {exc.reason})", _INVALID_HINT
        ) from None


def verify(plan: ExecutionPlan, path: str, file_digest: str | None = None) -> None:
    """Refuse a plan whose content is not what ``plan`` made, or that cannot be checked.

    ``file_digest``: the digest of the file it was read from (``_raw_digest``); when it
    matches, the model's view need not be rebuilt to compare (the model is read from
    exactly that content)."""
    if not plan.digest:
        raise UserError(f"{path} is not a saved plan (it has no digest)", _INVALID_HINT)
    if file_digest != plan.digest and digest_of(plan) != plan.digest:
        raise UserError(
            f"the plan file {path} was modified after it was made: its content does not match "
            f"its digest {plan.digest}",
            _MODIFIED_HINT,
        )
    problems = [f"{a.address}: {why}" for a in plan.actions for why in fact_problems(a)]
    if problems:
        lines = "\n".join(f"  {p}" for p in problems[:MOVED_SHOWN_MAX])
        raise UserError(
            f"{path} cannot be checked for staleness: {len(problems)} action(s) without "
            f"the facts they rely on\n{lines}",
            _MODIFIED_HINT,
        )
    broken = plan_problems(plan)
    if broken:
        lines = "\n".join(f"  {p}" for p in broken[:MOVED_SHOWN_MAX])
        more = (
            f"\n  ... and {len(broken) - MOVED_SHOWN_MAX} more"
            if len(broken) > MOVED_SHOWN_MAX
            else ""
        )
        raise UserError(
            f"{path} is not a plan restore-planner makes: {len(broken)} problem(s) no plan "
            f"it writes has\n{lines}{more}",
            _MODIFIED_HINT,
        )


# -- what makes a plan safe whatever its digest ------------------------------------

WRITES = ("restore", "re-restore", "reconcile")  # the actions that overwrite their targets


def plan_problems(plan: ExecutionPlan) -> list[str]:
    """What no plan ``plan`` writes has, each naming its addresses ([] for a sound plan).

    The digest is unkeyed (anyone can recompute it; ``--require-digest`` pins it), so
    ``apply`` re-checks what ``validate`` and ``plan`` guarantee and the executor relies
    on: addresses canonical and unique, each action's restore present exactly when it
    acts (a forget never carries one) and under its own address, dependencies on
    restores of the plan and without a cycle, no two restores writing one target (a
    server, or a volume, also through a server restore's disk map: RP205).
    """
    out: list[str] = []
    restores: set[str] = set()
    seen: dict[str, int] = {}
    for a in plan.actions:
        try:
            canonical = str(Address.parse(a.address))
        except AddressError as exc:
            out.append(f"{fmt.clean(a.address)!r} is not a restore address ({exc})")
            continue
        if canonical != a.address:
            out.append(
                f"{fmt.clean(a.address)!r} is not written as plan writes it ({fmt.clean(canonical)})"
            )
        seen[canonical] = seen.get(canonical, 0) + 1
        shown = fmt.clean(canonical)  # a key in quotes may hold anything
        if a.action == "forget":
            if a.restore is not None:
                out.append(
                    f"{shown}: a forget carries a restore (a forget only drops the state entry)"
                )
            continue
        if a.restore is None:
            if a.action not in WRITES:  # fact_problems names the ones that act
                out.append(f"{shown}: {a.action} without its restore")
            continue
        restores.add(canonical)
        if a.restore.address != a.address:
            out.append(
                f"{shown}: its restore is for another address, {fmt.clean(a.restore.address)!r}"
            )
    out += [
        f"{fmt.clean(addr)}: the address appears {n} times" for addr, n in seen.items() if n > 1
    ]
    out += _dependency_problems(plan, restores)
    out += _conflicts(plan)
    return out


def _dependency_problems(plan: ExecutionPlan, restores: set[str]) -> list[str]:
    out: list[str] = []
    graph: dict[str, set[str]] = {}
    for a in plan.actions:
        if a.restore is None or a.address not in restores:
            continue
        deps = graph.setdefault(a.address, set())
        shown = fmt.clean(a.address)
        for d in a.restore.depends_on:
            if d == a.address:
                out.append(f"{shown}: depends on itself")
            elif d not in restores:
                out.append(f"{shown}: depends on {fmt.clean(d)!r}, which is no restore of the plan")
            else:
                deps.add(d)
    stuck = _in_cycles(graph)
    if stuck:
        named = ", ".join(fmt.clean(x) for x in stuck[:MOVED_SHOWN_MAX])
        more = f" and {len(stuck) - MOVED_SHOWN_MAX} more" if len(stuck) > MOVED_SHOWN_MAX else ""
        out.append(f"the dependencies form a cycle: no order starts {named}{more}")
    return out


def _in_cycles(graph: dict[str, set[str]]) -> list[str]:
    """The addresses no order of ``graph`` (address -> what it depends on) can start: those
    on a cycle and after one (Kahn's algorithm; graphlib took half a second at 10,000)."""
    waiting = {n: len(deps) for n, deps in graph.items()}
    after: dict[str, list[str]] = {}
    for n, deps in graph.items():
        for d in deps:
            after.setdefault(d, []).append(n)
    ready = [n for n, k in waiting.items() if k == 0]
    while ready:
        for m in after.get(ready.pop(), ()):
            waiting[m] -= 1
            if waiting[m] == 0:
                ready.append(m)
    return sorted(n for n, k in waiting.items() if k > 0)


def _conflicts(plan: ExecutionPlan) -> list[str]:
    """Two restores writing one target would overwrite each other (validate's RP205), or
    the same one twice in one run; a restore writing one volume twice is no restore."""
    writers: dict[tuple[str, str], list[str]] = {}
    out: list[str] = []
    for a in plan.actions:
        if a.action not in WRITES or a.restore is None:
            continue
        r = a.restore
        written = [(r.target.kind, r.target.id)]
        written += [("volume", d.volume_id) for d in r.disks if d.volume_id != r.target.id]
        mine: set[tuple[str, str]] = set()
        for key in written:
            if key in mine:
                out.append(f"{fmt.clean(a.address)}: writes {key[0]} {fmt.clean(key[1])} twice")
                continue
            mine.add(key)
            writers.setdefault(key, []).append(a.address)
    for (kind, ident), addrs in writers.items():
        if len(addrs) > 1:
            who = " and ".join(map(fmt.clean, addrs)) + (" both" if len(addrs) == 2 else " all")
            out.append(f"{who} write {kind} {fmt.clean(ident)}")
    return out


# -- the public view back to the model -----------------------------------------------


def plan_from_json(text: str) -> ExecutionPlan:
    return plan_from_dict(_json_of(text))


def _json_of(text: str) -> Any:
    """The file's JSON, refused as not a plan (never a crash) whatever the text: bad JSON,
    deep nesting, an integer past Python's 4,300-digit limit, NaN or Infinity (``save``
    never writes one: the digest's canonical JSON cannot hold it)."""
    try:
        return json.loads(text, parse_constant=_no_constant, parse_float=_finite)
    except json.JSONDecodeError as exc:
        raise UserError(
            f"not a restore plan: invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}",
            _INVALID_HINT,
        ) from exc
    except RecursionError:
        raise UserError("not a restore plan: JSON nested too deeply", _INVALID_HINT) from None
    except _NotANumber as exc:
        raise UserError(f"not a restore plan: {exc}", _INVALID_HINT) from None
    except ValueError:  # the decoder's int() of a number past sys.get_int_max_str_digits()
        raise UserError(
            "not a restore plan: it holds a number too long to be one of a plan's",
            _INVALID_HINT,
        ) from None


class _NotANumber(ValueError):
    pass


def _no_constant(name: str) -> Any:
    raise _NotANumber(f"it holds {name}, which no saved plan does")


def _finite(text: str) -> float:
    """A float as written; one past a float's range (``1e999``) reads as infinity, which
    no saved plan holds, as the literal ``Infinity`` is refused."""
    value = float(text)
    if math.isinf(value):
        raise _NotANumber(
            f"it holds {text[:40]}, a number past a float's range, which no saved plan does"
        )
    return value


def plan_from_dict(data: Any) -> ExecutionPlan:
    """Accept the public view (and, for tolerance, the model's nested ``restore`` form)."""
    if not isinstance(data, dict):
        raise UserError("not a restore plan: the top level is not a JSON object", _INVALID_HINT)
    version = data.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        # a saved plan is what a person reviewed: a file that does not say what it is
        # is not guessed at
        raise UserError(
            "not a restore plan: format_version is missing or not a number", _INVALID_HINT
        )
    if version > PLAN_FORMAT_VERSION:
        raise UserError(
            f"the plan has format version {version}; this restore-planner reads "
            f"version {PLAN_FORMAT_VERSION}",
            "Show or apply it with the restore-planner version that made it.",
        )
    if version < PLAN_FORMAT_VERSION:
        raise UserError(
            f"the plan has format version {version}, made before saved plans carried a digest "
            f"and their state's location; this restore-planner reads version {PLAN_FORMAT_VERSION}",
            _INVALID_HINT,
        )
    data = dict(data)
    actions = data.get("actions", [])
    if not isinstance(actions, list):
        raise UserError("not a restore plan: actions is not a list", _INVALID_HINT)
    data["actions"] = [_action_model(i, a) for i, a in enumerate(actions)]
    try:
        return ExecutionPlan.model_validate(data)
    except ValidationError as exc:
        raise UserError(f"not a restore plan: {_first_error(exc)}", _INVALID_HINT) from exc


def _action_model(index: int, raw: Any) -> Any:
    if not isinstance(raw, dict):
        return raw  # let pydantic name the problem
    action = {k: v for k, v in raw.items() if k not in LIFTED}
    lifted = {k: raw[k] for k in LIFTED if k in raw}
    if "restore" in raw:
        nested = raw["restore"] if isinstance(raw["restore"], dict) else {}
        if raw["restore"] is None and lifted.get("target") is not None:
            raise UserError(
                f"not a restore plan: actions[{index}] has a target but restore is null",
                _INVALID_HINT,
            )
        for key, value in lifted.items():
            if key in nested and nested[key] != value:
                raise UserError(
                    f"not a restore plan: actions[{index}].{key} disagrees with "
                    f"actions[{index}].restore.{key}",
                    _INVALID_HINT,
                )
        return action
    if lifted.get("target") is None:
        leftovers = [k for k, v in lifted.items() if v not in (None, [])]
        if leftovers:
            raise UserError(
                f"not a restore plan: actions[{index}] has {', '.join(leftovers)} but no target",
                _INVALID_HINT,
            )
        action["restore"] = None
        return action
    action["restore"] = {"address": raw.get("address"), **lifted}
    return action


def _first_error(exc: ValidationError) -> str:
    err = exc.errors()[0]
    where = ".".join(str(p) for p in err["loc"])
    return f"{where}: {err['msg']}" if where else str(err["msg"])


# -- which state, and is it the plan's ---------------------------------------------


def state_location(plan: ExecutionPlan, explicit: str | None) -> Path:
    """The state ``apply`` of this saved plan reads and writes: the one it was made against.

    ``--state`` must name that same state; without it, the location recorded in the
    plan is used only in the form ``plan`` writes (see the module docstring).
    """
    recorded = plan.state.location
    if recorded.startswith(REMOTE_PREFIXES):
        return Path(recorded)  # not a file: the backend named by it (--state is refused there)
    if explicit:
        given = Path(os.path.abspath(explicit)).resolve()
        if str(given) != recorded:
            raise StalePlanError(
                f"the plan was made against the state {recorded or '(unknown)'}; --state names {given}",
                "a saved plan applies to the state it was made against only; plan again with "
                "this --state and review that plan",
            )
        _check_present(plan, given)
        return given
    if not _is_plain_absolute(recorded):
        raise UserError(
            f"the saved plan names its state as {recorded!r}, which is not a plain absolute path; "
            "a state location with `..`, a symlink or a relative part is never followed",
            "pass --state with the state this plan was made against",
        )
    _check_present(plan, Path(recorded))
    return Path(recorded)


def _check_present(plan: ExecutionPlan, location: Path) -> None:
    """Before the lock makes the state's directory and lock file: a plan made against a
    state refuses a location without one, and a plan made before its state existed a
    location that has one (``check_state`` says the rest under the lock, as before)."""
    existed = location.exists()
    if plan.state.lineage is not None and not existed:
        check_state(plan, State.new(), location, existed=False)
    if plan.state.lineage is None and existed:
        # an error either way. While an apply holds the state (this plan's own, maybe,
        # still running), that is the refusal: "already applied" would send the reader
        # to report a run that has not finished
        held = LocalBackend(location).held_lock()
        if held is not None:
            raise locked_error(location, held)
        # loaded to name the run when it was this plan that ran
        check_state(plan, StateStore(location).load(), location, existed=True)


def check_backend(plan: ExecutionPlan, kind: str, ref: str) -> None:
    """The state backend chosen (``--backend``, ``--workspace``) must be the plan's own:
    ``ref`` is the state file's path (``kind`` local), or another backend's reference."""
    remote = plan.state.location.startswith(REMOTE_PREFIXES)
    if ref != plan.state.location or remote == (kind == "local"):
        raise StalePlanError(
            f"the plan was made against the state {plan.state.location or '(unknown)'}; "
            f"this apply would use {ref}",
            "a saved plan applies to the state it was made against only; drop --backend and "
            "--workspace, or plan again against this state and review that plan",
        )


def _is_plain_absolute(location: str) -> bool:
    if not location or not os.path.isabs(location) or "\x00" in location:
        return False
    if os.path.normpath(location) != location or ".." in Path(location).parts:
        return False
    # a symlink put on the way since the plan was made would redirect the writes
    return str(Path(location).resolve()) == location


def check_state(plan: ExecutionPlan, state: State, location: Path, existed: bool) -> None:
    """Refuse unless ``state`` is the state, and the version of it, the plan was made against."""
    ref = plan.state
    if ref.lineage is None:
        if existed:
            _refuse_applied(plan, state)
            raise StalePlanError(
                f"the plan was made before the state {location} existed; it now holds lineage "
                f"{state.lineage}, serial {state.serial}",
                "another apply ran in between; run plan again and review it",
            )
        return
    if not existed:
        raise StalePlanError(
            f"the plan was made against state lineage {ref.lineage} (serial {ref.serial}); "
            f"there is no state at {location}",
            "apply it where its state is, or plan again and review the new plan",
        )
    if state.lineage != ref.lineage:
        raise StalePlanError(
            f"the plan was made against state lineage {ref.lineage}, the state is {state.lineage}",
            "plan again against this state",
        )
    if state.serial != ref.serial:
        _refuse_applied(plan, state)
        raise StalePlanError(
            f"the state changed since the plan was made (serial {ref.serial} -> {state.serial})",
            "another apply or `state rm` ran in between; run plan again and review it",
        )
    if state_identity(state) != ref.identity:
        raise StalePlanError(
            f"the state {location} was changed since the plan was made without a new serial",
            "someone edited the state by hand; check it, then plan again and review the new plan",
        )


def applied_runs(plan: ExecutionPlan, state: State) -> tuple[list[str], int, int]:
    """Runs that recorded a restore of this plan after it was made (it was applied), and
    how many of its restores they recorded, of how many."""
    since = plan.created_at
    if plan.cloud_created_at is not None:
        since = min(since, plan.cloud_created_at)
    runs: set[str] = set()
    recorded = total = 0
    for a in plan.actions:
        if a.action not in ("restore", "re-restore", "reconcile") or a.restore is None:
            continue
        total += 1
        rec = state.restores.get(a.address)
        if (
            rec is not None
            and rec.started_at >= since
            and rec.backup.id == a.restore.backup.id
            and rec.target.id == a.restore.target.id
        ):
            runs.add(rec.run_id)
            recorded += 1
    return sorted(runs), recorded, total


def _refuse_applied(plan: ExecutionPlan, state: State) -> None:
    runs, recorded, total = applied_runs(plan, state)
    if runs:
        which = f"run {runs[0]}" if len(runs) == 1 else "runs " + ", ".join(runs)
        part = "," if recorded == total else f" recorded {recorded} of its {total} restores;"
        # the state records restores, not plans: another plan made from the same state
        # (`plan --target` beside a whole plan) reads the same
        raise StalePlanError(
            f"the plan's restores were already applied ({which}{part} state serial "
            f"{plan.state.serial} -> {state.serial}), by this plan or another made from the "
            "same state; a saved plan is applied once",
            f"`restore-planner report {runs[-1]}` shows that run; to restore again, run plan "
            "again and review it",
        )


# -- is the cloud still what the plan relied on --------------------------------------


def needs_for(plan: ExecutionPlan) -> RefreshNeeds:
    """What a saved plan's staleness check must refresh (never from the YAML)."""
    needs = RefreshNeeds()
    for a in plan.actions:
        if a.restore is None:
            continue
        r = a.restore
        needs.add_restore(r.backup.id, r.target.kind, r.target.id, (d.volume_id for d in r.disks))
        if r.target.kind != "server" or any(name.endswith(" disks") for name in a.facts):
            # immutable, and recorded in the facts; a volume's or resource's backup has
            # no disk backups to know
            needs.children_known.add(r.backup.id)
    return needs


async def check_fresh(
    plan: ExecutionPlan, client: CloudClient, known_tasks: Collection[str] = ()
) -> None:
    """Refuse a saved plan the cloud no longer matches, naming each fact that moved.

    ``known_tasks``: the tasks the plan's state records (``check_state`` found it the
    state the plan was made from): a restore state already knows is no replay."""
    if (client.settings.region, client.settings.project_id) != (plan.region, plan.project_id):
        raise StalePlanError(
            f"the plan was made for {plan.region}/{plan.project_id}, the environment is "
            f"{client.settings.region}/{client.settings.project_id}",
            "a plan reviewed for one project never runs against another",
        )
    world = await refresh(client, needs_for(plan))
    lines = [
        f"{addr}: {fact}: {old} -> {new}"
        for addr, fact, old, new in moved_facts(plan.actions, world)
    ]
    lines += await _restored_since(plan, client, known_tasks)
    if lines:
        shown = "\n".join(f"  {line}" for line in lines[:MOVED_SHOWN_MAX])
        more = (
            f"\n  ... and {len(lines) - MOVED_SHOWN_MAX} more"
            if len(lines) > MOVED_SHOWN_MAX
            else ""
        )
        raise StalePlanError(
            f"the saved plan is stale: {len(lines)} fact(s) it relies on changed\n{shown}{more}",
            "run plan again and review the new plan",
        )


async def _restored_since(
    plan: ExecutionPlan, client: CloudClient, known: Collection[str] = ()
) -> list[str]:
    """One operation-log listing: restores of the plan's targets the cloud accepted since
    the plan was made (a replay of it from another machine, with another state)."""
    writes: dict[str, list[Action]] = {}
    for a in plan.actions:
        if a.action in ("restore", "re-restore", "reconcile") and a.restore is not None:
            for ident in a.restore.written_ids():
                writes.setdefault(ident, []).append(a)
    if not writes:
        return []
    made = plan.cloud_created_at or plan.created_at
    since = made - timedelta(seconds=REPLAY_SLACK_S)
    # the tasks waiting to start first: a time filter on the task's start (the SDK's words
    # for start_time; UNCONFIRMED) shows none of them, yet a replay may be queued; listed
    # before the time-filtered listing, a task that starts in between is in the second
    waiting = await client.list_operation_logs(operation_type="restore", status="waiting")
    logs = await client.list_operation_logs(operation_type="restore", start_time=since)
    listed = {op.id for op in logs}
    logs += [
        op
        for op in waiting
        if op.id not in listed and (op.created_at is None or op.created_at >= since)
    ]
    out: list[str] = []
    for op in sorted(logs, key=lambda o: (_when(o.created_at or o.started_at), o.id)):
        accepted = op.created_at or op.started_at
        if op.id in known:
            continue  # state recorded it before the plan was made (a restore just done)
        for a in writes.get(op.target_id, []):
            if a.action == "reconcile" and (
                op.id == a.task_id
                or (a.task_id is None and accepted is not None and accepted < made)
            ):
                continue  # the earlier task a reconcile looks up is not a replay
            out.append(
                f"{a.address}: restored since the plan was made: task {fmt.clean(op.id)} at {rfc3339(accepted)}"
            )
    return out


def _when(value: datetime | None) -> float:
    return value.timestamp() if value is not None else 0.0


def overwrite_lines(plan: ExecutionPlan, shown: int = 10) -> list[str]:
    """What applying ``plan`` overwrites, short: a count and the first targets by name."""
    seen: dict[str, str] = {}
    for a in plan.actions:
        if a.action in ("restore", "re-restore", "reconcile") and a.restore is not None:
            t = a.restore.target
            seen.setdefault(t.id, f"{t.kind} {fmt.clean(t.name) or t.id}")
    names: Sequence[str] = list(seen.values())
    if not names:
        return []
    head = ", ".join(names[:shown]) + (
        f", ... and {len(names) - shown} more" if len(names) > shown else ""
    )
    return [f"It overwrites {len(names)} target(s): {head}"]
