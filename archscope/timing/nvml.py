"""NVIDIA GPU state and energy through NVML (the optional ``nvidia-ml-py`` package, ``pynvml``).

Per timed configuration the bench records the SM clock (MHz), the temperature (°C), the board
power (W) and the active clock-throttle reasons, so a slow row can be told apart from a hot or
power-capped GPU. Around each timed window it reads NVML's total-energy counter (mJ since the
driver loaded) and reports, net of the idle power measured just before the warm-up:

    J per item = (energy after − energy before − idle W × window s) / (iterations × batch)

The counter advances in steps (every few tens of ms on recent boards), so a window under
``ENERGY_MIN_S`` is refused with a sentence instead of a figure. Without the package, without an
NVIDIA GPU, or on the CPU nothing is recorded and the run's notes say why once.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass
from typing import Any

ENERGY_MIN_S = 1.0
IDLE_SAMPLES = 5
IDLE_GAP_S = 0.02
CLOCK_SM = 1  # NVML_CLOCK_SM
TEMPERATURE_GPU = 0  # NVML_TEMPERATURE_GPU

# nvmlClocksEventReason* / nvmlClocksThrottleReason* bits (nvml.h).
THROTTLE_REASONS = {
    0x1: "gpu_idle", 0x2: "applications_clocks", 0x4: "sw_power_cap", 0x8: "hw_slowdown",
    0x10: "sync_boost", 0x20: "sw_thermal", 0x40: "hw_thermal", 0x80: "hw_power_brake",
    0x100: "display_clocks",
}
MISSING = ("NVML is not available (pip install nvidia-ml-py, or archscope[nvml]), so GPU clocks, "
           "temperature, power, throttle reasons and energy per item are not recorded")


def throttle_names(mask: int) -> str:
    """``"sw_power_cap,hw_thermal"`` for a reasons bit mask; ``"none"`` for 0."""
    names = [name for bit, name in THROTTLE_REASONS.items() if mask & bit]
    unknown = mask & ~sum(THROTTLE_REASONS)
    if unknown:
        names.append(f"0x{unknown:x}")
    return ",".join(names) or "none"


@dataclass
class Gpu:
    """One GPU's NVML handle and the module that reads it."""

    nvml: Any
    handle: Any

    def sample(self) -> dict[str, Any]:
        """The record's GPU fields now; a reading NVML refuses is None."""
        n, h = self.nvml, self.handle

        def read(fn, *args):
            try:
                return fn(h, *args)
            except Exception:  # noqa: BLE001 - NVMLError_NotSupported and friends
                return None

        reasons = getattr(n, "nvmlDeviceGetCurrentClocksEventReasons", None) or \
            getattr(n, "nvmlDeviceGetCurrentClocksThrottleReasons", None)
        mask = read(reasons) if reasons else None
        power = read(n.nvmlDeviceGetPowerUsage)
        return {"gpu_sm_clock_mhz": read(n.nvmlDeviceGetClockInfo, CLOCK_SM),
                "gpu_temp_c": read(n.nvmlDeviceGetTemperature, TEMPERATURE_GPU),
                "gpu_power_w": power / 1000 if power is not None else None,
                "gpu_throttle": throttle_names(mask) if mask is not None else None}

    def energy_mj(self) -> int | None:
        try:
            return int(self.nvml.nvmlDeviceGetTotalEnergyConsumption(self.handle))
        except Exception:  # noqa: BLE001 - boards before Volta have no energy counter
            return None

    def idle_power_w(self) -> float | None:
        """The median of a few power readings while nothing runs (call after a synchronize)."""
        readings = []
        for _ in range(IDLE_SAMPLES):
            try:
                readings.append(self.nvml.nvmlDeviceGetPowerUsage(self.handle) / 1000)
            except Exception:  # noqa: BLE001
                return None
            time.sleep(IDLE_GAP_S)
        return statistics.median(readings)


def open_gpu(device: str, module: Any = None) -> tuple[Gpu | None, str | None]:
    """``(Gpu, None)`` for torch's ``device`` (cuda or cuda:N), or ``(None, why)``.

    The GPU is found by its UUID, so ``CUDA_VISIBLE_DEVICES`` renumbering does not pick the
    wrong board; by index where torch gives no UUID. ``module`` replaces ``pynvml`` (tests).
    """
    if not device.startswith("cuda"):
        return None, "GPU clocks, power and energy are recorded on NVIDIA GPUs only"
    if module is None:
        try:
            import pynvml as module
        except ImportError:
            return None, MISSING
    try:
        module.nvmlInit()
    except Exception as exc:  # noqa: BLE001 - no driver, no permission
        return None, f"NVML did not start ({type(exc).__name__}: {exc}); {MISSING.split(', so ')[1]}"
    import torch

    dev = torch.device(device)
    index = dev.index if dev.index is not None else torch.cuda.current_device()
    uuid = getattr(torch.cuda.get_device_properties(index), "uuid", None)
    try:
        handle = (module.nvmlDeviceGetHandleByUUID(f"GPU-{uuid}") if uuid is not None
                  else module.nvmlDeviceGetHandleByIndex(index))
    except Exception:  # noqa: BLE001 - an older driver without UUID lookups
        handle = module.nvmlDeviceGetHandleByIndex(index)
    return Gpu(module, handle), None


@dataclass
class EnergyWindow:
    """Energy over one timed window: :meth:`start`, run, :meth:`stop` with the items done."""

    gpu: Gpu
    idle_w: float | None
    _e0: int | None = None
    _t0: float = 0.0

    def start(self) -> None:
        self._e0 = self.gpu.energy_mj()
        self._t0 = time.perf_counter()

    def stop(self, items: int) -> tuple[dict[str, float], str | None]:
        """``({"energy_j_per_item", "power_w", "idle_power_w"}, None)`` or ``({}, why)``."""
        seconds = time.perf_counter() - self._t0
        e1 = self.gpu.energy_mj()
        if self._e0 is None or e1 is None:
            return {}, "this GPU has no NVML energy counter, so energy per item is not recorded"
        if seconds < ENERGY_MIN_S:
            return {}, (f"a timed window of {seconds:.2f} s is too short for NVML's energy counter "
                        f"(at least {ENERGY_MIN_S:g} s); raise --budget or --iters")
        joules = (e1 - self._e0) / 1000
        net = joules - (self.idle_w or 0.0) * seconds
        return {"energy_j_per_item": net / items, "power_w": joules / seconds,
                "idle_power_w": self.idle_w}, None
