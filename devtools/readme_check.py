"""Run every ``$ inspector …`` command of README.md against the demo registries and compare
what it prints with what the README shows (ports, digests and times aside).

    python -m devtools.readme_check            # exit 1 and a diff when the README is stale
    python -m devtools.readme_check --update   # rewrite the README's outputs from real runs

Console blocks are run top to bottom in one world (``devtools.demo.start_world``), so a
``sync`` shown late sees what earlier commands left. A block that starts with ``$ make``
(the demo's own transcript) is not run; ``$ echo $?`` shows the previous exit code.
"""

from __future__ import annotations

import contextlib
import difflib
import glob
import io
import os
import re
import shlex
import subprocess
import sys
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass

from devtools import demo

README = demo.ROOT / "README.md"
_FENCE = re.compile(r"^```console\n(.*?)^```$", re.S | re.M)


@dataclass
class Step:
    command: str  # as written after "$ ", continuation lines joined
    shown: list[str]  # the output lines the README shows
    start: int  # offsets of the shown output in the README text
    end: int


def steps(text: str) -> Iterator[Step]:
    for block in _FENCE.finditer(text):
        body = block.group(1)
        if not body.startswith("$ ") or body.startswith("$ make"):
            continue
        offset = block.start(1)
        lines = body.splitlines(keepends=True)
        position, index = offset, 0
        while index < len(lines):
            line = lines[index]
            if not line.startswith("$ "):
                position += len(line)
                index += 1
                continue
            command = line[2:].rstrip("\n")
            position += len(line)
            index += 1
            while command.endswith("\\") and index < len(lines):
                command = command[:-1].rstrip() + " " + lines[index].strip()
                position += len(lines[index])
                index += 1
            start = position
            shown: list[str] = []
            while index < len(lines) and not lines[index].startswith("$ "):
                shown.append(lines[index].rstrip("\n"))
                position += len(lines[index])
                index += 1
            while shown and not shown[-1].strip():  # blank lines between commands
                shown.pop()
            yield Step(command, shown, start, start + sum(len(s) + 1 for s in shown))


_PORT = re.compile(r"127\.0\.0\.1:\d+")
_DIGEST = re.compile(r"sha256:[0-9a-f]{64}")
_SHORT = re.compile(r"\b[0-9a-f]{12}\b")


def normalize(lines: list[str]) -> list[str]:
    out = []
    for line in lines:
        line = _PORT.sub("127.0.0.1:PORT", line)
        line = _DIGEST.sub("sha256:" + "d" * 64, line)
        out.append(_SHORT.sub("d" * 12, line).rstrip())
    return out


def run(command: str, env: dict[str, str], last: int) -> tuple[int, list[str]]:
    if command == "echo $?":
        return last, [str(last)]
    # As a shell would: words with a wildcard expand to the matching files, sorted.
    argv = [
        path
        for word in shlex.split(command)
        for path in (
            sorted(glob.glob(word, root_dir=demo.ROOT)) or [word] if "*" in word else [word]
        )
    ]
    if argv[0] != "inspector":
        raise ValueError(f"README command not understood: {command}")
    done = subprocess.run(
        [sys.executable, "-m", "inspector", *argv[1:]],
        capture_output=True,
        text=True,
        env=env,
        cwd=demo.ROOT,
        timeout=120,
    )
    return done.returncode, done.stdout.splitlines()


def check(update: bool = False) -> list[str]:
    """Differences between the README and real runs (rewritten instead with ``update``)."""
    text = README.read_text(encoding="utf-8")
    problems: list[str] = []
    replacements: list[tuple[int, int, list[str]]] = []
    os.chdir(demo.ROOT)
    with ExitStack() as stack:
        with contextlib.redirect_stdout(io.StringIO()):
            world = demo.start_world(stack)
        env = {k: v for k, v in world.env.items() if k not in ("NO_COLOR", "FORCE_COLOR")}
        env.update(demo.exports(world))
        last = 0
        for step in steps(text):
            code, actual = run(step.command, env, last)
            last = code
            if code not in (0, 1):
                problems.append(f"$ {step.command}\n  exit {code}: not as written")
            if normalize(actual) != normalize(step.shown):
                diff = difflib.unified_diff(
                    normalize(step.shown), normalize(actual), "README", "actual", lineterm=""
                )
                problems.append(f"$ {step.command}\n" + "\n".join(diff))
                replacements.append((step.start, step.end, actual))
    if update and replacements:
        for start, end, lines in sorted(replacements, reverse=True):
            text = text[:start] + "".join(f"{line}\n" for line in lines) + text[end:]
        README.write_text(text, encoding="utf-8")
    return problems


def main() -> int:
    update = "--update" in sys.argv[1:]
    problems = check(update)
    for problem in problems:
        print(problem, end="\n\n")
    if update:
        print(f"updated {len(problems)} output(s) in {README.name}")
        return 0
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
