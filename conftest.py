"""Run the notebook in its quick mode, with fresh checkpoints, under pytest.

The nbval kernel and the notebooks executed by the tests inherit this process's environment, so setting variables
here is what makes `pytest` re-run the notebook in quick mode. Set AUTOENCODERS_QUICK=0 yourself to have nbval run
the full 30 epochs instead. Checkpoints go to a folder of this session's own, so nbval always trains (the
tests check loading separately) and never reuses a checkpoint written by older code.
"""

import os
import shutil
import tempfile

os.environ.setdefault("AUTOENCODERS_QUICK", "1")
_checkpoints = tempfile.mkdtemp(prefix="autoencoders-test-checkpoints-")
os.environ.setdefault("AUTOENCODERS_CHECKPOINT_DIR", _checkpoints)


def pytest_unconfigure(config):
    shutil.rmtree(_checkpoints, ignore_errors=True)
