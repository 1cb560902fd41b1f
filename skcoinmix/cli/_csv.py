"""Reading and writing the CSV files of ``python -m skcoinmix fit``.

Small pure functions on text, with the standard library's :mod:`csv` module
(no pandas). Every problem with a file is a :class:`DataError` whose message
names the line or the column at fault, so that the command line can print it
without a traceback.

A data file has a header naming the columns, then one row per respondent (or
per response pattern, with a column of frequencies). What a cell may hold is
the model's :class:`ValueRule`: ``0`` or ``1`` (:data:`BINARY`, the default),
or any number (:data:`NUMBERS`); an empty cell, ``NA`` or ``NaN`` (in any
case) is a missing answer. Blank lines are skipped.
"""

# SPDX-License-Identifier: BSD-3-Clause

import codecs
import csv
import io
import math
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

__all__ = [
    "BINARY",
    "MISSING_TOKENS",
    "NUMBERS",
    "DataError",
    "Table",
    "ValueRule",
    "check_writable",
    "format_posteriors",
    "parse_table",
    "read_table",
]

#: Cells that mean a missing answer, compared after stripping blanks and
#: lower-casing: empty, NA (R, poLCA) and NaN (pandas, numpy).
MISSING_TOKENS = frozenset({"", "na", "nan"})

#: At most this many offending values are quoted per column.
MAX_SHOWN_VALUES = 5


class DataError(ValueError):
    """A data file that cannot be used; the message says where and why."""


@dataclass(frozen=True)
class Table:
    """A parsed data file.

    Attributes
    ----------
    columns : tuple of str
        The names of the item columns, in file order (the weights column
        left out).
    X : ndarray of shape (n_rows, n_items), float64
        The values, NaN for a missing answer.
    weights : ndarray of shape (n_rows,) or None
        The frequencies of the weights column, if one was named.
    weights_column : str or None
        Its name.
    lines : tuple of int
        The line of the file where each row starts (1 is the first line).
    """

    columns: tuple
    X: np.ndarray
    weights: np.ndarray | None
    weights_column: str | None
    lines: tuple

    @property
    def n_missing(self):
        """The number of missing answers (NaN cells)."""
        return int(np.isnan(self.X).sum())


# ------------------------------------------------------------------ cells
def parse_cell(text):
    """A cell's value: a float, NaN when missing.

    Parameters
    ----------
    text : str

    Returns
    -------
    value : float or None
        NaN for a missing answer; None when the cell is not a finite number.
    """
    text = text.strip()
    if text.lower() in MISSING_TOKENS:
        return math.nan
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _is_binary(value):
    return value is not None and (math.isnan(value) or value in (0.0, 1.0))


def _is_number(value):
    return value is not None


@dataclass(frozen=True)
class ValueRule:
    """Which cells an item column may hold, and what to say about the others.

    Attributes
    ----------
    accepts : callable
        ``accepts(value) -> bool`` for a cell as :func:`parse_cell` reads it:
        a float, NaN when missing, None when not a finite number.
    problem : str
        The message about a column with other values: a format string with
        the fields ``name`` (the column's name) and ``found`` (the values
        and their lines).
    hint : str, default=""
        What the user can do about it (recode, an option), appended.
    """

    accepts: Callable[[float | None], bool]
    problem: str
    hint: str = ""


#: 0/1 answers, or missing.
BINARY = ValueRule(
    _is_binary,
    "column {name!r} is not binary: found {found}. Values must be 0 or 1, with "
    "an empty cell, NA or NaN for a missing answer.",
)

#: Any finite number, or missing.
NUMBERS = ValueRule(
    _is_number,
    "column {name!r} has values that are not numbers: {found}. Use numbers, or "
    "an empty cell, NA or NaN for a missing answer.",
)


def _quote_values(found):
    """``'2' (line 4), 'yes' (line 9)`` from ``{text: first line}``."""
    shown = [f"{text!r} (line {line})" for text, line in found[:MAX_SHOWN_VALUES]]
    more = len(found) - MAX_SHOWN_VALUES
    return ", ".join(shown) + (f" and {more} more" if more > 0 else "")


def _separator_hint(texts):
    for separator, name in ((";", "semicolons"), ("\t", "tabs")):
        if any(separator in text for text in texts):
            return f" The file seems to be separated by {name}: only commas are read."
    return ""


# ------------------------------------------------------------------ parsing
def _records(lines):
    """``(first line, cells)`` of the non-blank records of CSV text."""
    reader = csv.reader(lines)
    start = 1  # a record may span lines (a quoted line break): name its first
    try:
        for cells in reader:
            if len(cells) > 1 or (cells and cells[0].strip()):
                yield start, cells
            start = reader.line_num + 1
    except csv.Error as exc:
        raise DataError(f"line {start}: not valid CSV ({exc}).") from None


def _check_header(line, header):
    """The stripped column names; a DataError when they cannot name columns.

    A header of zeros, ones and missing cells is taken for a data row: the
    file has no header.
    """
    names = [name.strip() for name in header]
    values = [parse_cell(name) for name in names]
    if all(_is_binary(value) for value in values) and not all(
        math.isnan(value) for value in values
    ):
        raise DataError(
            f"line {line} ({','.join(header)!r}) looks like data, not a header: "
            "the first line must name the columns, e.g. 'item1,item2,item3'."
        )
    seen = {}
    for position, name in enumerate(names, start=1):
        if not name:
            raise DataError(
                f"column {position} has no name in the header (line {line}): "
                "every column needs one."
            )
        if name in seen:
            raise DataError(
                f"the column name {name!r} appears twice in the header (line "
                f"{line}), as columns {seen[name]} and {position}: names must be "
                "unique."
            )
        seen[name] = position
    return names


def _weights(names, rows, weights_column):
    """The weights column's index and values; a DataError on a bad value."""
    if weights_column not in names:
        raise DataError(
            f"no column named {weights_column!r} for --weights-column; the "
            f"columns are {', '.join(map(repr, names))}."
        )
    index = names.index(weights_column)
    weights = np.empty(len(rows))
    for i, (line, cells) in enumerate(rows):
        text = cells[index]
        value = parse_cell(text)
        if value is None or math.isnan(value) or value < 0:
            problem = (
                "is missing"
                if value is not None and math.isnan(value)
                else f"is {text.strip()!r}, not a non-negative number"
            )
            raise DataError(
                f"line {line}: the weight in column {weights_column!r} {problem}."
            )
        weights[i] = value
    if not np.any(weights > 0):  # their sum may overflow
        raise DataError(
            f"the weights in column {weights_column!r} are all zero: at least "
            "one row needs a positive weight."
        )
    return index, weights


def _column_problems(name, texts, values, row_lines, rule):
    """The messages about one column (values ``rule`` refuses), empty if none."""
    bad = {}
    for text, value, line in zip(texts, values, row_lines, strict=True):
        if not rule.accepts(value):
            bad.setdefault(text.strip(), line)
    if not bad:
        return []
    found = _quote_values(list(bad.items()))
    return [
        rule.problem.format(name=name, found=found) + rule.hint + _separator_hint(bad)
    ]


def parse_table(lines, *, weights_column=None, values=BINARY, source="the file"):
    """Parse CSV text into a :class:`Table`.

    Parameters
    ----------
    lines : iterable of str
        The text, e.g. an open file (opened with ``newline=""``) or
        ``text.splitlines(keepends=True)``.
    weights_column : str, default=None
        The name of a column of frequencies (non-negative numbers, none
        missing), left out of the items.
    values : ValueRule, default=BINARY
        What the items may hold: 0 or 1 by default.
    source : str, default="the file"
        How to name the data in messages.

    Returns
    -------
    table : Table

    Raises
    ------
    DataError
        If there is no header or no data row, a row has more or fewer cells
        than the header, a column name is empty or repeated, the weights
        column is missing or holds a bad value, an item holds a value that
        ``values`` refuses (every such column is named), or an item has no
        observed value among the rows with a positive weight.
    """
    records = _records(lines)
    first = next(records, None)
    if first is None:
        raise DataError(
            f"{source} is empty: it needs a header naming the columns, then one "
            "row per respondent (or per response pattern)."
        )
    names = _check_header(*first)
    rows = list(records)
    if not rows:
        raise DataError(f"{source} has a header but no data rows.")
    for line, cells in rows:
        if len(cells) != len(names):
            raise DataError(
                f"line {line} has {len(cells)} cell{'s' if len(cells) != 1 else ''} "
                f"but the header has {len(names)} columns." + _separator_hint(cells)
            )

    weights = None
    skip = None
    if weights_column is not None:
        skip, weights = _weights(names, rows, weights_column)
    item_indices = [j for j in range(len(names)) if j != skip]
    if not item_indices:
        raise DataError(
            f"{source} has no item column besides the weights column "
            f"{weights_column!r}."
        )

    row_lines = [line for line, _ in rows]
    positive = np.ones(len(rows), dtype=bool) if weights is None else weights > 0
    X = np.empty((len(rows), len(item_indices)))
    problems = []
    for column, j in enumerate(item_indices):
        texts = [cells[j] for _, cells in rows]
        parsed = [parse_cell(text) for text in texts]
        messages = _column_problems(names[j], texts, parsed, row_lines, values)
        if messages:
            problems += messages
            continue
        X[:, column] = parsed
        if np.all(np.isnan(X[positive, column])):
            where = (
                " among the rows with a positive weight" if weights is not None else ""
            )
            problems.append(
                f"column {names[j]!r} has no observed value{where}: every cell "
                "is missing. Drop the column."
            )
    if problems:
        raise DataError("\n".join(problems))
    return Table(
        columns=tuple(names[j] for j in item_indices),
        X=X,
        weights=weights,
        weights_column=weights_column,
        lines=tuple(row_lines),
    )


def _decode(data, source):
    """UTF-8 bytes as text, a leading byte-order mark dropped.

    Decoded whole, so that an error can name its line: a decoding stream
    reports positions within its last chunk only.
    """
    try:
        return data.removeprefix(codecs.BOM_UTF8).decode("utf-8")
    except UnicodeDecodeError as exc:
        line = exc.object.count(b"\n", 0, exc.start) + 1
        raise DataError(
            f"cannot read {source}: line {line} is not UTF-8 text (byte "
            f"{exc.object[exc.start]:#04x}). Save the file as UTF-8 CSV."
        ) from None


def read_table(path, *, weights_column=None, values=BINARY, stdin=None):
    """Read and parse a CSV file (``"-"``: standard input).

    Standard input is read as a file is: its bytes are decoded as UTF-8, a
    byte-order mark skipped, whatever the locale's encoding.

    Parameters
    ----------
    path : str
    weights_column, values
        As in :func:`parse_table`.
    stdin : file, default=None
        What ``"-"`` reads, binary or text; None means ``sys.stdin`` (its
        bytes, ``sys.stdin.buffer``). A text stream without a ``buffer``
        (e.g. :class:`io.StringIO`) is taken as decoded already.

    Returns
    -------
    table : Table

    Raises
    ------
    DataError
        If the file cannot be opened or decoded (UTF-8; a byte-order mark is
        skipped), or :func:`parse_table` refuses it.
    """
    if path == "-":
        source = "standard input"
        stream = sys.stdin if stdin is None else stdin
        if stream is None:  # Python started without a file descriptor 0
            raise DataError("cannot read standard input: there is none.")
        stream = getattr(stream, "buffer", stream)
    else:
        source = repr(path)
    try:
        if path != "-":
            with open(path, "rb") as file:
                data = file.read()
        else:
            data = stream.read()
    except IsADirectoryError:
        raise DataError(f"cannot read {source}: it is a directory.") from None
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise DataError(f"cannot read {source}: {reason}.") from None
    if isinstance(data, bytes):
        text = _decode(data, source)
    else:  # a text stream: decoded by its owner; only the mark is left
        text = data.removeprefix("\ufeff")
    # newline="": line breaks reach the csv module as they are, as it needs.
    return parse_table(
        io.StringIO(text, newline=""),
        weights_column=weights_column,
        values=values,
        source=source,
    )


# ------------------------------------------------------------------ output
def format_posteriors(resp):
    """The posterior probabilities and the modal class, as CSV text.

    Parameters
    ----------
    resp : ndarray of shape (n_rows, K)
        Posterior class probabilities.

    Returns
    -------
    text : str
        A header ``class_1,...,class_K,modal_class``, then one line per row:
        the probabilities (shortest exact repr) and the most probable class,
        numbered from 1 like the classes of the report.
    """
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    K = resp.shape[1]
    writer.writerow([*(f"class_{k}" for k in range(1, K + 1)), "modal_class"])
    for row, label in zip(resp, resp.argmax(axis=1), strict=True):
        writer.writerow([*(repr(float(p)) for p in row), int(label) + 1])
    return out.getvalue()


def check_writable(path, data_path=None):
    """A DataError unless ``path`` can be created: its folder must exist.

    Checked before fitting, so that a long fit is not lost to a typo; and
    ``path`` must not be the data file ``data_path``, which it would
    overwrite.
    """
    folder = os.path.dirname(os.path.abspath(path))
    if (
        data_path is not None
        and os.path.exists(path)
        and os.path.exists(data_path)
        and os.path.samefile(path, data_path)
    ):
        raise DataError(
            f"--posteriors {path!r} is the data file: it would be overwritten."
        )
    if os.path.isdir(path):
        raise DataError(f"cannot write the posteriors to {path!r}: it is a directory.")
    if not os.path.isdir(folder):
        raise DataError(
            f"cannot write the posteriors to {path!r}: the folder {folder!r} does "
            "not exist."
        )
