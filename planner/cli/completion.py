"""``restore-planner completion bash|zsh|fish``: completion scripts generated from the parser.

Written here rather than taken from a dependency (shtab, argcomplete): the
parser is plain argparse with two levels of subcommands, a walk over it is
short, and the scripts then need nothing at completion time (argcomplete
re-runs Python on every TAB). Each script walks the words typed so far through
the same table of (sub)commands to find the command being completed, then
offers its subcommands, its options, an option's choices, or file names.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field

from planner.cli.context import Context
from planner.cli.options import CompletionOptions
from planner.cli.output import write_out

PROG = "restore-planner"


@dataclass
class _Option:
    flags: list[str]
    help: str
    choices: list[str]
    takes_value: bool


@dataclass
class _Command:
    path: str  # "" for the top level, "state list" for a subcommand
    help: str = ""
    subcommands: dict[str, str] = field(default_factory=dict)  # name -> help
    options: list[_Option] = field(default_factory=list)
    positional_choices: list[str] = field(default_factory=list)


def _walk(parser: argparse.ArgumentParser, path: str = "", help: str = "") -> list[_Command]:
    cmd = _Command(path, help)
    found = [cmd]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {a.dest: a.help or "" for a in action._choices_actions}
            for name, sub in action.choices.items():
                cmd.subcommands[name] = helps.get(name, "")
                found += _walk(sub, f"{path} {name}".strip(), helps.get(name, ""))
        elif action.help == argparse.SUPPRESS:
            continue
        elif action.option_strings:
            cmd.options.append(
                _Option(
                    list(action.option_strings),
                    _clean(action.help or ""),
                    [str(c) for c in action.choices or ()],
                    action.nargs != 0,
                )
            )
        elif action.choices:
            cmd.positional_choices += [str(c) for c in action.choices]
    return found


def _clean(text: str) -> str:
    return (
        text.replace("'", "")
        .replace('"', "")
        .replace("`", "")
        .replace("\n", " ")
        .replace("%%", "%")
    )


def _key(path: str) -> str:
    return path.replace(" ", "_").replace("-", "_") or "_"


def _transitions(commands: list[_Command]) -> list[tuple[str, str, str]]:
    """(key of the current path, next word, key of the new path) for every subcommand."""
    return [
        (_key(c.path), name, _key(f"{c.path} {name}".strip()))
        for c in commands
        for name in c.subcommands
    ]


def bash(commands: list[_Command]) -> str:
    steps = "\n".join(
        f'            "{k}/{w}") rp_path={n} ;;' for k, w, n in _transitions(commands)
    )
    words, values = [], []
    for c in commands:
        opts = [f for o in c.options for f in o.flags]
        words.append(
            f'        {_key(c.path)}) words="{" ".join([*c.subcommands, *c.positional_choices, *opts])}" ;;'
        )
        for o in c.options:
            if o.takes_value:
                action = f'compgen -W "{" ".join(o.choices)}"' if o.choices else "compgen -f"
                pattern = "|".join(f"{_key(c.path)}/{f}" for f in o.flags)
                values.append(f'        {pattern}) COMPREPLY=($({action} -- "$cur")); return ;;')
    return f"""# bash completion for {PROG} (generated: {PROG} completion bash)
_restore_planner() {{
    local cur="${{COMP_WORDS[COMP_CWORD]}}" prev="${{COMP_WORDS[COMP_CWORD-1]}}"
    local rp_path=_ i words
    for ((i = 1; i < COMP_CWORD; i++)); do
        case "$rp_path/${{COMP_WORDS[i]}}" in
{steps}
        esac
    done
    case "$rp_path/$prev" in
{chr(10).join(values)}
    esac
    case "$rp_path" in
{chr(10).join(words)}
    esac
    COMPREPLY=($(compgen -W "$words" -- "$cur"))
    if [[ "$cur" != -* ]]; then
        COMPREPLY+=($(compgen -f -- "$cur"))
    fi
}}
complete -o filenames -F _restore_planner {PROG}
"""


def zsh(commands: list[_Command]) -> str:
    steps = "\n".join(f'      "{k}/{w}") rp_path={n} ;;' for k, w, n in _transitions(commands))
    values, items = [], []
    for c in commands:
        entries = [f"'{name}:{_clean(h)}'" for name, h in c.subcommands.items()]
        entries += [f"'{ch}'" for ch in c.positional_choices]
        entries += [
            f"'{f.replace(':', chr(92) + ':')}:{o.help}'" for o in c.options for f in o.flags
        ]
        items.append(f"    {_key(c.path)}) items=({' '.join(entries)}) ;;")
        for o in c.options:
            if o.takes_value:
                action = f"compadd -- {' '.join(o.choices)}" if o.choices else "_files"
                pattern = "|".join(f"{_key(c.path)}/{f}" for f in o.flags)
                values.append(f"    {pattern}) {action}; return ;;")
    return f"""#compdef {PROG}
# zsh completion for {PROG} (generated: {PROG} completion zsh)
_restore_planner() {{
  local rp_path=_ i
  local -a items
  for ((i = 2; i < CURRENT; i++)); do
    case "$rp_path/${{words[i]}}" in
{steps}
    esac
  done
  case "$rp_path/${{words[CURRENT-1]}}" in
{chr(10).join(values)}
  esac
  case "$rp_path" in
{chr(10).join(items)}
  esac
  _describe -t commands '{PROG}' items
  [[ "${{words[CURRENT]}}" == -* ]] || _files
}}
if [[ "$funcstack[1]" == "_restore_planner" ]]; then
  _restore_planner "$@"
else
  compdef _restore_planner {PROG}
fi
"""


def fish(commands: list[_Command]) -> str:
    steps = "\n".join(
        f"            case '{k}/{w}'\n                set rp_path {n}"
        for k, w, n in _transitions(commands)
    )
    lines = [
        f"# fish completion for {PROG} (generated: {PROG} completion fish)",
        "function __restore_planner_path",
        "    set -l rp_path _",
        "    for w in (commandline -opc)[2..-1]",
        '        switch "$rp_path/$w"',
        steps,
        "        end",
        "    end",
        "    echo $rp_path",
        "end",
        f"complete -c {PROG} -f",
    ]
    for c in commands:
        cond = f"-n 'test (__restore_planner_path) = {_key(c.path)}'"
        for name, h in c.subcommands.items():
            lines.append(f"complete -c {PROG} {cond} -a {name} -d '{_clean(h)}'")
        if c.positional_choices:
            lines.append(f"complete -c {PROG} {cond} -a '{' '.join(c.positional_choices)}'")
        elif not c.subcommands and c.path:
            lines.append(f"complete -c {PROG} {cond} -F")
        for o in c.options:
            flags = " ".join(
                f"-l {f[2:]}" if f.startswith("--") else f"-s {f[1:]}" for f in o.flags
            )
            value = (
                (f" -x -a '{' '.join(o.choices)}'" if o.choices else " -r -F")
                if o.takes_value
                else ""
            )
            lines.append(f"complete -c {PROG} {cond} {flags}{value} -d '{o.help}'")
    return "\n".join(lines) + "\n"


def script(shell: str, parser: argparse.ArgumentParser | None = None) -> str:
    if parser is None:
        from planner.cli.main import build_parser

        parser = build_parser()
    commands = _walk(parser)
    return {"bash": bash, "zsh": zsh, "fish": fish}[shell](commands)


def run(opts: CompletionOptions, ctx: Context) -> int:
    write_out(script(opts.shell))
    return 0
