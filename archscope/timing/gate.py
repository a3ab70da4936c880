"""The noise gate: a timing is ``ok`` only when its median is pinned down; else ``unstable``.

A shared machine can make a median meaningless (the issue that asked for this gate saw
``median 0.61 ms, CI ±44,586 %`` called ``ok``). The rule, for a configuration timed without
failing:

- its median's 95 % CI (order statistics, see :mod:`.stats`) must lie within ``CI_LIMIT``
  (5 %) of the median;
- with fewer than 6 iterations there is no CI at all, so the median cannot be trusted either.

Otherwise the status is ``unstable`` and one sentence names the likely cause and what to try:
the load average against the cores (another process competing), more threads than cores, the
budget running out, or plain variation. Pure functions; nothing here measures.
"""

from __future__ import annotations

CI_LIMIT = 0.05  # CI half-width / median above which a timing is unstable
MIN_ITERS = 10  # --iters auto may not stop before this many iterations …
MIN_TIME_S = 0.2  # … nor before this much timing


def contended(load_before: float | None, load_after: float | None, threads: int,
              cores: int) -> float | None:
    """The load average that shows other processes competing for the CPU, else None.

    The load average counts runnable tasks, the bench's own busy threads among them. Above the
    cores (by half a task: it is an average), some task was waiting for a core; above the
    bench's threads as well, something else was running.
    """
    loads = [v for v in (load_before, load_after) if v is not None]
    load = max(loads) if loads else None
    if load is not None and load - threads > 0.5 and load > cores + 0.5:
        return load
    return None


def gate(ci_rel: float | None, iters: int, *, stopped: str, threads: int, cores: int,
         load_before: float | None, load_after: float | None, budget_s: float,
         device: str = "cpu") -> tuple[str, str | None]:
    """``("ok", None)`` or ``("unstable", sentence)`` for one timed configuration.

    ``ci_rel``: the CI's half-width over the median (None: too few iterations for a CI);
    ``stopped``: ``converged``, ``budget`` or ``fixed`` (``--iters N``); the load averages are
    the 1-minute figures read just before and just after the timed region.
    """
    if ci_rel is not None and ci_rel <= CI_LIMIT:
        return "ok", None
    if ci_rel is None:
        return "unstable", (f"{iters} iterations give no 95 % CI of the median (6 are needed), so "
                            "its spread is unknown; use --iters auto or --iters 10 or more")
    width = f"the median's 95 % CI is ±{100 * ci_rel:.1f} % (over {100 * CI_LIMIT:g} %)"
    cpu = device == "cpu"
    load = contended(load_before, load_after, threads, cores) if cpu else None
    if load is not None:
        return "unstable", (f"{width}: the load average was {load:.2f} on {cores} cores while "
                            f"{threads} thread{'s' if threads != 1 else ''} timed, so other "
                            "processes competed for the CPU; rerun on a quiet machine"
                            + (" or with fewer --threads" if threads > 1 else ""))
    if cpu and threads > cores:
        return "unstable", (f"{width}: {threads} threads share {cores} cores, so they take turns; "
                            f"use --threads {cores} or fewer")
    if stopped == "budget":
        return "unstable", (f"{width} when the --budget of {budget_s:g} s ran out after {iters} "
                            "iterations; raise --budget so more iterations can narrow it")
    if stopped == "fixed":
        return "unstable", (f"{width} over the {iters} iterations asked for; use --iters auto or "
                            "more iterations")
    return "unstable", f"{width}: the times varied from run to run; rerun, or raise --budget"
