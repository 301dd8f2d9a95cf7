"""nbval runs these notebooks under the settings their checked outputs were stored with.

Cells marked ``# NBVAL_CHECK_OUTPUT`` hold the output of a run on real MovieLens 100K with the
``ci`` profile (``RECSYS_AE_DATASET=ml-100k``, ``RECSYS_AE_PROFILE=ci``), so the notebook
tests always run with exactly those settings, whatever the shell says. The kernels nbval
starts inherit this process's environment.
"""

import os
from pathlib import Path

SHARED_DATA = (Path(__file__).resolve().parents[2] / "shared" / "data").resolve()

os.environ["RECSYS_AE_DATASET"] = "ml-100k"
os.environ["RECSYS_AE_PROFILE"] = "ci"
os.environ.pop("RECSYS_AE_SYNTHETIC_SIZE", None)
os.environ.pop("RECSYS_AE_SEED", None)
if not os.environ.get("RECSYS_AE_DATA_DIR") and SHARED_DATA.is_dir():
    os.environ["RECSYS_AE_DATA_DIR"] = str(SHARED_DATA)
# a relative data folder is read from the repository root (recsys_ae.settings); make it
# absolute here too, for code that reads the variable directly
elif not Path(os.environ.get("RECSYS_AE_DATA_DIR") or "/").is_absolute():
    root_relative = Path(__file__).resolve().parents[1] / os.environ["RECSYS_AE_DATA_DIR"]
    if root_relative.is_dir():
        os.environ["RECSYS_AE_DATA_DIR"] = str(root_relative.resolve())
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
