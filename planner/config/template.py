"""Sandboxed Jinja2 for single strings of an already parsed plan.

Owns rendering one string against a set of variables: only strings holding
``{{`` or ``{%`` are templates; a string that is exactly one ``{{ expr }}``
keeps the native type of its value. Rendering happens after YAML parsing, so
template output can never inject YAML. Does not know where strings live in the
plan: callers turn ``TemplateError`` into a diagnostic at the string's position.

Safety beyond Jinja's ``ImmutableSandboxedEnvironment`` (which already blocks
``__class__``-style access and caps ``range``): every operator, ``~`` concat,
method call and filter is checked so that no value grows past ``MAX_SIZE``
before it is built; the rendered output is counted while it streams; integers
are capped in bits. ``namespace`` is removed (no mutable accumulators).
"""

from __future__ import annotations

import contextvars
import difflib
import functools
import re
from collections.abc import Callable, Mapping
from typing import Any

import jinja2
from jinja2 import nodes
from jinja2.compiler import CodeGenerator, Frame
from jinja2.runtime import Context
from jinja2.sandbox import ImmutableSandboxedEnvironment

MAX_SIZE = 1024 * 1024  # characters (or items) in any value a template builds
MAX_INT_BITS = 4096
MAX_RANGE = 100_000

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


def is_template(s: str) -> bool:
    return "{{" in s or "{%" in s


def _size(v: Any) -> int:
    if isinstance(v, str | bytes | list | tuple | dict | set | frozenset):
        return len(v)
    if isinstance(v, int) and not isinstance(v, bool) and v.bit_length() > MAX_INT_BITS:
        return MAX_SIZE + 1
    return 0


def _check(v: Any) -> Any:
    if _size(v) > MAX_SIZE:
        raise _TooBig()
    return v


def _check_args(args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> None:
    for a in (*args, *kwargs.values()):
        if isinstance(a, int) and not isinstance(a, bool) and abs(a) > MAX_SIZE:
            raise _TooBig()


def _check_format(fmt: Any) -> None:
    # a width or precision inside a format string ("%0999999999d", "{:>999999999}") is a size
    if isinstance(fmt, str) and any(int(n) > MAX_SIZE for n in _DIGITS.findall(fmt)):
        raise _TooBig()


class _CodeGen(CodeGenerator):
    def visit_Concat(self, node: nodes.Concat, frame: Frame) -> None:
        # route `a ~ b` through the environment so its size is checked before joining
        self.write("environment.rp_concat((")
        for arg in node.nodes:
            self.visit(arg, frame)
            self.write(", ")
        self.write("))")


class _Env(ImmutableSandboxedEnvironment):
    code_generator_class = _CodeGen
    intercepted_binops = frozenset({"*", "**", "+", "%", "//", "/", "-"})

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        if operator == "*":
            n, seq = (right, left) if isinstance(right, int) else (left, right)
            if isinstance(n, int) and _size(seq) * max(n, 0) > MAX_SIZE:
                raise _TooBig()
        elif operator == "**" and isinstance(right, int) and isinstance(left, int):
            if abs(left) > 1 and right * max(abs(left).bit_length(), 1) > MAX_INT_BITS:
                raise _TooBig()
        elif operator == "%" and isinstance(left, str):
            _check_format(left)
            _check_args(right if isinstance(right, tuple) else (right,), {})
        elif operator == "+" and _size(left) + _size(right) > MAX_SIZE:
            raise _TooBig()
        return _check(super().call_binop(context, operator, left, right))

    def call(__self, __context: Context, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        _check_args(args, kwargs)
        name = getattr(__obj, "__name__", "")
        if name == "replace" and len(args) >= 2:
            owner = getattr(__obj, "__self__", "")
            if _size(owner) * max(_size(args[1]), 1) > MAX_SIZE:
                raise _TooBig()
        if name == "join" and args and sum(_size(x) for x in args[0]) > MAX_SIZE:
            raise _TooBig()  # str.join: the sum of the pieces
        return _check(super().call(__context, __obj, *args, **kwargs))

    def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
        if getattr(value, "__name__", "") in ("format", "format_map"):
            _check_format(getattr(value, "__self__", None))
        return super().wrap_str_format(value)

    def rp_concat(self, parts: tuple[Any, ...]) -> str:
        pieces = [str(p) for p in parts]
        if sum(len(p) for p in pieces) > MAX_SIZE:
            raise _TooBig()
        return "".join(pieces)


def _guard_filter(f: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(f)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        _check_args(args, kwargs)
        if f.__name__ == "do_format" and args:
            _check_format(args[0])
        if f.__name__ == "do_replace":
            # do_replace(eval_ctx, s, old, new, count)
            s, new = (args[1], args[3]) if len(args) >= 4 else ("", "")
            if _size(str(s)) * max(_size(str(new)), 1) > MAX_SIZE:
                raise _TooBig()
        return _check(f(*args, **kwargs))

    return wrapped


# range() items allowed per render, summed over every call: nested loops cannot spin
_range_budget: contextvars.ContextVar[list[int]] = contextvars.ContextVar("_range_budget")


def _safe_range(*args: int) -> range:
    r = range(*args)
    budget = _range_budget.get([MAX_RANGE])
    budget[0] -= len(r)
    if budget[0] < 0:
        raise _TooBig()
    return r


@functools.cache
def _env() -> _Env:
    env = _Env(undefined=jinja2.StrictUndefined, autoescape=False, keep_trailing_newline=True)
    env.filters = {k: _guard_filter(f) for k, f in env.filters.items()}
    env.globals.pop("namespace", None)
    env.globals["range"] = _safe_range
    return env


def render(text: str, variables: Mapping[str, Any]) -> Any:
    """Render one string; returns plain data (str, or the native value of ``{{ x }}``)."""
    env = _env()
    token = _range_budget.set([MAX_RANGE])
    try:
        m = _SINGLE_EXPR.match(text.strip()) if text.lstrip().startswith("{{") else None
        if m is not None:
            fn = env.compile_expression(m.group("expr"), undefined_to_none=False)
            value = fn(**variables)
            if isinstance(value, jinja2.Undefined):
                str(value)  # raises: StrictUndefined (or the sandbox's security error)
            return _plain(value)
        tmpl = env.from_string(text)
        out: list[str] = []
        total = 0
        for piece in tmpl.root_render_func(tmpl.new_context(dict(variables))):
            total += len(piece)
            if total > MAX_SIZE:
                raise _TooBig()
            out.append(piece)
        return "".join(out)
    except _TooBig:
        raise TemplateError(
            "RP123",
            f"template result is too large (the limit is {MAX_SIZE} characters)",
            "templates may not build huge strings, lists or numbers",
        ) from None
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateError(
            "RP120", f"template syntax error: {exc.message}", "check the {{ ... }} / {% ... %} syntax"
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
        raise TemplateError("RP123", "template result is too large", "simplify the expression") from None
    except TemplateError:
        raise
    except Exception as exc:  # any runtime error in user expressions (1/0, bad filter args)
        raise TemplateError("RP124", f"template failed: {type(exc).__name__}: {exc}") from None
    finally:
        _range_budget.reset(token)


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
