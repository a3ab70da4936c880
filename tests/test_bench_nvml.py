"""NVML readings and energy per item, with a fake NVML (a board that reports fixed figures and an
energy counter that advances with a fake clock); on the CPU nothing is recorded, said once."""

from __future__ import annotations

import types

import pytest

import archscope
from archscope.timing import nvml


class FakeNvml:
    """Clocks 1,755 MHz, 61 °C, 350 W, power-capped; energy: 400 W × fake seconds, in mJ."""

    def __init__(self, clock):
        self.clock = clock
        self.inits = 0

    def nvmlInit(self):
        self.inits += 1

    def nvmlDeviceGetHandleByIndex(self, i):
        return f"gpu{i}"

    def nvmlDeviceGetClockInfo(self, h, kind):
        assert kind == nvml.CLOCK_SM
        return 1755

    def nvmlDeviceGetTemperature(self, h, sensor):
        return 61

    def nvmlDeviceGetPowerUsage(self, h):
        return 350_000  # mW

    def nvmlDeviceGetCurrentClocksThrottleReasons(self, h):
        return 0x4 | 0x40

    def nvmlDeviceGetTotalEnergyConsumption(self, h):
        return int(400_000 * self.clock())  # 400 W → 400,000 mJ per second


def test_throttle_reasons_read_as_names():
    assert nvml.throttle_names(0) == "none"
    assert nvml.throttle_names(0x4 | 0x40) == "sw_power_cap,hw_thermal"
    assert nvml.throttle_names(0x1 | 0x10000) == "gpu_idle,0x10000"


def test_a_sample_has_the_record_fields():
    gpu = nvml.Gpu(FakeNvml(lambda: 0.0), "gpu0")
    assert gpu.sample() == {"gpu_sm_clock_mhz": 1755, "gpu_temp_c": 61, "gpu_power_w": 350.0,
                            "gpu_throttle": "sw_power_cap,hw_thermal"}


def test_energy_per_item_net_of_idle_power(monkeypatch):
    now = [100.0]
    monkeypatch.setattr(nvml.time, "perf_counter", lambda: now[0])
    gpu = nvml.Gpu(FakeNvml(lambda: now[0]), "gpu0")
    window = nvml.EnergyWindow(gpu, idle_w=40.0)
    window.start()
    now[0] += 2.5  # 2.5 s at 400 W: 1,000 J; idle 40 W × 2.5 s = 100 J; 500 items
    figures, why = window.stop(items=500)
    assert why is None
    assert figures == {"energy_j_per_item": pytest.approx((1000 - 100) / 500),
                       "power_w": pytest.approx(400.0), "idle_power_w": 40.0}


def test_a_window_too_short_for_the_counter_is_refused(monkeypatch):
    now = [0.0]
    monkeypatch.setattr(nvml.time, "perf_counter", lambda: now[0])
    window = nvml.EnergyWindow(nvml.Gpu(FakeNvml(lambda: now[0]), "gpu0"), idle_w=40.0)
    window.start()
    now[0] += 0.4
    figures, why = window.stop(items=64)
    assert figures == {} and why == ("a timed window of 0.40 s is too short for NVML's energy "
                                     "counter (at least 1 s); raise --budget or --iters")


def test_open_gpu_says_why_not(monkeypatch):
    assert nvml.open_gpu("cpu") == (None, "GPU clocks, power and energy are recorded on NVIDIA "
                                          "GPUs only")
    import builtins

    real_import = builtins.__import__

    def no_pynvml(name, *a, **k):
        if name == "pynvml":
            raise ImportError("No module named 'pynvml'")
        return real_import(name, *a, **k)

    monkeypatch.setattr(builtins, "__import__", no_pynvml)
    assert nvml.open_gpu("cuda") == (None, nvml.MISSING)


def test_open_gpu_finds_the_board_by_index_without_a_uuid(monkeypatch):
    import torch

    monkeypatch.setattr(torch.cuda, "current_device", lambda: 0)
    monkeypatch.setattr(torch.cuda, "get_device_properties",
                        lambda i: types.SimpleNamespace(name="fake"))  # no uuid attribute
    fake = FakeNvml(lambda: 0.0)
    gpu, why = nvml.open_gpu("cuda:1", module=fake)
    assert why is None and gpu.handle == "gpu1" and fake.inits == 1


def test_a_cpu_run_records_no_gpu_fields_and_says_so_once():
    res = archscope.bench("lenet5", batch_sizes=[1, 2], iters=3, warmup=0, roofs=False)
    assert res.notes.count("GPU clocks, power and energy are recorded on NVIDIA GPUs only") == 1
    assert all(r["gpu_power_w"] is None and r["energy_j_per_item"] is None for r in res.records)
