"""Peak memory of the paper profile's largest case on a CPU, without training it for hours.

    python scripts/paper_memory.py FOLDER     # e.g. a copy of flower_photos

Loads FOLDER at 160 px, applies the x5 augmentation, builds resnet50v2_finetune_aug's feature cache
(the frozen prefix's outputs for every image) and trains 5 steps: everything a full run holds in
memory at once.  Prints the peak resident set size.
"""

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from flowers.training import augment, data, features, measure, train
from flowers.training.case import Case
from flowers.training.models import create_model
from flowers.training.profiles import TrainConfig

VARIANT, CUT, SIZE, BATCH = "resnet50v2_finetune_aug", "conv3_block4_out", 160, 32


def main(folder: str) -> None:
    config = TrainConfig(image_size=SIZE, batch_size=BATCH)
    start = time.perf_counter()
    with measure.PeakMemory() as memory:
        splits = augment.augment(data.load(folder, SIZE), seed=0)
        model = create_model(VARIANT, splits.num_classes, SIZE, "none")
        prefix, suffix = features.split(model, CUT)
        with features.build(
            prefix,
            CUT,
            splits.x_train,
            splits.x_val,
            splits.x_test,
            batch_size=BATCH,
            memory_limit=features.default_memory_limit(),
        ) as cache:
            Case.of(VARIANT, config).compile(suffix)
            batches = train.training_batches(cache.train, splits.y_train, BATCH, 0, 1)
            suffix.fit(batches, steps_per_epoch=5, verbose=0)
            info = cache.info()
    print(
        f"{VARIANT} at {SIZE} px, {len(splits.y_train)} training images: feature cache "
        f"{info['bytes'] / 2**30:.2f} GiB ({info['storage']}), images {splits.x_train.nbytes / 2**30:.2f} GiB, "
        f"peak RSS {memory.bytes / 2**30:.2f} GiB ({time.perf_counter() - start:.0f} s)"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", help="a folder of photos, one subfolder per class (e.g. flower_photos)")
    main(parser.parse_args().folder)
