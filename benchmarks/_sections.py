"""A section of benchmarks/README.md written by one script between its own markers.

``run.py`` owns the ``results`` markers (:mod:`_report`); every other script
gets a section of its own, appended at the end the first time, replaced in
place afterwards, so that scripts never overwrite each other's figures.
"""

import datetime
import re

from _report import command_line, environment_lines


def markers(name):
    """The opening and closing marker of the section ``name``."""
    return (
        f"<!-- {name}:start (written by {name}.py --write-readme) -->",
        f"<!-- {name}:end -->",
    )


def generated_block(elapsed, body):
    """The command, the date, the environment, then ``body``."""
    today = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        f"Command: `{command_line()}` (run from the repository root), "
        f"{today}, {elapsed / 60:.1f} minutes.",
        "",
        *(f"- {line}" for line in environment_lines()),
        "",
        body,
    ]
    return "\n".join(lines)


def write_section(path, name, title, block):
    """Put ``block`` between the markers of ``name``; a new ``## title`` if absent."""
    start, end = markers(name)
    text = path.read_text() if path.exists() else ""
    generated = f"{start}\n{block}\n{end}"
    pattern = re.compile(re.escape(start) + ".*?" + re.escape(end), re.S)
    if pattern.search(text):
        text = pattern.sub(lambda _: generated, text)
    else:
        text = f"{text.rstrip()}\n\n## {title}\n\n{generated}\n"
    path.write_text(text)
