"""What the machine is doing while the bench times: load, CPU frequency governor, caches, memory.

Every probe returns None where the machine does not say (not Linux, a container that hides
``/sys``); none of them raises. Sizes are bytes.
"""

from __future__ import annotations

import glob
import os

# The most intra-op threads the bench accepts per usable core. More than a few threads per core
# only adds contention, and a huge count makes OpenMP allocate per-thread state until the
# process dies (``--threads 99999`` crashed with a segmentation fault).
THREADS_PER_CORE_MAX = 4


def usable_cores() -> int:
    """Cores this process may run on (its affinity mask), else every core."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def max_threads() -> int:
    return THREADS_PER_CORE_MAX * usable_cores()


def load_average() -> float | None:
    """The 1-minute load average: runnable (and, on Linux, uninterruptible) tasks, averaged."""
    try:
        return round(os.getloadavg()[0], 2)
    except (OSError, AttributeError):
        return None


def cpu_governor() -> str | None:
    """The cpufreq governor(s) of the usable cores (``performance``, ``powersave`` …), joined
    with ``/`` when they differ; None where the kernel exposes none (most VMs)."""
    found = []
    for path in sorted(glob.glob("/sys/devices/system/cpu/cpu[0-9]*/cpufreq/scaling_governor")):
        try:
            with open(path, encoding="ascii") as fh:
                found.append(fh.read().strip())
        except OSError:
            continue
    return "/".join(dict.fromkeys(found)) or None


def _size(text: str) -> int | None:
    """``"491520K"``, ``"32M"``, ``"1024"`` (sysfs cache sizes) → bytes."""
    text = text.strip().upper()
    scale = {"K": 2**10, "M": 2**20, "G": 2**30}.get(text[-1:], 1)
    digits = text[:-1] if text[-1:] in "KMG" else text
    return int(digits) * scale if digits.isdigit() else None


def last_level_cache_bytes() -> int | None:
    """Size of the largest-level cache of CPU 0 (L3 on most servers), from sysfs.

    A VM may report the host's whole cache; that is still the cache a buffer must outgrow.
    """
    best: tuple[int, int] | None = None
    for index in glob.glob("/sys/devices/system/cpu/cpu0/cache/index[0-9]*"):
        try:
            with open(os.path.join(index, "level"), encoding="ascii") as fh:
                level = int(fh.read())
            with open(os.path.join(index, "size"), encoding="ascii") as fh:
                size = _size(fh.read())
        except (OSError, ValueError):
            continue
        if size and (best is None or level > best[0]):
            best = (level, size)
    return best[1] if best else None


def available_memory_bytes() -> int | None:
    """``MemAvailable`` from /proc/meminfo: what can be allocated without swapping."""
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None
