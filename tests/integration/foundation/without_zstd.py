"""Run a module (default: the probe) in a process whose aiokafka cannot decode zstd.

It stands for what the consumer must survive: a record batch this process cannot decode (a codec
library missing, a codec added to Kafka after this client). aiokafka's pure-Python reader is
chosen before aiokafka is imported, so its codec check is the one turned off here.

    python -m tests.integration.foundation.without_zstd [module [args...]]
"""

from __future__ import annotations

import os
import runpy
import sys

os.environ["AIOKAFKA_NO_EXTENSIONS"] = "1"

import aiokafka.codec

aiokafka.codec.has_zstd = lambda: False

if __name__ == "__main__":
    module, *args = sys.argv[1:] or ["tests.probe"]
    sys.argv = [module, *args]
    runpy.run_module(module, run_name="__main__", alter_sys=True)
