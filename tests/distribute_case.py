"""Train one small case and print its per-epoch history as JSON (run by tests/test_distribute.py).

    python tests/distribute_case.py --cpus 2 --distribute mirrored

The CPU is split into ``--cpus`` logical devices before TensorFlow starts, which is why this runs
in its own process: TensorFlow's devices cannot be changed once it has initialised them.
"""

from __future__ import annotations

import argparse
import json
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cpus", type=int, default=1, help="logical CPU devices")
    parser.add_argument("--distribute", default="none")
    parser.add_argument("--variant", default="basic_cnn")
    parser.add_argument("--epochs", type=int, default=2)
    args = parser.parse_args()

    import tensorflow as tf

    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * args.cpus)

    from flowers.training import train
    from flowers.training.data import load
    from flowers.training.profiles import TrainConfig

    config = TrainConfig(data="synthetic", image_size=32, epochs=args.epochs, batch_size=16, distribute=args.distribute)
    result = train.run(args.variant, load("synthetic", 32), config)
    print(
        json.dumps(
            {
                "history": result["history"],
                "config": result["config"],
                "test_accuracy": result["test_accuracy"],
                "config_hash": result["config_hash"],
                "feature_cache": result["feature_cache"]["enabled"],
            }
        )
    )


if __name__ == "__main__":
    main()
