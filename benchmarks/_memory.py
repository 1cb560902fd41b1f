"""Peak memory of a fit, measured in a fresh subprocess.

The child (``python _memory.py dense|sparse|categorical ...``) records its resident set
size after the imports (the baseline), builds the data, resets the peak to
the current size (``/proc/self/clear_refs``, so that generating the data does
not count), fits a few EM iterations, and prints one JSON line: peak minus
baseline, which holds the input plus everything the fit added, and the bytes
of the input.

The peak is read from ``VmHWM`` in ``/proc/self/status`` rather than from
``getrusage(RUSAGE_SELF).ru_maxrss``: on Linux a child started by a large
parent inherits the parent's peak in ``ru_maxrss`` (the kernel carries it over
the exec), so a child of this benchmark would report the parent's gigabytes.
``ru_maxrss`` remains the fallback where ``/proc`` is missing.
"""

import argparse
import contextlib
import ctypes
import ctypes.util
import json
import resource
import subprocess
import sys
from pathlib import Path

import numpy as np
from _contenders import skcoinmix_categorical_fit, skcoinmix_fit
from _data import (
    categorical_prototypes,
    csr_bytes,
    fixed_categorical_start,
    fixed_start,
    planted_categorical,
    planted_dense,
    planted_sparse,
    random_prototypes,
)
from _timing import FULL, QUICK, time_per_iteration

_STATUS = Path("/proc/self/status")
_MEMINFO = Path("/proc/meminfo")

#: Bytes per entry that a fit may add to dense 0/1 input, at worst (a float64
#: copy and a bool mask, as the first, straightforward skcoinmix made). Only
#: used to skip, with a reason, what might not fit in the memory that the other
#: users of the machine leave.
FIT_BYTES_PER_ENTRY = 9
#: Memory kept free on top of an estimate.
MARGIN_BYTES = 10**9


class Skipped(Exception):
    """A measurement that cannot run here; the message says why."""


def available_bytes():
    """``MemAvailable`` of /proc/meminfo; infinite where unknown."""
    if not _MEMINFO.exists():
        return float("inf")
    for line in _MEMINFO.read_text().splitlines():
        if line.startswith("MemAvailable:"):
            return int(line.split()[1]) * 1024
    return float("inf")


def require_memory(need, what):
    """Raise :class:`Skipped` unless ``need`` bytes (plus a margin) are available."""
    available = available_bytes()
    if available < need + MARGIN_BYTES:
        raise Skipped(
            f"{what} skipped: needs ~{need / 1e9:.1f} GB, "
            f"{available / 1e9:.1f} GB available"
        )


def _status_bytes(field):
    for line in _STATUS.read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise KeyError(field)


def _ru_maxrss_bytes():
    scale = 1 if sys.platform == "darwin" else 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale


def current_rss():
    return _status_bytes("VmRSS") if _STATUS.exists() else _ru_maxrss_bytes()


def peak_rss():
    return _status_bytes("VmHWM") if _STATUS.exists() else _ru_maxrss_bytes()


def release_free_memory():
    """Hand the heap's free memory back to the OS (glibc), where possible.

    Generating the data frees many block-sized arrays, which glibc keeps in
    the heap: without this they would count as resident for the fit.
    """
    with contextlib.suppress(OSError, AttributeError, TypeError):
        ctypes.CDLL(ctypes.util.find_library("c")).malloc_trim(0)


def reset_peak():
    """Reset the peak RSS to the current RSS (Linux >= 4.0); False if impossible."""
    release_free_memory()
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def run_child(*args):
    """Run this file as a child with ``args``; return its JSON result."""
    command = [sys.executable, str(Path(__file__)), *map(str, args)]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    sys.stderr.write(result.stderr)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed ({result.returncode})")
    return json.loads(result.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------------- child
def _parse(argv):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("kind", choices=["dense", "sparse", "categorical"])
    parser.add_argument("n", type=int)
    parser.add_argument("d", type=int)
    parser.add_argument("K", type=int)
    parser.add_argument("--density", type=float, default=0.01)
    parser.add_argument(
        "--categories", type=int, default=5, help="categories per item (categorical)"
    )
    parser.add_argument("--iters", type=int, default=3)
    parser.add_argument(
        "--compare-float64",
        choices=["no", "quick", "full"],
        default="no",
        help="then time uint8 against float64 storage per EM iteration",
    )
    return parser.parse_args(argv)


def _make_data(args):
    if args.kind == "categorical":
        prototypes = categorical_prototypes(args.K, args.d, args.categories)
        X = planted_categorical(prototypes, args.n)
        return X, X.nbytes
    if args.kind == "dense":
        X = planted_dense(random_prototypes(args.K, args.d, 0.1, 0.9), args.n)
        return X, X.nbytes
    low, high = 0.2 * args.density, 1.8 * args.density
    X = planted_sparse(random_prototypes(args.K, args.d, low, high), args.n)
    return X, csr_bytes(X)


def _needed_bytes(args):
    """Rough bytes of data plus fit: uint8 dense, or CSR (12 bytes a one) x 4."""
    if args.kind == "dense":
        return args.n * args.d * (1 + FIT_BYTES_PER_ENTRY)
    if args.kind == "categorical":  # codes, plus as much again 9 times over
        return args.n * args.d * (1 + FIT_BYTES_PER_ENTRY)
    return int(args.n * args.d * args.density * 12 * 4)


def _timings(timing, label):
    return {
        f"{label}_per_iteration": timing.per_iteration,
        f"{label}_overhead": timing.overhead,
    }


def main(argv=None):
    args = _parse(argv)
    baseline = current_rss()
    try:
        require_memory(_needed_bytes(args), "the memory fit")
    except Skipped as skipped:
        print(json.dumps({"skipped": str(skipped)}))
        return
    X, input_bytes = _make_data(args)
    if args.kind == "categorical":
        fit = skcoinmix_categorical_fit(
            X, fixed_categorical_start(args.K, args.d, args.categories)
        )
    else:
        fit = skcoinmix_fit(X, fixed_start(args.K, args.d))
    reset = reset_peak()
    fit(args.iters)
    result = {
        "baseline": baseline,
        "peak": peak_rss(),
        "input_bytes": input_bytes,
        "peak_was_reset": reset,
    }
    if args.compare_float64 != "no":
        start = fixed_start(args.K, args.d)
        settings = FULL if args.compare_float64 == "full" else QUICK
        result |= _timings(
            time_per_iteration(skcoinmix_fit(X, start), settings), "uint8"
        )
        try:
            require_memory(X.size * (8 + FIT_BYTES_PER_ENTRY), "float64 storage")
        except Skipped as skipped:
            result["float64_skipped"] = str(skipped)
        else:
            X = X.astype(np.float64)  # drops the uint8 copy from memory
            float64 = time_per_iteration(skcoinmix_fit(X, start), settings)
            result |= _timings(float64, "float64")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
