"""SageMaker training job entrypoint: `python3 /opt/ml/input/data/code/launch.py` (ContainerEntrypoint).

Puts this directory on sys.path and hands over to `gpt_oss_train.launcher.main()`, which reads the recipe and
the cluster from SageMaker's files and starts `accelerate launch ... sft.py` on this host.
"""

import sys
from pathlib import Path


sys.path.insert(0, str(Path(__file__).resolve().parent))

from gpt_oss_train.launcher import main


if __name__ == "__main__":
    sys.exit(main())
