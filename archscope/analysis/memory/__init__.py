"""The memory of training and inference, estimated on the meta device: per-layer parameter,
gradient, optimizer-state and saved-activation bytes, and the peaks of a step.

:mod:`.estimate` runs it; :mod:`.timeline` follows every storage; :mod:`.saved` observes what
autograd saves; :mod:`.optim` builds torch's optimizer; :mod:`.amp` re-enacts autocast;
:mod:`.view` is the table (``archscope memory``).
"""

# Sizes in words, for notes, lessons and the report's hovers (no torch import here).
_BINARY = (("GiB", 2 ** 30), ("MiB", 2 ** 20), ("KiB", 2 ** 10))


def binary(n: float) -> str:
    """``2.88 GiB``, ``459 MiB``, ``1000 MiB``, ``850 B``: three significant digits (or the
    units whole, never an exponent) in binary units."""
    for unit, size in _BINARY:
        if n >= size:
            v = n / size
            return f"{v:.0f} {unit}" if v >= 100 else f"{v:.3g} {unit}"
    return f"{int(n):,} B"


def human(n: int) -> str:
    """``3,090,219,008 B (2.88 GiB)``: the exact bytes, then :func:`binary`."""
    return f"{n:,} B ({binary(n)})" if n >= 2 ** 10 else f"{n:,} B"
