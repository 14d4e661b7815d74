"""The notebook as a person uses it: JupyterLab in a real browser (Debian's Chromium, driven by Playwright).

Opened, it is not marked modified; Run All Cells runs every cell in quick mode without an error; the code-space
explorer's sliders move its cross and redraw its picture; every displayed equation is typeset. Saved and reopened with
the kernel gone, in JupyterLab and in Notebook 7, every training shows its finished progress line as text, no output
needs the old kernel ("Error displaying widget"), and the explorers still move; so they do in the saved notebook's
HTML export (`jupyter nbconvert --to html`), which shows no widget's text either, draws the three networks' pictures and the new ideas' figures
and, with the MathJax its page loads (Debian's copy, offline), typesets every equation. Screenshots of the top, a
training cell, the figures whose legibility was in question, every equation and the explorers go to
test-artifacts/browser/ (AUTOENCODERS_TEST_ARTIFACTS elsewhere). Needs `chromium` and `libjs-mathjax` (Debian's
packages) and `playwright` (PyPI); without them the test is skipped, except under CI, where .ci/run installs them.
"""

import contextlib
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest

from notebook_access import NOTEBOOK_PATH, ROOT, TRAINING_CELLS, cell_text, editor_line_length, training_cells

ARTIFACTS = Path(os.environ.get("AUTOENCODERS_TEST_ARTIFACTS", ROOT / "test-artifacts")) / "browser"
WINDOW = {"width": 1366, "height": 768}  # the commonest laptop screen; JupyterLab opens with its file browser
# Chromium as a test runs it here: no sandbox as root, and none of its background connections (this machine has no
# internet, and refuses them many at a time).
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-sync",
                  "--disable-background-networking", "--disable-component-update"]
TOKEN = "autoencoders-browser-test"
EXPLORERS = 2  # sections 9 and 15
MATHJAX = Path("/usr/share/javascript/mathjax/MathJax.js")  # Debian's libjs-mathjax
WIDGET_ERROR = "Error displaying widget"
# JupyterLab's own settings for the test's server: only its news prompt is turned off, which would cover part of the
# screenshots.
SETTINGS = {"@jupyterlab/apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false"}}


def require(what: str, found: bool) -> None:
    if not found:
        message = f"{what} is not installed (.ci/run shows how to install it)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)


@pytest.fixture(scope="module")
def chromium() -> str:
    path = shutil.which("chromium")
    require("Chromium", path is not None)
    return path


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def api(base: str, path: str, method: str = "GET"):
    request = urllib.request.Request(f"{base}{path}", method=method, headers={"Authorization": f"token {TOKEN}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        body = response.read()
    return json.loads(body) if body else None


@pytest.fixture(scope="module")
def lab(tmp_path_factory, local_copy):
    """JupyterLab serving a copy of the notebook, with settings of its own and the notebook's quick mode."""
    folder = tmp_path_factory.mktemp("lab")
    shutil.copy(NOTEBOOK_PATH, folder / NOTEBOOK_PATH.name)
    scratch = tmp_path_factory.mktemp("lab-scratch")
    environment = {key: value for key, value in os.environ.items() if key != "MPLBACKEND"}
    environment |= {"AUTOENCODERS_QUICK": "1", "AUTOENCODERS_SEED": "0", "AUTOENCODERS_RETRAIN": "1",
                    "AUTOENCODERS_RESULTS_DIR": str(scratch / "results"),
                    "AUTOENCODERS_CHECKPOINT_DIR": str(scratch / "checkpoints"),
                    "AUTOENCODERS_DATA_DIR": str(scratch / "data"), "FASHION_MNIST_DIR": str(local_copy),
                    "JUPYTER_CONFIG_DIR": str(scratch / "config"), "JUPYTER_RUNTIME_DIR": str(scratch / "runtime")}
    for name, settings in SETTINGS.items():
        (scratch / "settings" / name).parent.mkdir(parents=True, exist_ok=True)
        (scratch / "settings" / name).write_text(json.dumps(settings))
    port = free_port()
    command = [sys.executable, "-m", "jupyterlab", "--no-browser", f"--ServerApp.port={port}",
               "--ServerApp.ip=127.0.0.1", f"--IdentityProvider.token={TOKEN}", f"--ServerApp.root_dir={folder}",
               f"--LabServerApp.user_settings_dir={scratch / 'settings'}",
               f"--LabServerApp.workspaces_dir={scratch / 'workspaces'}", "--allow-root"]
    log = open(scratch / "jupyterlab.log", "w")  # noqa: SIM115 (open while the server runs)
    server = subprocess.Popen(command, env=environment, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):
            try:
                api(base, "/api/status")
                break
            except OSError:
                time.sleep(0.5)
        else:
            pytest.fail(f"JupyterLab did not start: {(scratch / 'jupyterlab.log').read_text()[-2000:]}")
        yield {"base": base, "folder": folder}
    finally:
        # The kernels that the reopened notebook started (JupyterLab's and Notebook 7's) are shut down first: the
        # server, stopped with them running, can take longer than a test should wait.
        with contextlib.suppress(OSError):
            for kernel in api(base, "/api/kernels"):
                api(base, f"/api/kernels/{kernel['id']}", method="DELETE")
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=30)
        log.close()


@pytest.fixture(scope="module")
def browser(chromium):
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        require("Playwright", False)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_FLAGS)
        yield launched
        launched.close()


def open_notebook(browser, lab):
    page = browser.new_page(viewport=WINDOW)
    page.goto(f"{lab['base']}/lab/tree/{NOTEBOOK_PATH.name}?token={TOKEN}")
    page.wait_for_selector(".jp-Notebook .jp-CodeCell .cm-content", timeout=120_000)
    page.wait_for_function("() => document.querySelector('.jp-Notebook-ExecutionIndicator')"
                           "?.getAttribute('data-status') === 'idle'", timeout=120_000)
    return page


def is_marked_modified(page) -> bool:
    page.wait_for_timeout(2000)  # whatever JupyterLab changes on opening, it has changed by now
    return page.locator(".lm-TabBar-tab.jp-mod-dirty").count() > 0


def menu(page, top: str, item: str) -> None:
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(f"^{top}$")).click()
    page.locator(".lm-Menu-itemLabel", has_text=re.compile(f"^{item}$")).click()


def prompts(page) -> list[str]:
    return page.locator(".jp-CodeCell .jp-InputPrompt").all_inner_texts()


def screenshot(page, name: str, locator=None) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    if locator is None:
        page.screenshot(path=path)
    else:
        locator.scroll_into_view_if_needed()
        page.wait_for_timeout(500)
        page.screenshot(path=path)
    return path


def explorer_cell(page, number: int = 0):
    return page.locator(".jp-CodeCell", has_text="CodeSpaceExplorer(").filter(has_text=".show()").nth(number)


def move_the_explorer(page, cell, name: str) -> dict:
    """Press the right arrow key on an explorer's first slider five times: where its cross was and went, how long the
    page took to draw each move, and a screenshot."""
    cell.scroll_into_view_if_needed()
    explorer = cell.locator("[data-point]")
    explorer.wait_for(timeout=60_000)  # the page's script has drawn it
    slider = explorer.locator("input[type=range]").first
    first_point, first_value = explorer.get_attribute("data-point"), slider.input_value()
    slider.focus()
    times = []
    for _ in range(5):
        point = explorer.get_attribute("data-point")
        start = time.perf_counter()
        page.keyboard.press("ArrowRight")
        page.wait_for_function("([element, old]) => element.dataset.point !== old",
                               arg=[explorer.element_handle(), point], polling="raf", timeout=10_000)
        times.append(time.perf_counter() - start)
    return {"point_before": first_point, "point_after": explorer.get_attribute("data-point"),
            "value_before": int(first_value), "value_after": int(slider.input_value()),
            "canvases": cell.locator("canvas").count(), "redraw_seconds": sorted(times),
            "screenshot": screenshot(page, name, cell)}


def moved(explorer: dict) -> bool:
    """Five presses of the right arrow key took the cross five steps right, along code 1 only."""
    (x_before, y_before), (x_after, y_after) = (map(float, explorer[key].split()) for key in ("point_before",
                                                                                            "point_after"))
    return (explorer["value_after"] == explorer["value_before"] + 5 and x_after > x_before and y_after == y_before
            and explorer["canvases"] == 1)


def outputs_by_cell(page, saved: nbformat.NotebookNode) -> list[tuple[str, list[str]]]:
    """Every code cell's source and the text of each of its outputs as the page shows them, once it shows all that
    the saved notebook holds (each cell scrolled into view first, since JupyterLab renders what is on the screen, and
    a widget's output reads "Loading widget..." until the widget manager has looked for its model)."""
    found = []
    cells = page.locator(".jp-Notebook .jp-CodeCell")
    expected = [len(cell.outputs) for cell in saved.cells if cell.cell_type == "code"]
    page.wait_for_function("count => document.querySelectorAll('.jp-Notebook .jp-CodeCell').length === count",
                           arg=len(expected), timeout=60_000)  # JupyterLab adds the cells in steps
    for index, count in enumerate(expected):
        cell = cells.nth(index)
        cell.scroll_into_view_if_needed()
        outputs = cell.locator(".jp-OutputArea-output")
        for _ in range(100):
            texts = outputs.all_text_contents()
            if len(texts) == count and not any(text.startswith("Loading widget") for text in texts):
                break
            page.wait_for_timeout(100)
        found.append((cell.locator(".jp-InputArea").text_content(), texts))
    return found


@pytest.fixture(scope="module")
def saved_and_reopened(browser, lab):
    """Open the notebook, Run All Cells, save it, shut the kernel down and reopen it: what each step showed."""
    seen = {}
    page = open_notebook(browser, lab)
    seen["modified_on_opening"] = is_marked_modified(page)
    start = time.perf_counter()
    menu(page, "Run", "Run All Cells")
    page.wait_for_function("() => [...document.querySelectorAll('.jp-CodeCell .jp-InputPrompt')]"
                           ".every(prompt => /\\[\\d+\\]/.test(prompt.textContent))", timeout=900_000, polling=1000)
    seen["run_seconds"] = time.perf_counter() - start
    seen["prompts"] = prompts(page)
    seen["explorer"] = move_the_explorer(page, explorer_cell(page), "explorer")
    page.keyboard.press("Control+s")
    page.wait_for_function("() => !document.querySelector('.lm-TabBar-tab.jp-mod-dirty')", timeout=60_000)
    seen["saved"] = nbformat.read(lab["folder"] / NOTEBOOK_PATH.name, as_version=4)
    page.close()
    for session in api(lab["base"], "/api/sessions"):
        api(lab["base"], f"/api/sessions/{session['id']}", method="DELETE")  # shuts its kernel down
    assert api(lab["base"], "/api/kernels") == []
    page = open_notebook(browser, lab)
    seen["modified_on_reopening"] = is_marked_modified(page)
    page.wait_for_timeout(3000)  # a widget manager would give up on a missing model within a second or two
    seen["reopened_outputs"] = outputs_by_cell(page, seen["saved"])
    seen["reopened_explorers"] = [move_the_explorer(page, explorer_cell(page, number), f"explorer-{number + 1}-reopened")
                                  for number in range(EXPLORERS)]
    seen["screenshots"] = [
        screenshot(page, "top"),
        screenshot(page, "training", page.locator(".jp-OutputArea-output", has_text=re.compile(r": 100%\|")).first),
        screenshot(page, "figure", page.locator(".jp-RenderedImage img").nth(2)),
    ]
    seen["figures"] = {name: figure_as_shown(page, name, source) for name, source in FIGURES.items()}
    seen["equations"] = equations_as_shown(page, seen["saved"])
    page.close()
    page = browser.new_page(viewport=WINDOW)  # the same saved notebook in Notebook 7
    page.goto(f"{lab['base']}/notebooks/{NOTEBOOK_PATH.name}?token={TOKEN}")
    page.wait_for_selector(".jp-Notebook .jp-CodeCell .cm-content", timeout=120_000)
    page.wait_for_timeout(3000)
    seen["notebook7_outputs"] = outputs_by_cell(page, seen["saved"])
    seen["notebook7_explorers"] = [move_the_explorer(page, explorer_cell(page, number),
                                                     f"explorer-{number + 1}-notebook7") for number in range(EXPLORERS)]
    page.close()
    seen["html_export"] = html_export(browser, lab["folder"] / NOTEBOOK_PATH.name)
    return seen


def html_export(browser, notebook: Path) -> dict:
    """The saved notebook as `jupyter nbconvert --to html` exports it, opened in the browser: its outputs' text, its
    explorers moved, its networks' pictures and its equations. The page loads MathJax 2.7 from a CDN; this machine is
    offline, so the export points it at Debian's copy of the same version where there is one (else its equations are
    None)."""
    mathjax = [f"--HTMLExporter.mathjax_url={MATHJAX.as_uri()}?config=TeX-AMS_CHTML-full,Safe"] * MATHJAX.is_file()
    subprocess.run([sys.executable, "-m", "nbconvert", "--to", "html", str(notebook), *mathjax], check=True,
                   capture_output=True)
    page = browser.new_page(viewport=WINDOW)
    page.goto(notebook.with_suffix(".html").as_uri(), wait_until="domcontentloaded")  # no waiting for a CDN
    cells = page.locator(".jp-CodeCell", has_text="CodeSpaceExplorer(").filter(has_text=".show()")
    seen = {"text": "\n".join(page.locator(".jp-OutputArea").all_inner_texts()),  # the outputs, not the code
            "explorers": [move_the_explorer(page, cells.nth(number), f"explorer-{number + 1}-html")
                          for number in range(EXPLORERS)],
            "networks": [], "equations": None}
    for name, source in PICTURES.items():  # the networks' pictures and the figures that teach a new idea
        picture = page.locator(".jp-CodeCell", has_text=source).first.locator(".jp-OutputArea img").first
        picture.scroll_into_view_if_needed()
        path = ARTIFACTS / f"figure-{name}-html.png"
        picture.screenshot(path=path)
        seen["networks"].append({"name": name, "natural_width": picture.evaluate("img => img.naturalWidth"),
                                 "screenshot": path})
    if mathjax:
        page.wait_for_function("() => window.MathJax?.Hub", timeout=60_000)
        page.evaluate("() => new Promise(done => MathJax.Hub.Queue(done))")  # after everything queued is typeset
        displayed = page.locator(".MJXc-display")
        seen["equations"] = {
            "expected": sum(cell.source.count("$$") // 2 for cell in nbformat.read(notebook, as_version=4).cells
                            if cell.cell_type == "markdown"),
            "typeset": displayed.count(), "raw": "$$" in "".join(page.locator(".jp-MarkdownCell").all_inner_texts()),
            "screenshot": ARTIFACTS / "equation-1-html.png"}
        if displayed.count():
            displayed.first.scroll_into_view_if_needed()
            page.screenshot(path=seen["equations"]["screenshot"])
    page.close()
    return seen


# The pictures of the three networks and of the ideas issue 39 added (a transposed convolution, interpolation, a
# sparse code's units), by the code that draws them: the HTML export must show each.
PICTURES = {"network-feedforward": "show_network(feedforward", "network-cnn": "show_network(cnn",
            "network-vae": "show_network(make_variational", "transposed-convolution": "show_grids({",
            "interpolation": "show_image_rows(paths", "sparse-units": "how_often = "}
# Figures whose legibility was in question, by the code that draws them: each is kept as a screenshot of itself.
FIGURES = {name: source for name, source in PICTURES.items() if name.startswith("network")} | {
    "training-curves": 'fig.suptitle("Validation error while training', "rate-distortion": "What each bit buys",
    "code-spaces": "each model's 2-D code space", "explorer-reopened": "CodeSpaceExplorer(feedforward",
    "transposed-convolution": "show_grids({", "interpolation": "show_image_rows(paths", "sparse-units": "how_often = "}


def figure_as_shown(page, name: str, source: str) -> dict:
    """A screenshot of the first image output (or an explorer's canvas) of the code cell that holds `source`, and its
    width as shown against the image's own."""
    image = page.locator(".jp-CodeCell", has_text=source).first.locator(".jp-OutputArea-output :is(img, canvas)").first
    image.scroll_into_view_if_needed()
    image.wait_for(timeout=30_000)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    image.screenshot(path=ARTIFACTS / f"figure-{name}.png")
    shown, natural = image.evaluate("img => [img.getBoundingClientRect().width, img.naturalWidth ?? img.width]")
    return {"shown_width": shown, "natural_width": natural, "screenshot": ARTIFACTS / f"figure-{name}.png"}


def equations_as_shown(page, saved: nbformat.NotebookNode) -> list[dict]:
    """Each markdown cell with a displayed equation, scrolled into view: whether MathJax typeset it, and a screenshot."""
    found = []
    for index, cell in enumerate(saved.cells):
        if cell.cell_type == "markdown" and "$$" in cell.source:
            element = page.locator(".jp-Notebook .jp-Cell").nth(index)
            element.scroll_into_view_if_needed()
            typeset = element.locator("mjx-container")
            for _ in range(100):
                if typeset.count():
                    break
                page.wait_for_timeout(100)
            path = ARTIFACTS / f"equation-{len(found) + 1}.png"
            element.screenshot(path=path)
            found.append({"cell": cell.source[:40], "typeset": typeset.count(), "raw": "$$" in element.inner_text(),
                          "screenshot": path})
    return found


def test_opening_the_notebook_does_not_mark_it_modified(saved_and_reopened):
    assert not saved_and_reopened["modified_on_opening"]
    assert not saved_and_reopened["modified_on_reopening"]


def test_run_all_cells_runs_every_cell_without_an_error(saved_and_reopened):
    saved = saved_and_reopened["saved"]
    code_cells = [cell for cell in saved.cells if cell.cell_type == "code"]
    assert [cell.execution_count for cell in code_cells] == list(range(1, len(code_cells) + 1))
    assert len(saved_and_reopened["prompts"]) == len(code_cells)
    for index, cell in enumerate(code_cells):
        outputs = cell.get("outputs", [])
        assert not [o for o in outputs if o.output_type == "error"], f"code cell {index}: {cell.source[:80]}"
        assert not [o for o in outputs if o.output_type == "stream" and o.name == "stderr"], cell.source[:80]


def test_the_saved_notebook_keeps_each_finished_progress_line_as_text(saved_and_reopened):
    training = training_cells(saved_and_reopened["saved"])
    assert len(training) == TRAINING_CELLS
    for cell in training:
        assert not [o for o in cell.outputs if "application/vnd.jupyter.widget-view+json" in o.get("data", {})]
        bars = [line for line in cell_text(cell).splitlines() if "%|" in line]
        assert bars and all(re.search(r": 100%\|█+\| (\d+)/\1 \[", bar) for bar in bars), bars


def test_reopened_without_its_kernel_no_output_needs_it(saved_and_reopened):
    for front_end in ("reopened_outputs", "notebook7_outputs"):
        cells = saved_and_reopened[front_end]
        finished = [source for source, outputs in cells if any(re.search(r": 100%\|█+\|", text) for text in outputs)]
        assert len(finished) == TRAINING_CELLS, (front_end, [(s[:60], o) for s, o in cells if "train_or_load(" in s])
        assert not [(source[:60], outputs) for source, outputs in cells if any(WIDGET_ERROR in o for o in outputs)]
    assert all(path.stat().st_size > 10_000 for path in saved_and_reopened["screenshots"])


def test_the_explorers_sliders_move_its_cross_and_redraw_its_picture(saved_and_reopened):
    explorer = saved_and_reopened["explorer"]
    assert moved(explorer), explorer
    print(f"redrawn {len(explorer['redraw_seconds'])} times, after "
          + ", ".join(f"{seconds * 1000:.0f}" for seconds in explorer["redraw_seconds"]) + " ms")


def test_the_explorers_still_move_in_the_reopened_notebook_in_both_front_ends(saved_and_reopened):
    for front_end in ("reopened_explorers", "notebook7_explorers"):
        explorers = saved_and_reopened[front_end]
        assert len(explorers) == EXPLORERS and all(moved(explorer) for explorer in explorers), (front_end, explorers)


def test_the_html_export_shows_no_widget_its_explorers_move_and_it_draws_the_networks(saved_and_reopened):
    export = saved_and_reopened["html_export"]
    assert "100%|" in export["text"]  # the outputs were read
    assert WIDGET_ERROR not in export["text"] and "FloatSlider(" not in export["text"]
    assert "HBox(" not in export["text"] and "widget-view" not in export["text"]
    assert all(moved(explorer) for explorer in export["explorers"]), export["explorers"]
    assert [network["name"] for network in export["networks"]] == list(PICTURES)
    assert all(network["natural_width"] > 0 and network["screenshot"].stat().st_size > 5_000
               for network in export["networks"]), export["networks"]


def test_a_code_line_of_the_notebook_fits_the_editor(browser, lab):
    # ruff's line length (pyproject.toml) is what JupyterLab's editor shows in this window, file browser open.
    line_length = editor_line_length()
    page = open_notebook(browser, lab)
    # JupyterLab renders a cell's editor when the cell comes into view and may replace it while the notebook settles,
    # so the measurement is retried until an editor with a laid-out line is there.
    visible = page.wait_for_function("""() => {
        const scroller = document.querySelector('.jp-CodeCell .cm-scroller');
        const line = scroller?.querySelector('.cm-content .cm-line');
        if (!line) return null;
        const content = line.parentElement;
        const probe = document.createElement('span');
        probe.textContent = 'x'.repeat(100);
        line.appendChild(probe);
        const width = probe.getBoundingClientRect().width / 100;
        probe.remove();
        if (!(width > 0)) return null;
        const style = getComputedStyle(content);
        const gutters = scroller.querySelector('.cm-gutters')?.offsetWidth || 0;
        return (scroller.clientWidth - gutters - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight)) / width;
    }""", timeout=60_000).json_value()
    assert page.viewport_size == WINDOW
    page.close()
    assert line_length + 1 <= visible < line_length + 5, f"the editor shows {visible:.1f} characters"


def test_the_figures_in_question_fit_the_notebook_and_are_kept_as_screenshots(saved_and_reopened):
    figures = saved_and_reopened["figures"]
    for name, figure in figures.items():
        assert figure["screenshot"].stat().st_size > 5_000, name
        # JupyterLab shrinks an image wider than its output area; tests/test_try_its.py sizes labels for 930 pixels.
        assert figure["shown_width"] <= 940, (name, figure)


def test_every_equation_is_typeset(saved_and_reopened):
    equations = saved_and_reopened["equations"]
    # Seven equations in six cells: a transposed convolution's size, the MSE, the original metric against the SAE,
    # PSNR, the VAE's sampling and loss (one cell), and the sparse autoencoder's loss.
    assert len(equations) >= 6
    assert all(equation["typeset"] >= 1 and not equation["raw"] for equation in equations), equations


def test_the_html_export_typesets_every_equation(saved_and_reopened):
    equations = saved_and_reopened["html_export"]["equations"]
    require("MathJax 2.7 (Debian's libjs-mathjax)", equations is not None)
    assert equations["expected"] >= 7 and equations["typeset"] == equations["expected"], equations
    assert not equations["raw"] and equations["screenshot"].stat().st_size > 5_000
