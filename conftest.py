"""Run the notebook in its quick mode, with fresh checkpoints and results folders, under pytest.

The nbval kernel and the notebooks executed by the tests inherit this process's environment, so setting variables
here is what makes `pytest` re-run the notebook in quick mode. Set AUTOENCODERS_QUICK=0 yourself to have nbval run
the full 30 epochs instead. Checkpoints and the metrics file go to folders of this session's own, so nbval always
trains (the tests check loading separately) and never reuses a checkpoint written by older code. nbval's run is
the first quick run of the session: tests/conftest.py's `first_run` takes its metrics and checkpoints from these
folders (named in AUTOENCODERS_TEST_FIRST_RUN) rather than training every model once more.
"""

import json
import os
import shutil
import tempfile

os.environ.setdefault("AUTOENCODERS_QUICK", "1")
_folders = []
for variable, prefix in [("AUTOENCODERS_CHECKPOINT_DIR", "checkpoints"), ("AUTOENCODERS_RESULTS_DIR", "results")]:
    if variable not in os.environ:
        os.environ[variable] = tempfile.mkdtemp(prefix=f"autoencoders-test-{prefix}-")
        _folders.append(os.environ[variable])
if len(_folders) == 2:  # both folders are this session's: whatever nbval leaves there is from this session's run
    os.environ["AUTOENCODERS_TEST_FIRST_RUN"] = json.dumps(dict(zip(["checkpoints", "results"], _folders)))


def pytest_unconfigure(config):
    for folder in _folders:
        shutil.rmtree(folder, ignore_errors=True)
