"""Benchmark skcoinmix against the bare matrix products and its peers.

Usage, from the repository root::

    python benchmarks/run.py [--quick] [--only NAME ...] [--write-readme]

Prints a markdown table of seconds per EM iteration and of ratios, each
ratio between two figures measured in this same run. ``--quick`` shrinks
every shape (a smoke test of well under a minute); ``--write-readme`` puts
the table, the command and the environment into benchmarks/README.md between
its result markers: each case belongs to a block (``readme_block``: the
Bernoulli and binomial cases to the main one, the categorical cases to their
own), and only the blocks of the cases run are rewritten. See
benchmarks/README.md for the method and the targets.
"""

import argparse
import sys
import time
from pathlib import Path

from _cases import CASES, Context
from _memory import Skipped
from _report import (
    MAIN_BLOCK,
    Row,
    environment_lines,
    markdown_table,
    results_block,
    target_summary,
    write_readme,
)
from _timing import FULL, QUICK

README = Path(__file__).with_name("README.md")


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--quick", action="store_true", help="shrunken shapes, for smoke-testing"
    )
    parser.add_argument(
        "--only",
        nargs="+",
        metavar="NAME",
        choices=[case.name for case in CASES],
        help="run only these cases: " + ", ".join(case.name for case in CASES),
    )
    parser.add_argument(
        "--write-readme",
        action="store_true",
        help=f"write the results into {README.relative_to(README.parent.parent)}",
    )
    return parser.parse_args(argv)


def run_case(case, ctx):
    ctx.log(f"[{case.name}]")
    started = time.perf_counter()
    try:
        rows = case.run(ctx)
    except Skipped as skipped:
        ctx.warn(f"[{case.name}] {skipped}")
        rows = [Row(case.name, "whole case", None, "", None, note=str(skipped))]
    except Exception as exc:  # one broken case must not lose the others
        ctx.warn(f"[{case.name}] failed: {exc!r}")
        rows = [Row(case.name, "whole case", None, "", None, note=repr(exc))]
    ctx.log(f"[{case.name}] done in {time.perf_counter() - started:.0f} s")
    return rows


def main(argv=None):
    args = parse_args(argv)
    ctx = Context(QUICK if args.quick else FULL, args.quick)
    for line in environment_lines():
        ctx.log(line)
    started = time.perf_counter()
    # README block -> its rows, notes and seconds, in the order first run.
    blocks = {}
    for case in CASES:
        if args.only is None or case.name in args.only:
            block = blocks.setdefault(
                getattr(case, "readme_block", MAIN_BLOCK),
                {"rows": [], "notes": [], "seconds": 0.0},
            )
            n_notes, case_started = len(ctx.notes), time.perf_counter()
            rows = run_case(case, ctx)
            ctx.rows += rows
            block["rows"] += rows
            block["notes"] += ctx.notes[n_notes:]
            block["seconds"] += time.perf_counter() - case_started
    elapsed = time.perf_counter() - started

    print(markdown_table(ctx.rows))
    print()
    print(f"{target_summary(ctx.rows)}; {elapsed:.0f} s in all.")
    for note in ctx.notes:
        print(note)
    if args.write_readme:
        for name, block in blocks.items():
            write_readme(
                README,
                results_block(block["rows"], block["notes"], block["seconds"]),
                name,
            )
        print(f"Results written to {README} ({', '.join(blocks)} block(s)).")


if __name__ == "__main__":
    sys.exit(main())
