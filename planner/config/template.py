"""Sandboxed Jinja2 for single strings of an already parsed plan.

Owns rendering one string against a set of variables: only strings holding
``{{`` or ``{%`` are templates; a string that is exactly one ``{{ expr }}``
keeps the native type of its value. Rendering happens after YAML parsing, so
template output can never inject YAML. Does not know where strings live in the
plan: callers turn ``TemplateError`` into a diagnostic at the string's position.

Safety beyond Jinja's ``ImmutableSandboxedEnvironment`` (which already blocks
``__class__``-style access and caps ``range``): every operator, ``~`` concat,
method call and filter is checked so that no value grows past ``MAX_SIZE``
before it is built (containers by what they would print: a list of references
to one big string is small until it is printed); the rendered output is counted
while it streams; integers are capped in bits. Each string rendered has a budget
(``_Budget``): all values built together (``MAX_TOTAL``), steps (calls, filters,
tests, loop iterations, items walked: ``MAX_STEPS``), macro nesting
(``MAX_DEPTH``) and CPU time (``CPU_BUDGET_S``), so that no template can exhaust
memory or spin. ``namespace`` and ``lipsum`` are removed.

Every string of one plan load also draws on one ``PlanBudget`` (characters
rendered, values built, steps, CPU time: ``PLAN_MAX_*``), so that for_each
cannot multiply the per-string limits by the number of instances. A load's
budget is the active one (``plan_scope()``), else one started by the first
string the loader renders and ended by ``end_ambient_budget()`` once the
restores are expanded. Once it is spent, ``render`` raises ``BudgetSpent``
(after one ``TemplateError`` at the string that crossed it).
"""

from __future__ import annotations

import contextlib
import contextvars
import copy
import difflib
import functools
import re
import time
from collections import ChainMap
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import jinja2
from jinja2 import nodes
from jinja2.compiler import CodeGenerator, Frame
from jinja2.runtime import Context
from jinja2.sandbox import ImmutableSandboxedEnvironment

MAX_SIZE = 1024 * 1024  # characters (or items) in any value a template builds
MAX_INT_BITS = 4096
MAX_RANGE = 100_000
# Per string rendered: what all values built together may hold (a million 1 MiB strings
# are each "small"), how many steps (calls, filters, loop iterations, items walked) it
# may take, how deep macros may nest, and how much CPU time it may use.
MAX_TOTAL = 8 * MAX_SIZE
MAX_STEPS = 500_000
MAX_DEPTH = 40
CPU_BUDGET_S = 2.0
# Per plan load, every string and every for_each instance together: characters rendered
# (what the loaded plan keeps), characters of values built, steps, strings rendered and CPU
# time. A plan of 100,000 templated restores (expand.MAX_RESTORES) with 5 templated strings
# each renders a few MiB in about 500,000 renders and 1,500,000 steps, in 40 s of CPU here.
PLAN_MAX_OUTPUT = 64 * MAX_SIZE
PLAN_MAX_TOTAL = 256 * MAX_SIZE
PLAN_MAX_STEPS = 4_000_000
PLAN_MAX_RENDERS = 1_000_000
PLAN_CPU_BUDGET_S = 60.0

_SINGLE_EXPR = re.compile(r"^\{\{(?P<expr>(?:(?!\{\{|\}\}|\{%|\{#).)*)\}\}$", re.DOTALL)
_DIGITS = re.compile(r"\d{7,}")
_UNDEFINED_NAME = re.compile(r"^'([^']+)' is undefined$")


class TemplateError(Exception):
    """A template problem; ``code`` is the diagnostic code, ``hint`` how to fix it."""

    def __init__(self, code: str, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.hint = hint


class _TooBig(Exception):
    pass


class _TooCostly(Exception):
    def __init__(self, why: str) -> None:
        super().__init__(why)
        self.why = why


class _PlanSpent(Exception):
    def __init__(self, why: str) -> None:
        super().__init__(why)
        self.why = why


class BudgetSpent(Exception):
    """The plan's template budget was spent by earlier strings (already reported once)."""


class PlanBudget:
    """What all the strings of one plan load may still spend together."""

    __slots__ = ("alloc_left", "ambient", "cpu_left", "output_left", "renders_left", "spent",
                 "steps_left")  # fmt: skip

    def __init__(self, ambient: bool = False) -> None:
        self.output_left = PLAN_MAX_OUTPUT
        self.alloc_left = PLAN_MAX_TOTAL
        self.steps_left = PLAN_MAX_STEPS
        self.renders_left = PLAN_MAX_RENDERS
        self.cpu_left = PLAN_CPU_BUDGET_S
        self.spent = False
        self.ambient = ambient

    def check(self) -> None:
        """Spent already (by strings that each stayed within their share)?"""
        if self.output_left <= 0:
            raise _PlanSpent(f"more than {PLAN_MAX_OUTPUT // MAX_SIZE} MiB rendered")
        if self.alloc_left <= 0:
            raise _PlanSpent(f"more than {PLAN_MAX_TOTAL // MAX_SIZE} MiB of values built")
        if self.steps_left <= 0:
            raise _PlanSpent(f"more than {PLAN_MAX_STEPS:,} steps")
        if self.cpu_left <= 0:
            raise _PlanSpent(f"more than {PLAN_CPU_BUDGET_S:g}s of CPU time")
        self.renders_left -= 1
        if self.renders_left < 0:
            raise _PlanSpent(f"more than {PLAN_MAX_RENDERS:,} templated strings rendered")


_plan: contextvars.ContextVar[PlanBudget | None] = contextvars.ContextVar("_plan", default=None)


def plan_budget() -> PlanBudget:
    """The active plan budget; the first string of a load starts one."""
    b = _plan.get()
    if b is None:
        b = PlanBudget(ambient=True)
        _plan.set(b)
    return b


def end_ambient_budget() -> None:
    """Ends a budget that plan_budget() started (not one of an enclosing plan_scope())."""
    b = _plan.get()
    if b is not None and b.ambient:
        _plan.set(None)


@contextlib.contextmanager
def plan_scope() -> Iterator[PlanBudget]:
    """One budget for every string rendered inside (a whole plan load)."""
    token = _plan.set(PlanBudget())
    try:
        b = _plan.get()
        assert b is not None
        yield b
    finally:
        _plan.reset(token)


class _Budget:
    """What one render may still spend; checked before each value is built. Where the
    plan's budget holds less than a string's own limit, reaching it is _PlanSpent."""

    __slots__ = ("alloc_left", "deadline", "depth", "plan", "range_left", "sizes", "start",
                 "steps_left", "tick")  # fmt: skip

    def __init__(self, plan: PlanBudget | None = None) -> None:
        self.plan = plan
        self.range_left = MAX_RANGE
        self.steps_left = min(MAX_STEPS, plan.steps_left) if plan else MAX_STEPS
        self.alloc_left = min(MAX_TOTAL, plan.alloc_left) if plan else MAX_TOTAL
        self.depth = 0
        self.start = time.thread_time()
        self.deadline = self.start + (min(CPU_BUDGET_S, plan.cpu_left) if plan else CPU_BUDGET_S)
        # id -> (container, deep size): the container is held so its id cannot be reused
        self.sizes: dict[int, tuple[Any, int]] = {}
        self.tick = 0

    def steps(self, n: int = 1) -> None:
        self.steps_left -= n
        if self.steps_left < 0:
            if self.plan is not None and self.plan.steps_left < MAX_STEPS:
                raise _PlanSpent(f"more than {PLAN_MAX_STEPS:,} steps")
            raise _TooCostly(f"more than {MAX_STEPS:,} steps (loop iterations, calls, items)")
        self.tick += n
        if self.tick >= 1024:
            self.tick = 0
            if time.thread_time() > self.deadline:
                if self.plan is not None and self.plan.cpu_left < CPU_BUDGET_S:
                    raise _PlanSpent(f"more than {PLAN_CPU_BUDGET_S:g}s of CPU time")
                raise _TooCostly(f"more than {CPU_BUDGET_S:g}s of CPU time")

    def alloc(self, n: int) -> None:
        self.alloc_left -= n
        if self.alloc_left < 0:
            if self.plan is not None and self.plan.alloc_left < MAX_TOTAL:
                raise _PlanSpent(f"more than {PLAN_MAX_TOTAL // MAX_SIZE} MiB of values built")
            raise _TooBig()

    def settle(self, output: int) -> None:
        """Charge what this render spent to the plan's budget."""
        plan = self.plan
        if plan is None:
            return
        plan.steps_left -= min(MAX_STEPS, plan.steps_left) - max(self.steps_left, 0)
        plan.alloc_left -= min(MAX_TOTAL, plan.alloc_left) - max(self.alloc_left, 0)
        plan.cpu_left -= time.thread_time() - self.start
        plan.output_left -= output


_budget: contextvars.ContextVar[_Budget] = contextvars.ContextVar("_budget")


def _current() -> _Budget:
    b = _budget.get(None)
    if b is None:  # a template function called outside render(): give it a budget of its own
        b = _Budget()
        _budget.set(b)
    return b


def is_template(s: str) -> bool:
    return "{{" in s or "{%" in s


def _size(v: Any) -> int:
    if isinstance(v, str | bytes | list | tuple | dict | set | frozenset | range):
        return len(v)
    if isinstance(v, int) and not isinstance(v, bool) and v.bit_length() > MAX_INT_BITS:
        return MAX_SIZE + 1
    return 0


def _deep(v: Any) -> int:
    """Characters ``str(v)`` would take, about (containers of references to big strings
    are small themselves and huge once printed); stops counting past MAX_SIZE."""
    if isinstance(v, str | bytes):
        return len(v)
    if not isinstance(v, list | tuple | dict | set | frozenset):
        return _size(v)
    budget = _current()
    hit = budget.sizes.get(id(v))
    if hit is not None:
        return hit[1]
    total, stack, walked = 0, [v], 0
    while stack and total <= MAX_SIZE:
        x = stack.pop()
        walked += 1
        if isinstance(x, str | bytes):
            total += len(x) + 2
        elif isinstance(x, dict):
            total += 2
            stack.extend(x.keys())
            stack.extend(x.values())
        elif isinstance(x, list | tuple | set | frozenset):
            total += 2
            stack.extend(x)
        else:
            total += max(_size(x), 4)
    budget.steps(walked // 8)
    budget.sizes[id(v)] = (v, total)
    return total


def _check(v: Any) -> Any:
    n = _size(v)
    if n > MAX_SIZE:
        raise _TooBig()
    if n:
        _current().alloc(n)
    return v


def _check_deep(*values: Any) -> None:
    for v in values:
        if _deep(v) > MAX_SIZE:
            raise _TooBig()


def _check_args(args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> None:
    for a in (*args, *kwargs.values()):
        if isinstance(a, int) and not isinstance(a, bool) and abs(a) > MAX_SIZE:
            raise _TooBig()
        _check_deep(a)


def _check_format(fmt: Any, args: tuple[Any, ...] = ()) -> None:
    # a width or precision inside a format string ("%0999999999d", "{:>999999999}") is a size;
    # so is a width given as an argument ("%*d") once per placeholder
    if not isinstance(fmt, str):
        return
    if any(len(n) > 7 or int(n) > MAX_SIZE for n in _DIGITS.findall(fmt)):
        raise _TooBig()
    widest = max(
        (abs(a) for a in args if isinstance(a, int) and not isinstance(a, bool)), default=0
    )
    placeholders = fmt.count("%") + fmt.count("{")
    if len(fmt) + sum(_deep(a) for a in args) + placeholders * min(widest, MAX_SIZE) > MAX_SIZE:
        raise _TooBig()


def _materialize(v: Any) -> Any:
    """An iterator argument as a list (its items are counted as they come)."""
    if isinstance(v, str | bytes | list | tuple | dict | set | frozenset | range) or not hasattr(
        v, "__iter__"
    ):
        return v
    out = []
    budget = _current()
    for x in v:
        budget.steps()
        out.append(x)
        if len(out) > MAX_SIZE:
            raise _TooBig()
    return out


def _join_bound(items: Any, sep: Any) -> None:
    if isinstance(items, str | bytes | list | tuple | dict | set | frozenset | range):
        n = len(items)
        total = (
            sum(_deep(x) for x in items) if not isinstance(items, str | bytes | range) else n * 8
        )
        if total + n * _deep(sep) > MAX_SIZE:
            raise _TooBig()


# a constant the code generator writes as ``environment.rp_step()`` (Jinja forbids custom
# node types; loops are rewritten at code generation, after Jinja's constant folding)
_STEP = object()


class _CodeGen(CodeGenerator):
    def visit_Concat(self, node: nodes.Concat, frame: Frame) -> None:
        # route `a ~ b` through the environment so its size is checked before joining
        self.write("environment.rp_concat((")
        for arg in node.nodes:
            self.visit(arg, frame)
            self.write(", ")
        self.write("))")

    def visit_For(self, node: nodes.For, frame: Frame) -> None:
        # every iteration (and every item a loop filter looks at) is a step of the budget:
        # nested loops over a list cannot spin for hours
        tick = nodes.Const(_STEP)
        node = copy.copy(node)
        node.body = [nodes.ExprStmt(tick), *node.body]
        if node.test is not None:
            node.test = nodes.And(tick, node.test)
        super().visit_For(node, frame)

    def visit_Const(self, node: nodes.Const, frame: Frame) -> None:
        if node.value is _STEP:
            self.write("environment.rp_step()")  # a step without a sandboxed call's cost
        else:
            super().visit_Const(node, frame)


class _Env(ImmutableSandboxedEnvironment):
    code_generator_class = _CodeGen
    intercepted_binops = frozenset({"*", "**", "+", "%", "//", "/", "-"})

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        _current().steps()
        if operator == "*":
            n, seq = (right, left) if isinstance(right, int) else (left, right)
            if isinstance(n, int) and _size(seq) * max(n, 0) > MAX_SIZE:
                raise _TooBig()
        elif operator == "**" and isinstance(right, int) and isinstance(left, int):
            if abs(left) > 1 and right * max(abs(left).bit_length(), 1) > MAX_INT_BITS:
                raise _TooBig()
        elif operator == "%" and isinstance(left, str):
            args = right if isinstance(right, tuple) else (right,)
            _check_args(args, {})
            _check_format(left, args)
        elif operator == "+" and _size(left) + _size(right) > MAX_SIZE:
            raise _TooBig()
        return _check(super().call_binop(context, operator, left, right))

    def call(__self, __context: Context, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        budget = _current()
        budget.steps()
        name = getattr(__obj, "__name__", "")
        if name == "join" and args:
            args = (_materialize(args[0]), *args[1:])
            _join_bound(args[0], getattr(__obj, "__self__", ""))  # str.join: pieces and separators
        _check_args(args, kwargs)
        if name == "replace" and len(args) >= 2:
            owner = getattr(__obj, "__self__", "")
            if _size(owner) * max(_size(args[1]), 1) > MAX_SIZE:
                raise _TooBig()
        budget.depth += 1  # macros call macros through here: recursion is bounded
        try:
            if budget.depth > MAX_DEPTH:
                raise _TooCostly(f"calls nested more than {MAX_DEPTH} deep (a recursive macro?)")
            return _check(super().call(__context, __obj, *args, **kwargs))
        finally:
            budget.depth -= 1

    def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
        if getattr(value, "__name__", "") in ("format", "format_map"):
            _check_format(getattr(value, "__self__", None))
        return super().wrap_str_format(value)

    def rp_concat(self, parts: tuple[Any, ...]) -> str:
        _check_deep(*parts)
        pieces = [str(p) for p in parts]
        if sum(len(p) for p in pieces) > MAX_SIZE:
            raise _TooBig()
        return _check("".join(pieces))  # type: ignore[no-any-return]

    def rp_step(self) -> bool:
        _current().steps()
        return True


def _finalize(value: Any) -> Any:
    # every {{ ... }} output is turned into a string right after this: size it first
    _check_deep(value)
    return value


def _guard_filter(f: Callable[..., Any]) -> Callable[..., Any]:
    name = f.__name__

    @functools.wraps(f)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        _current().steps()
        if name == "do_join" and len(args) >= 2:
            # do_join(eval_ctx, value, d="", attribute=None)
            args = (args[0], _materialize(args[1]), *args[2:])
            _join_bound(args[1], args[2] if len(args) > 2 else kwargs.get("d", ""))
        _check_args(args, kwargs)
        if name == "do_format" and args:
            _check_format(args[0], args[1:])
        if name == "do_replace":
            # do_replace(eval_ctx, s, old, new, count)
            s, new = (args[1], args[3]) if len(args) >= 4 else ("", "")
            if _size(str(s)) * max(_size(str(new)), 1) > MAX_SIZE:
                raise _TooBig()
        if name == "do_indent" and args:
            # do_indent(s, width=4, first=False, blank=False): every line gets the indent
            width = args[1] if len(args) > 1 else kwargs.get("width", 4)
            per_line = (
                len(width) if isinstance(width, str) else (width if isinstance(width, int) else 4)
            )
            if _deep(args[0]) + (str(args[0]).count("\n") + 1) * max(per_line, 0) > MAX_SIZE:
                raise _TooBig()
        if name == "do_wordwrap" and len(args) >= 2:
            # do_wordwrap(environment, s, width=79, break_long_words, wrapstring, ...)
            width = args[2] if len(args) > 2 else kwargs.get("width", 79)
            wrap = args[4] if len(args) > 4 else kwargs.get("wrapstring") or "\n"
            lines = _deep(args[1]) // max(width if isinstance(width, int) else 79, 1) + 1
            if _deep(args[1]) + lines * _deep(wrap) > MAX_SIZE:
                raise _TooBig()
        return _check(f(*args, **kwargs))

    return wrapped


def _guard_test(f: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(f)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        _current().steps()  # select()/reject() over a long list, in a loop, is counted
        return f(*args, **kwargs)

    return wrapped


def _safe_range(*args: int) -> range:
    r = range(*args)
    budget = _current()
    budget.range_left -= len(r)  # summed over every call: nested loops cannot spin
    if budget.range_left < 0:
        raise _TooBig()
    return r


@functools.cache
def _env() -> _Env:
    env = _Env(
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        keep_trailing_newline=True,
        finalize=_finalize,
    )
    env.filters = {k: _guard_filter(f) for k, f in env.filters.items()}
    env.tests = {k: _guard_test(f) for k, f in env.tests.items()}  # type: ignore[arg-type]
    env.globals.pop("namespace", None)  # no mutable accumulators
    env.globals.pop("lipsum", None)  # lipsum(n) builds n paragraphs before anything can size them
    env.globals["range"] = _safe_range
    return env


# compiled templates are kept for strings up to this long: for_each renders each of its
# restore's strings once per instance, and compiling is most of rendering's cost
_CACHED_TEXT = 4096


@functools.lru_cache(maxsize=256)
def _cached(text: str) -> tuple[jinja2.Template, bool]:
    return _compile(text)


def _compile(text: str) -> tuple[jinja2.Template, bool]:
    """The compiled template, and whether it is one expression (its value keeps its type)."""
    env = _env()
    m = _SINGLE_EXPR.match(text.strip()) if text.lstrip().startswith("{{") else None
    if m is None:
        return env.from_string(text), False
    # compile_expression's template: `{% set result = expr %}`, run below without
    # TemplateExpression.__call__, which copies the variables into a dict
    return env.compile_expression(m.group("expr"), undefined_to_none=False)._template, True


def render(text: str, variables: Mapping[str, Any]) -> Any:
    """Render one string; returns plain data (str, or the native value of ``{{ x }}``)."""
    plan = _plan.get()
    if plan is not None and plan.spent:
        raise BudgetSpent()
    budget = _Budget(plan)
    token = _budget.set(budget)
    output = 0
    try:
        if plan is not None:
            plan.check()
        tmpl, expression = _cached(text) if len(text) <= _CACHED_TEXT else _compile(text)
        # variables are looked up, never copied: a for_each instance adds `each` on top
        ctx = tmpl.new_context(ChainMap(variables, tmpl.globals), shared=True)  # type: ignore[arg-type]
        if expression:
            for _ in tmpl.root_render_func(ctx):
                pass
            value = ctx.vars["result"]
            if isinstance(value, jinja2.Undefined):
                str(value)  # raises: StrictUndefined (or the sandbox's security error)
            output = _deep(value)
            if plan is not None and output > plan.output_left:
                raise _PlanSpent(f"more than {PLAN_MAX_OUTPUT // MAX_SIZE} MiB rendered")
            if output > MAX_SIZE:
                raise _TooBig()
            return _plain(value)
        out: list[str] = []
        limit = min(MAX_SIZE, plan.output_left) if plan is not None else MAX_SIZE
        for piece in tmpl.root_render_func(ctx):
            output += len(piece)
            if output > limit:
                if limit < MAX_SIZE:
                    raise _PlanSpent(f"more than {PLAN_MAX_OUTPUT // MAX_SIZE} MiB rendered")
                raise _TooBig()
            out.append(piece)
        return "".join(out)
    except _PlanSpent as exc:
        assert plan is not None
        plan.spent = True
        raise TemplateError(
            "RP126",
            f"the plan's templates cost too much in all: {exc.why}",
            f"all templates of a plan together may render {PLAN_MAX_OUTPUT // MAX_SIZE} MiB, build "
            f"{PLAN_MAX_TOTAL // MAX_SIZE} MiB of values, take {PLAN_MAX_STEPS:,} steps, "
            f"{PLAN_MAX_RENDERS:,} strings and {PLAN_CPU_BUDGET_S:g}s of CPU time (for_each "
            "repeats every template of its restore); "
            "compute big lists in a var file, or split the plan",
        ) from None
    except _TooCostly as exc:
        raise TemplateError(
            "RP125",
            f"template evaluation is too costly: {exc.why}",
            "templates pick and format values; they may not run long computations",
        ) from None
    except _TooBig:
        raise TemplateError(
            "RP123",
            f"template result is too large (the limit is {MAX_SIZE} characters)",
            "templates may not build huge strings, lists or numbers",
        ) from None
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateError(
            "RP120",
            f"template syntax error: {exc.message}",
            "check the {{ ... }} / {% ... %} syntax",
        ) from None
    except jinja2.exceptions.SecurityError as exc:
        raise TemplateError(
            "RP122",
            f"template tried something the sandbox forbids: {exc}",
            "templates may only read variables and use filters; Python internals are off limits",
        ) from None
    except jinja2.UndefinedError as exc:
        raise _undefined(str(exc.message or ""), variables) from None
    except (OverflowError, MemoryError, RecursionError):
        raise TemplateError(
            "RP123", "template result is too large", "simplify the expression"
        ) from None
    except TemplateError:
        raise
    except Exception as exc:  # any runtime error in user expressions (1/0, bad filter args)
        raise TemplateError("RP124", f"template failed: {type(exc).__name__}: {exc}") from None
    finally:
        budget.settle(output)
        _budget.reset(token)


def _undefined(message: str, variables: Mapping[str, Any]) -> TemplateError:
    m = _UNDEFINED_NAME.match(message)
    if not m:
        return TemplateError("RP121", f"template uses an undefined value: {message}")
    name = m.group(1)
    if name == "each":
        return TemplateError(
            "RP121",
            "'each' is undefined",
            "each.key and each.value exist only inside a restore that has for_each",
        )
    close = difflib.get_close_matches(name, [str(k) for k in variables], n=1)
    hint = f"did you mean {close[0]!r}? " if close else ""
    hint += "define it under vars:, in a --var-file, or with --var"
    return TemplateError("RP121", f"undefined variable {name!r}", hint)


def _plain(v: Any, depth: int = 0) -> Any:
    """Native values must be data: the rest of the pipeline never sees Python objects."""
    if depth > 50:
        raise TemplateError("RP124", "template value is nested too deeply")
    if v is None or isinstance(v, bool | int | float | str):
        return str(v) if isinstance(v, str) else v
    if isinstance(v, list | tuple | range):
        return [_plain(x, depth + 1) for x in v]
    if isinstance(v, dict):
        return {str(k): _plain(x, depth + 1) for k, x in v.items()}
    raise TemplateError(
        "RP124",
        f"template produced a {type(v).__name__}, not plain data",
        "an expression must yield a string, number, boolean, list or map",
    )
