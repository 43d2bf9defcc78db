#!/usr/bin/env python3
"""Reference renderer for proctor's differential Jinja test (the oracle).

Usage: reference_render.py TEMPLATE_FILE CONTEXT_JSON_FILE

Renders TEMPLATE_FILE with Python Jinja2 (the version pinned in requirements.txt) the way
AWS Proton did: jinja2.Environment(undefined=StrictUndefined), every other setting at
Jinja2's default (no trim_blocks, no lstrip_blocks, keep_trailing_newline=False,
autoescape=False), plus Proton's four proton_cfn_* filters written here from
shared/reference/proton-format.md section 3.

The top-level JSON object of CONTEXT_JSON_FILE is the template's variables.
The rendered text goes to stdout exactly (UTF-8, no newline translation, nothing added).

Exit status: 0 rendered; 1 the template failed to render (stderr has one
`error: <ExceptionClassName>: <message>`); 2 usage error or unreadable input files.
"""

import json
import re
import sys

import jinja2

# --------------------------------------------------------------------------------------
# Proton's filters
# --------------------------------------------------------------------------------------

SAFE_VALUE = re.compile(r"[a-zA-Z0-9_-]*")
ARN = re.compile(r"arn:[a-z0-9-]+:[a-z0-9-]+:[a-z0-9-]*:([0-9]{12}|aws)?:[^\s]+")
IAM_POLICY_ARN = re.compile(r"arn:[a-z0-9-]+:iam::[0-9]{12}:policy/.+")
# All three use re.fullmatch (not `^...$`: Python's `$` would also match before a
# trailing "\n"). Note `.` in IAM_POLICY_ARN does not match "\n", so a value with a
# newline is never a policy ARN; `[^\s]` in ARN excludes all Unicode whitespace.


class ProtonFilterError(Exception):
    """A Proton filter refused its input (the "illegal characters" errors)."""


class ProtonIndentError(Exception):
    """The output of a multi-line filter was altered before it was printed (see below)."""


# Indentation of the multi-line filters.
#
# Rule: a multi-line filter's lines are joined with "\n", and every line after the first
# is indented by N spaces, N being the 0-based column (in characters, i.e. Unicode code
# points) at which the filter's output begins in its line of the *rendered output*.
#
# A filter cannot know that column while it runs, so each multi-line filter returns
#     START(id) line0 "\n" CONT(id) line1 "\n" CONT(id) line2 ...
# where START(id) = "\x00\x01<id>\x00" and CONT(id) = "\x00\x02<id>\x00" (id: a decimal
# number unique to that filter call). The sentinels contain no letters, so `upper`/`lower`
# leave them intact. After rendering, `resolve_indentation` walks the output left to right:
#   - at START(id): N = number of characters between the last "\n" before it (or the start
#     of the text) and the sentinel, in the output as already resolved to its left
#     (earlier sentinels removed or expanded); remember N for id; remove the sentinel.
#   - at CONT(id): replace it with N spaces, N being the one remembered for the most recent
#     START(id) to its left. Printing the same `{% set %}` variable twice therefore indents
#     each copy to its own column.
# A single-entry result has only START; an empty mapping gives "" (no sentinel at all).
# Only "\n" counts as a line break (Jinja already turned "\r\n" and "\r" in template text
# into "\n"; a "\r" inside a context value is an ordinary character).
# Newlines inside a value (str(value) containing "\n") are not lines of the filter's own
# and get no indentation.
#
# Edge cases (what this oracle does; real bundles don't do these):
#   - Output fed to another filter or compared: the other filter / comparison sees the
#     sentinels. `(m | proton_cfn_lambda_function_formatted_env_vars) == 'A: 1'` is False,
#     `| length` counts the sentinel characters, `| trim` keeps them, `| upper`/`| lower`
#     keep them, `| proton_cfn_sanitize` fails ("illegal characters": "\x00" is not
#     allowed), `| tojson` turns them into "\u0000..." text that is printed as such.
#   - A CONT whose START is not to its left (e.g. the output was sliced or reversed), or a
#     "\x00" left in the output after resolution (a mangled sentinel, or a "\x00" in the
#     context data): rendering fails with ProtonIndentError.

_START = "\x00\x01"
_CONT = "\x00\x02"
_SENTINEL = re.compile(r"\x00([\x01\x02])([0-9]+)\x00")
_ids = iter(range(1, sys.maxsize))


def _multiline(lines):
    if not lines:
        return ""
    ident = next(_ids)
    start = f"{_START}{ident}\x00"
    cont = f"{_CONT}{ident}\x00"
    return start + "\n".join([lines[0]] + [cont + line for line in lines[1:]])


def resolve_indentation(text):
    out = []  # resolved pieces
    column = 0  # characters since the last "\n" in the resolved text
    indents = {}
    pos = 0
    for m in _SENTINEL.finditer(text):
        piece = text[pos : m.start()]
        out.append(piece)
        nl = piece.rfind("\n")
        column = len(piece) - nl - 1 if nl >= 0 else column + len(piece)
        kind, ident = m.group(1), m.group(2)
        if kind == "\x01":
            indents[ident] = column
        else:
            if ident not in indents:
                raise ProtonIndentError(
                    "the output of a multi-line proton_cfn_* filter was altered before it "
                    "was printed (continuation without its start)"
                )
            out.append(" " * indents[ident])
            column += indents[ident]
        pos = m.end()
    out.append(text[pos:])
    result = "".join(out)
    if "\x00" in result:
        raise ProtonIndentError(
            "a NUL character is left in the output (the output of a multi-line "
            "proton_cfn_* filter was altered before it was printed, or the context "
            "holds a NUL)"
        )
    return result


def _check_raw(key, value):
    if not SAFE_VALUE.fullmatch(value):
        raise ProtonFilterError(
            f"environment variable {key} has a value with illegal characters: {value!r} "
            "(with raw=False a value must match ^[a-zA-Z0-9_-]*$)"
        )


def proton_cfn_sanitize(value):
    text = str(value)
    if SAFE_VALUE.fullmatch(text) or ARN.fullmatch(text):
        return text
    raise ProtonFilterError(
        f"value {text!r} contains illegal characters "
        "(allowed: ^[a-zA-Z0-9_-]*$ or an ARN)"
    )


def proton_cfn_ecs_task_definition_formatted_env_vars(mapping, raw=True):
    lines = []
    for key, value in mapping.items():
        key, value = str(key), str(value)
        if not raw:
            _check_raw(key, value)
        lines.append(f"- Name: {key}")
        lines.append(f"  Value: {value}")
    return _multiline(lines)


def proton_cfn_lambda_function_formatted_env_vars(mapping, raw=True):
    lines = []
    for key, value in mapping.items():
        key, value = str(key), str(value)
        if not raw:
            _check_raw(key, value)
        lines.append(f"{key}: {value}")
    return _multiline(lines)


def proton_cfn_iam_policy_arns(mapping):
    lines = []
    for value in mapping.values():
        value = str(value)
        if IAM_POLICY_ARN.fullmatch(value):
            lines.append(f"- {value}")
    return _multiline(lines)


# --------------------------------------------------------------------------------------


def make_environment():
    env = jinja2.Environment(undefined=jinja2.StrictUndefined)
    env.filters["proton_cfn_sanitize"] = proton_cfn_sanitize
    env.filters["proton_cfn_ecs_task_definition_formatted_env_vars"] = (
        proton_cfn_ecs_task_definition_formatted_env_vars
    )
    env.filters["proton_cfn_lambda_function_formatted_env_vars"] = (
        proton_cfn_lambda_function_formatted_env_vars
    )
    env.filters["proton_cfn_iam_policy_arns"] = proton_cfn_iam_policy_arns
    return env


def main(argv):
    if len(argv) != 3:
        sys.stderr.write("usage: reference_render.py TEMPLATE_FILE CONTEXT_JSON_FILE\n")
        return 2
    try:
        # newline="": no universal-newline translation here; Jinja's lexer normalizes
        # "\r\n" / "\r" in template text to "\n" itself (newline_sequence default).
        with open(argv[1], encoding="utf-8", newline="") as f:
            source = f.read()
        with open(argv[2], encoding="utf-8") as f:
            context = json.load(f)
    except (OSError, UnicodeDecodeError, ValueError) as e:
        sys.stderr.write(f"usage error: {type(e).__name__}: {e}\n")
        return 2
    if not isinstance(context, dict):
        sys.stderr.write("usage error: the context JSON must be an object\n")
        return 2

    try:
        env = make_environment()
        rendered = env.from_string(source).render(context)
        rendered = resolve_indentation(rendered)
    except Exception as e:  # Jinja errors, filter errors, and Python errors raised by
        # expressions (e.g. ValueError from `{% set a, b = x.split('=') %}` on a value
        # without exactly one "=") all mean "this template does not render".
        sys.stderr.write(f"error: {type(e).__name__}: {e}\n")
        return 1

    sys.stdout.reconfigure(encoding="utf-8", newline="")
    sys.stdout.write(rendered)
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
