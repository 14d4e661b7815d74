"""The notebook on the package versions its users have, each stack in a virtual environment of its own:

- colab: Google Colab's stack under Python 3.13 (requirements-colab.txt says where its versions come from);
- python3.10: the oldest Python the README promises, with what `pip install -r requirements.txt` picks there.

    python tests/stacks.py                  # both stacks, as .ci/run runs it
    python tests/stacks.py colab            # one

For each stack the environment is made under --environments (or reused, when the same Python made it from the same
requirements), then the notebook runs in quick mode, top to bottom, in a fresh kernel of that environment, with
results, checkpoints and data in a scratch folder. The check fails if a cell raises, if anything reaches stderr (a
warning from a library too old or too new for the notebook's code shows there first), or if the kernel ran another
Python than the stack's. A last cell then builds the code-space explorer's page as a person's run shows it. The same
file, run by the environment's own Python with --inside, is that run.
"""

import argparse
import glob
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = ROOT / "autoencoders.ipynb"
STACKS = {  # name: (Python version, requirements file)
    "colab": ("3.13", ROOT / "requirements-colab.txt"),
    "python3.10": ("3.10", ROOT / "requirements.txt"),
}
DEFAULT_ENVIRONMENTS = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "autoencoders-stacks"
# Run after the notebook, in its kernel: the code-space explorer as a person's run shows it, which a script executing
# the notebook never does: a page whose script draws each move, with the images decoded on a grid in advance.
PERSON_AT_THE_EXPLORER = """\
is_watched = lambda: True  # as in Colab or Jupyter
explorer = CodeSpaceExplorer(feedforward, codes_2d, labels, "a person's explorer", start=(0.0, 0.0))
explorer.show()
xs, ys, mosaic = explorer.grid()
corner = decode(feedforward, torch.tensor([[xs[-1], ys[0]]], device=DEVICE))[0, 0].cpu().numpy()
assert abs(mosaic[:28, -28:] / 255 - corner).max() <= 2 / 255
print(f"The explorer's page shows images decoded at {len(xs)} x {len(ys)} points")
"""
REPORTED_PACKAGES = ["torch", "torchvision", "numpy", "matplotlib", "scikit-learn", "scipy", "pillow", "tqdm",
                     "ipykernel", "ipython", "nbclient", "nbformat"]


def interpreter(version: str) -> Path:
    """A Python of this version: one of pyenv's, else python<version> on the PATH (not pyenv's shim, which runs only
    the versions pyenv has been told to)."""
    pyenv_root = os.environ.get("PYENV_ROOT") or str(Path.home() / ".pyenv")
    candidates = sorted(glob.glob(f"{pyenv_root}/versions/{version}.*/bin/python{version}"))
    if candidates:
        return Path(candidates[-1])
    found = shutil.which(f"python{version}")
    if found and "/shims/" not in found:
        return Path(found)
    raise SystemExit(f"No Python {version} here: put python{version} on the PATH or install it with pyenv "
                     f"(`pyenv install {version}`), then run this again.")


def environment(name: str, folder: Path) -> Path:
    """The Python of the stack's virtual environment, made (or reused) under `folder`."""
    version, requirements = STACKS[name]
    python = interpreter(version)
    recipe = {"python": str(python), "requirements": hashlib.sha256(requirements.read_bytes()).hexdigest()}
    venv = folder / name
    made = venv / "stack.json"
    if made.is_file() and json.loads(made.read_text()) == recipe:
        print(f"{name}: reusing {venv}", flush=True)
        return venv / "bin" / "python"
    shutil.rmtree(venv, ignore_errors=True)  # a half-made or outdated environment
    start = time.perf_counter()
    subprocess.run([str(python), "-m", "venv", str(venv)], check=True)
    subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "-qq", "--progress-bar", "off",
                    "--disable-pip-version-check", "-r", str(requirements)], check=True)
    made.write_text(json.dumps(recipe) + "\n")  # last: only a complete environment is reused
    print(f"{name}: made {venv} from {requirements.name} with {python} in {time.perf_counter() - start:.0f} s",
          flush=True)
    return venv / "bin" / "python"


def check(name: str, folder: Path) -> bool:
    python = environment(name, folder)
    start = time.perf_counter()
    result = subprocess.run([str(python), __file__, "--inside", STACKS[name][0]], check=False)
    print(f"{name}: {'passed' if result.returncode == 0 else 'FAILED'} in {time.perf_counter() - start:.0f} s",
          flush=True)
    return result.returncode == 0


def run_inside(version: str) -> int:
    """Run the notebook in quick mode with this Python's packages; 0 if it ran clean, else 1."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as installed

    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    def package_version(package: str) -> str:
        try:
            return installed(package)
        except PackageNotFoundError:
            return "none"

    print(f"Python {sys.version.split()[0]}: " + ", ".join(f"{p} {package_version(p)}" for p in REPORTED_PACKAGES),
          flush=True)
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    notebook.cells.append(nbformat.v4.new_code_cell(PERSON_AT_THE_EXPLORER))
    with tempfile.TemporaryDirectory(prefix="autoencoders-stack-") as scratch:
        os.environ.update({"PYDEVD_DISABLE_FILE_VALIDATION": "1",  # a debugger's notice on the kernel's console
                           "AUTOENCODERS_QUICK": "1", "AUTOENCODERS_RETRAIN": "1",
                           "AUTOENCODERS_RESULTS_DIR": f"{scratch}/results",
                           "AUTOENCODERS_CHECKPOINT_DIR": f"{scratch}/checkpoints",
                           "AUTOENCODERS_DATA_DIR": f"{scratch}/data"})
        try:
            NotebookClient(notebook, timeout=600, kernel_name="python3",
                           resources={"metadata": {"path": scratch}}).execute()
        except CellExecutionError as error:
            print(f"A cell raised:\n{str(error)[-3000:]}")
            return 1
    problems = []
    kernel_version = notebook.metadata.get("language_info", {}).get("version", "")
    if not kernel_version.startswith(f"{version}."):
        problems.append(f"the kernel ran Python {kernel_version or '(unknown)'}, not {version}")
    for index, cell in enumerate(notebook.cells):
        for output in cell.get("outputs", []):
            if output.output_type == "error":
                problems.append(f"code cell {index} shows an error: {output.ename}: {output.evalue}")
            elif output.output_type == "stream" and output.name == "stderr":
                problems.append(f"code cell {index} wrote to stderr: {output.text.strip()[:1500]}")
    print(notebook.cells[-1].outputs[-1].get("text", "").strip())
    for problem in problems:
        print(f"PROBLEM: {problem}")
    return 1 if problems else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("stacks", nargs="*", metavar="STACK", help=f"one or more of {', '.join(STACKS)} (default: all)")
    parser.add_argument("--environments", type=Path, default=DEFAULT_ENVIRONMENTS,
                        help="where the virtual environments are made and kept")
    parser.add_argument("--inside", metavar="VERSION", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.inside:
        return run_inside(args.inside)
    unknown = sorted(set(args.stacks) - STACKS.keys())
    if unknown:
        parser.error(f"no stack named {', '.join(unknown)}: choose from {', '.join(STACKS)}")
    results = {name: check(name, args.environments) for name in args.stacks or STACKS}
    failed = [name for name, passed in results.items() if not passed]
    print("every stack ran the notebook clean" if not failed else f"failed on: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
