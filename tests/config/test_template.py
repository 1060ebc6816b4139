from __future__ import annotations

import pytest

from planner.config.template import TemplateError, render

V = {"app_servers": ["a", "b"], "pit": "2026-11-20T00:00:00Z", "n": 3, "each": {"key": "k", "value": {"x": 1}}}


def test_single_expression_keeps_native_type() -> None:
    assert render("{{ app_servers }}", V) == ["a", "b"]
    assert render("{{ n }}", V) == 3
    assert render("{{ each.value }}", V) == {"x": 1}
    assert render("{{ range(3) }}", V) == [0, 1, 2]


def test_mixed_text_renders_a_string() -> None:
    assert render("at {{ pit }} n={{ n }}", V) == "at 2026-11-20T00:00:00Z n=3"
    assert render("{% if n > 2 %}big{% endif %}", V) == "big"


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("{{ ''.__class__ }}", "RP122"),
        ("{{ ''.__class__.__mro__[1].__subclasses__() }}", "RP122"),
        ("{{ cycler.__init__.__globals__ }}", "RP122"),
        ("{{ app_servers.__len__ }}", "RP122"),
        ("{{ 'a' * 10**9 }}", "RP123"),
        ("{{ [1] * 10**9 }}", "RP123"),
        ("{{ range(10**9) }}", "RP123"),
        ("{{ 2 ** (10**9) }}", "RP123"),
        ("{{ 'a'|center(10**9) }}", "RP123"),
        ("{{ 'a'.ljust(10**9) }}", "RP123"),
        ("{{ '%0999999999d' % 1 }}", "RP123"),
        ("{{ '%0999999999d'|format(1) }}", "RP123"),
        ("{{ '{:>999999999}'.format(1) }}", "RP123"),
        ("{% set a = 'x' * 1000000 %}{% set b = a ~ a %}{{ b|length }}", "RP123"),
        ("{% for i in range(100000) %}{{ 'xxxxxxxxxxxx' }}{% endfor %}", "RP123"),
        ("{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}", "RP123"),
        # issue 10 item 6: each is small, together they exhaust the machine
        ("{{ range(100000) | map('string') | map('center', 1000000) | list | length }}", "RP123"),
        ("{{ [['x' * 1000000] * 100] * 1000 }}", "RP123"),
        ("{{ ([['x' * 1000000] * 100])|string|length }}", "RP123"),
        ("{{ range(100000)|join('x' * 1000000) }}", "RP123"),
        ("{{ ('x' * 1000000).join(range(100000)|map('string')) }}", "RP123"),
        ("{{ ('a\n' * 100000)|indent(1000000) }}", "RP123"),
        ("{{ ('%*d' * 1000) % ((1000000, 1) * 1000) }}", "RP123"),
        ("{{ lipsum(1000000) }}", "RP121"),
        ("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}", "RP125"),
        ("{% macro f(n) %}{% if n > 0 %}{{ f(n-1) }}{{ f(n-1) }}{% endif %}{% endmacro %}{{ f(30) }}", "RP125"),
        ("{% set r = range(1000)|list %}{% for i in r %}{% for j in r %}{% for k in r %}{% endfor %}{% endfor %}{% endfor %}", "RP125"),
        ("{% set r = range(1000)|list %}{% for i in r %}{% for j in r %}{% for k in r if false %}{% endfor %}{% endfor %}{% endfor %}", "RP125"),
        ("{{ namespace() }}", "RP121"),
        ("{{ pt }}", "RP121"),
        ("{{ x", "RP120"),
        ("{{ 1 / 0 }}", "RP124"),
        ("{{ range }}", "RP124"),
    ],
)
def test_refused(text: str, code: str) -> None:
    with pytest.raises(TemplateError) as info:
        render(text, V)
    assert info.value.code == code


def test_undefined_has_did_you_mean() -> None:
    with pytest.raises(TemplateError) as info:
        render("{{ app_server }}", V)
    assert (info.value.message, info.value.hint) == (
        "undefined variable 'app_server'",
        "did you mean 'app_servers'? define it under vars:, in a --var-file, or with --var",
    )


def test_loops_and_macros_within_budget_still_work() -> None:
    assert render("{% for i in range(5) if i is odd %}{{ loop.index }}{{ i }}{% endfor %}", V) == "1123"
    assert render("{% for i in [] %}{{ i }}{% else %}none{% endfor %}", V) == "none"
    assert render("{% macro f(n) %}{% if n > 0 %}{{ n }}{{ f(n - 1) }}{% endif %}{% endmacro %}{{ f(12) }}", V) == "121110987654321"
    assert render("{{ range(1000)|map('string')|join(',')|length }}", V) == 3889
    assert render("{{ ['a'] * 3 }}", V) == ["a", "a", "a"]
