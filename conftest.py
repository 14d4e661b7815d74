"""Run the notebook in its quick mode under pytest.

The nbval kernel and the notebooks executed by the tests inherit this process's environment, so setting the
variable here is what makes `pytest` re-run the notebook in quick mode. Set AUTOENCODERS_QUICK=0 yourself to have
nbval run the full 30 epochs instead.
"""

import os

os.environ.setdefault("AUTOENCODERS_QUICK", "1")
