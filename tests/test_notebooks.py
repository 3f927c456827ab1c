"""The population notebook as an assessor uses it: opened in a real JupyterLab, every cell
run in Debian's Chromium, no cell showing an error, and a screenshot for a person to see.

The notebooks are copied (with the evidence and the judgements) into a temporary folder
first, so JupyterLab's autosave never touches the committed files.
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run"]
ARGS += ["--disable-background-networking", "--disable-component-update", "--disable-sync"]


# Read from the open notebook's model (the server exposes the app to the page, see the
# fixture), not from the status bar: the kernel shows "Idle" for a moment between two queued
# cells, and a windowed notebook need not have every cell in the page.
# True once every code cell has an execution number, or once the run stopped at an error.
ALL_RUN_OR_STOPPED = """() => {
  const app = window.jupyterapp;
  const panel = app && app.shell.currentWidget;
  if (!panel || !panel.content || !panel.content.model || !panel.sessionContext) return false;
  if (panel.sessionContext.kernelDisplayStatus !== 'idle') return false;
  const cells = panel.content.model.cells;
  let numbered = true, failed = false;
  for (let i = 0; i < cells.length; i++) {
    const cell = cells.get(i);
    if (cell.type !== 'code') continue;
    if (!cell.executionCount) numbered = false;
    for (let j = 0; j < cell.outputs.length; j++) {
      if (cell.outputs.get(j).type === 'error') failed = true;
    }
  }
  return numbered || failed;
}"""
# True once the notebook has no unsaved changes.
SAVED = "() => !window.jupyterapp.shell.currentWidget.context.model.dirty"


def test_population_notebook_reads_as_the_analysis():
    nb = nbformat.read(ROOT / "notebooks" / "population.ipynb", as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert "parameters" in code[0].metadata.get("tags", [])
    steps = ["load_evidence", "select", "fit", "forest_plots", "grade", "summary_of_findings", "conclude"]
    for step, cell in zip(steps, code[1:], strict=False):
        assert f"nb.{step}(" in cell.source, (step, cell.source)
    for i, cell in enumerate(nb.cells[1:], 1):
        if cell.cell_type == "code" and i > 1:
            assert nb.cells[i - 1].cell_type == "markdown", f"cell {i} has no explanation above it"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for(url: str, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.5)
    pytest.fail(f"JupyterLab did not answer at {url} within {seconds:.0f} s")


@pytest.fixture
def lab(tmp_path):
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    jupyter = Path(sys.executable).parent / "jupyter"
    if subprocess.run([str(jupyter), "lab", "--version"], capture_output=True).returncode != 0:
        pytest.skip("JupyterLab is not installed (pip install '.[lab]')")
    for name in ("notebooks", "evidence", "grade"):
        shutil.copytree(ROOT / name, tmp_path / name)
    port, token = _free_port(), secrets.token_hex(16)
    cmd = [str(jupyter), "lab", "--no-browser", f"--port={port}", "--ip=127.0.0.1", f"--ServerApp.token={token}"]
    cmd += [f"--ServerApp.root_dir={tmp_path}", "--ServerApp.open_browser=False"]
    cmd.append("--LabApp.expose_app_in_browser=True")  # the test reads the notebook's model
    if os.geteuid() == 0:
        cmd.append("--allow-root")
    env = {**os.environ, "JUPYTER_CONFIG_DIR": str(tmp_path / ".jupyter"), "MPLBACKEND": "Agg"}
    log = open(tmp_path / "lab.log", "w")  # noqa: SIM115 - closed below
    server = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=tmp_path)
    try:
        _wait_for(f"http://127.0.0.1:{port}/api/status?token={token}", 60)
        yield f"http://127.0.0.1:{port}", token, tmp_path
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


def test_population_notebook_runs_in_jupyterlab_without_errors(lab):
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright (Python client) is not installed")
    base, token, folder = lab
    idle = "text=Python 3 (ipykernel) | Idle"
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(f"{base}/lab/tree/notebooks/population.ipynb?token={token}")
        page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=60_000)
        page.wait_for_selector(idle, timeout=120_000)  # the kernel has started
        page.click(".lm-MenuBar-itemLabel:text-is('Run')", timeout=30_000)
        page.click(".lm-Menu-itemLabel:text-is('Run All Cells')", timeout=30_000)
        page.wait_for_selector("text=Python 3 (ipykernel) | Busy", timeout=30_000)
        page.wait_for_function(ALL_RUN_OR_STOPPED, timeout=300_000, polling=500)
        errors = page.evaluate(
            "Array.from(document.querySelectorAll("
            "'.jp-OutputArea-output[data-mime-type=\"application/vnd.jupyter.stderr\"]'))"
            ".map(e => e.textContent.slice(0, 300))"
        )
        page.keyboard.press("Control+s")
        page.wait_for_function(SAVED, timeout=30_000, polling=250)
        shot = ROOT / "reports" / "jupyterlab-check.png"
        shot.parent.mkdir(exist_ok=True)
        page.screenshot(path=str(shot), full_page=False)
        browser.close()
    assert errors == [], errors
    saved = nbformat.read(folder / "notebooks" / "population.ipynb", as_version=4)
    code = [c for c in saved.cells if c.cell_type == "code"]
    assert all(c.execution_count for c in code), [c.execution_count for c in code]
    outputs = [o for c in code for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    assert sum("image/png" in o.get("data", {}) or "data:image/png" in str(o.get("data", {})) for o in outputs) >= 1
    html = " ".join(str(o.get("data", {}).get("text/html", "")) for o in outputs)
    assert "Inhoud" not in html and "CONCEPT" not in html, "no report chrome inside the notebook"
