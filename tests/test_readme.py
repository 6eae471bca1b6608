"""Every Python code block of README.md runs as written."""

from __future__ import annotations

import pathlib
import re

import pytest

README = pathlib.Path(__file__).resolve().parents[1] / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.S)


def test_readme_has_python_examples():
    assert len(BLOCKS) >= 2


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_readme_block_runs(index, capsys):
    exec(compile(BLOCKS[index], f"README.md block {index}", "exec"), {"__name__": "__readme__"})
    assert capsys.readouterr().out  # each example prints what it shows


def test_cli_demo_and_config_run():
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-m", "pyneural", "demo", "--iterations", "1001"],
                         capture_output=True, text=True, timeout=300, cwd="/")
    assert out.returncode == 0, out.stderr
    assert "Cost after iteration 0: 0.693048" in out.stdout
    assert "Cost after iteration 1000: 0.288083" in out.stdout
    cfg = subprocess.run([sys.executable, "-m", "pyneural", "config"], capture_output=True,
                         text=True, timeout=300, cwd="/")
    assert cfg.returncode == 0 and "backends:" in cfg.stdout
    bad = subprocess.run([sys.executable, "-m", "pyneural", "demo", "--iterations", "0"],
                         capture_output=True, text=True, timeout=300, cwd="/")
    assert bad.returncode != 0 and "iterations" in bad.stderr
