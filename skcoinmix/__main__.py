"""``python -m skcoinmix``: the command line, :func:`skcoinmix.cli.main`."""

# SPDX-License-Identifier: BSD-3-Clause

from .cli import main

__all__ = ["main"]

if __name__ == "__main__":
    raise SystemExit(main())
