"""Rows of results, their markdown table, the environment, and the README block."""

import contextlib
import datetime
import math
import operator
import os
import platform
import re
import subprocess
import sys
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

README_START = "<!-- results:start (written by run.py --write-readme) -->"
README_END = "<!-- results:end -->"

#: The README's blocks of results, each between its own markers: a run
#: rewrites only the blocks of the cases it ran (``Case.readme_block``;
#: "main" when a case names none).
MAIN_BLOCK = "main"
CATEGORICAL_BLOCK = "categorical"
README_MARKERS = {
    MAIN_BLOCK: (README_START, README_END, "Results"),
    CATEGORICAL_BLOCK: (
        "<!-- categorical-results:start (written by run.py --write-readme) -->",
        "<!-- categorical-results:end -->",
        "Results: the categorical model",
    ),
}

_OPERATORS = {"<=": operator.le, "<": operator.lt, ">=": operator.ge}


@dataclass(frozen=True)
class Target:
    """A bound on a ratio, e.g. ``Target("<=", 1.5)``."""

    op: str
    bound: float

    def met(self, ratio):
        return _OPERATORS[self.op](ratio, self.bound)

    def __str__(self):
        return f"{self.op} {self.bound:g}x"


@dataclass(frozen=True)
class Row:
    """One measured quantity, compared with a reference measured in the same run.

    ``value`` None means not measured (``note`` says why). ``unit`` is "s"
    (seconds per EM iteration unless the label says otherwise) or "GB".
    """

    case: str
    measured: str
    value: float | None
    reference: str
    ref_value: float | None
    target: Target | None = None
    note: str = ""
    unit: str = "s"

    @property
    def ratio(self):
        if self.value is None or not self.ref_value:
            return math.nan
        return self.value / self.ref_value

    @property
    def status(self):
        if self.value is None or self.ref_value is None:
            return "n/a"
        if self.target is None:
            return ""
        if math.isnan(self.ratio):
            return "?"
        return "met" if self.target.met(self.ratio) else "NOT met"


def format_quantity(value, unit):
    if value is None:
        return "n/a"
    if math.isnan(value):
        return "nan"
    if unit == "GB":
        # Three significant digits below 0.1 GB (the categorical memory case
        # measures tens of MB), two decimals above, as before.
        return f"{value / 1e9:.2f} GB" if value >= 1e8 else f"{value / 1e9:.3g} GB"
    return f"{value:.3g} s"


def format_ratio(ratio):
    return "n/a" if math.isnan(ratio) else f"{ratio:.2f}x"


HEADER = (
    "case",
    "measured",
    "value",
    "reference",
    "ref. value",
    "ratio",
    "target",
    "status",
    "note",
)


def row_cells(row):
    return (
        row.case,
        row.measured,
        format_quantity(row.value, row.unit),
        row.reference,
        format_quantity(row.ref_value, row.unit),
        format_ratio(row.ratio) if row.value is not None else "n/a",
        str(row.target) if row.target else "",
        row.status,
        row.note,
    )


def markdown_table(rows):
    """Rows as a GitHub markdown table, ratio = value / reference value."""
    lines = [_markdown_line(HEADER), _markdown_line(["---"] * len(HEADER))]
    lines += [_markdown_line(row_cells(row)) for row in rows]
    return "\n".join(lines)


def _markdown_line(cells):
    return "| " + " | ".join(str(cell).replace("|", "/") for cell in cells) + " |"


def target_summary(rows):
    statuses = [row.status for row in rows if row.target is not None]
    met = statuses.count("met")
    return f"{met} of {len(statuses)} targets met"


# ---------------------------------------------------------------- environment
def _version(package):
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def _skcoinmix_location():
    import skcoinmix

    return Path(skcoinmix.__file__).parent


def _git_revision(directory):
    try:
        result = subprocess.run(
            ["git", "describe", "--always", "--dirty"],
            capture_output=True,
            text=True,
            check=True,
            cwd=directory,
        )
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return result.stdout.strip()


def _threadpool_line(info):
    name = " ".join(filter(None, [info.get("internal_api"), info.get("version")]))
    details = [f"{info.get('num_threads')} threads"]
    if info.get("user_api") == "blas":
        details += [
            f"{info.get('threading_layer')} threading",
            info.get("architecture"),
        ]
    return f"{info.get('user_api')}: {name} ({', '.join(map(str, details))})"


def _threadpool_lines():
    from threadpoolctl import threadpool_info

    return [_threadpool_line(info) for info in threadpool_info()]


def environment_lines():
    """What the figures depend on: versions, BLAS and its threads, CPUs."""
    packages = ("skcoinmix", "numpy", "scipy", "scikit-learn", "stepmix")
    versions = ", ".join(f"{name} {_version(name)}" for name in packages)
    location = _skcoinmix_location()
    return [
        f"Python {platform.python_version()} on {platform.platform()}",
        f"Versions: {versions}",
        f"skcoinmix imported from {location}, git {_git_revision(location)}",
        f"CPUs: os.cpu_count() = {os.cpu_count()}",
        "Load average (1, 5, 15 min) now: "
        + ", ".join(f"{load:.2f}" for load in os.getloadavg()),
        *(f"Thread pool {line}" for line in _threadpool_lines()),
    ]


def command_line():
    """The command that produced the figures, as typed from the repository root."""
    script = Path(sys.argv[0])
    with contextlib.suppress(ValueError):
        script = script.resolve().relative_to(Path.cwd())
    return " ".join(["python", str(script), *sys.argv[1:]])


def results_block(rows, notes, elapsed):
    """The README's generated block: command, date, environment, table, notes."""
    today = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        f"Command: `{command_line()}` (run from the repository root), "
        f"{today}, {elapsed / 60:.1f} minutes.",
        "",
        *(f"- {line}" for line in environment_lines()),
        "- BLAS and OpenMP threads left at their defaults (one per CPU); "
        "nothing was pinned.",
        "",
        f"{target_summary(rows)}.",
        "",
        markdown_table(rows),
    ]
    if notes:
        lines += ["", "Notes printed by the run:", ""]
        lines += [f"- {note}" for note in notes]
    return "\n".join(lines)


def write_readme(path, block, name=MAIN_BLOCK):
    """Replace what lies between the README's markers of block ``name`` with ``block``.

    A README without those markers gets them, under a new section, at its end.
    """
    start, end, title = README_MARKERS[name]
    text = path.read_text() if path.exists() else ""
    generated = f"{start}\n{block}\n{end}"
    pattern = re.compile(re.escape(start) + ".*?" + re.escape(end), re.S)
    if pattern.search(text):
        text = pattern.sub(lambda _: generated, text)
    else:
        text = f"{text.rstrip()}\n\n## {title}\n\n{generated}\n"
    path.write_text(text)
