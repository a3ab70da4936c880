"""The base install keeps the torch that is already there: no new torch, no CUDA package.

A throwaway virtual environment, created without a pip of its own, sees this environment's
packages (torch, fvcore, pandas, …) through a ``.pth`` file, as an environment made with
``--system-site-packages`` sees the system's. pip then installs a copy of the source tree into
it with no package index and no find-links (pip's config files are ignored too), so it can
download nothing: it succeeds only if every requirement of the base install is met by what is
already installed. Its installation report must list archscope and nothing else, and the new
environment's own site-packages must hold archscope alone: no torch, no ``nvidia-*``, no
triton. The extras (torchvision, timm) are not installed here: they are the ones that resolve
a torch of their own (see the README's install section).

Takes a few seconds (a setuptools wheel build), hence ``slow``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CUDA_PREFIXES = ("nvidia-", "nvidia_", "triton", "cuda-", "cuda_")

pytestmark = pytest.mark.slow


def _source_copy(dest: Path) -> Path:
    """The files a build reads, copied so the build's egg-info and build/ stay out of the repo."""
    dest.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy2(ROOT / name, dest / name)
    shutil.copytree(ROOT / "archscope", dest / "archscope",
                    ignore=shutil.ignore_patterns("__pycache__"))
    return dest


def _site_packages(env: Path) -> Path:
    scheme_vars = {"base": str(env), "platbase": str(env)}
    return Path(sysconfig.get_path("purelib", vars=scheme_vars))


def test_base_install_keeps_the_present_torch_and_pulls_no_cuda_package(tmp_path):
    import torch

    env = tmp_path / "env"
    venv.EnvBuilder(with_pip=False).create(env)
    site = _site_packages(env)
    assert site.is_dir(), site
    # this environment's packages, torch among them, visible to the new one
    (site / "outer.pth").write_text(sysconfig.get_path("purelib") + "\n")
    python = env / "bin" / "python"
    report = tmp_path / "report.json"
    clean_env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
    clean_env.update(PIP_CONFIG_FILE=os.devnull, PIP_DISABLE_PIP_VERSION_CHECK="1")
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--no-index",
         "--no-build-isolation", "--quiet", "--report", str(report),
         str(_source_copy(tmp_path / "src"))],
        capture_output=True, text=True, env=clean_env, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr

    planned = [item["metadata"]["name"].lower() for item in json.loads(report.read_text())["install"]]
    assert planned == ["archscope"], planned
    own = sorted(p.name.lower() for p in site.iterdir())
    assert not [n for n in own if n.startswith(("torch",) + CUDA_PREFIXES)], own
    assert any(n.startswith("archscope") for n in own), own
    # the license in SPDX form (PEP 639), with its text shipped beside the metadata
    dist_info = next(site.glob("archscope-*.dist-info"))
    assert "License-Expression: MIT" in (dist_info / "METADATA").read_text().splitlines()
    assert (dist_info / "licenses" / "LICENSE").is_file()

    # the new environment runs archscope on the torch that was there before
    probe = subprocess.run(
        [str(python), "-c", "import archscope, torch; print(torch.__version__); "
         "print(archscope.__file__)"],
        capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert probe.returncode == 0, probe.stderr
    version, package = probe.stdout.split()
    assert version == torch.__version__
    assert Path(package).is_relative_to(site)  # the installed copy, not the source tree
