"""tf_flowers offline: the flower_photos archive that TFDS downloads (``flower_photos.tgz``), or the
folder it extracts to, split into exactly the examples of ``tfds.load("tf_flowers",
split=["train[:80%]", "train[80%:90%]", "train[90%:]"])``.

How TFDS makes that split (tensorflow_datasets 4.9; the order is part of TFDS' format, so a change
to it would bump every data set's major version, ``core/hashing.py``):

1. **Keys.** tf_flowers' builder (``datasets/tf_flowers/tf_flowers_dataset_builder.py``) reads the
   archive's members, keeps those whose name ends in ``.jpg`` and keys each ``<folder>/<file>``:
   the name of the folder holding it (its class) and its file name, e.g.
   ``daisy/100080576_f52e8ee070_n.jpg``.  ``LICENSE.txt`` is no example.
2. **Order.** tf_flowers has one split, ``train``.  Preparing it, TFDS' writer sorts the examples by
   the md5 hash of the split's name followed by the key, ``md5(b"train" + key)`` read as a 128-bit
   integer (``core/hashing.py``: the split name is the salt; ``core/shuffle.py``: sorted in memory,
   or bucket by bucket on the hash's leading bits, the same order), and writes the shards in that
   order, which is the order ``tfds.load`` reads them in without ``shuffle_files``.
3. **Slices.** A percent slice ``train[a%:b%]`` of n examples reads positions
   ``round(a * n / 100)`` up to ``round(b * n / 100)`` of that order (``core/splits.py``, the
   default ``closest`` rounding: Python's ``round``, half to even; an open end is 0 or n).

So the split is a function of the keys alone: :func:`split_keys` computes it without TFDS (neither
its import nor its preparing the data set into TFRecords), and ``tests/test_flower_photos.py``
checks it against TFDS' own shuffler, slicing and archive reader.  Each split's keys are recorded
in the data set's fingerprint as their count and :func:`keys_sha256`, so that two runs can show they
trained and tested on the same examples.

A data path is read this way (:func:`recognised`) when it is a ``.tgz`` / ``.tar.gz`` / ``.tar``
archive, or a folder whose class sub-folders are exactly tf_flowers' five (:data:`CLASSES`), with or
without ``LICENSE.txt``.  Any other folder of class sub-folders is split per class by
:mod:`flowers.training.data`.
"""

from __future__ import annotations

import hashlib
import itertools
import os
import tarfile
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path, PurePosixPath

import numpy as np

from flowers import schema, split
from flowers.errors import DataError
from flowers.text import one_line
from flowers.training import data
from flowers.training.progress import SILENT, Bar, Progress

CLASSES = ("daisy", "dandelion", "roses", "sunflowers", "tulips")  # tf_flowers' class folders, sorted
SALT = b"train"  # the split TFDS prepares tf_flowers as, whose name salts the hash of every key
EXAMPLE_SUFFIX = ".jpg"  # the builder's test of a member (case-sensitive, as there)
ARCHIVE_SUFFIXES = (".tgz", ".tar.gz", ".tar")
NAME = "tf_flowers"  # the fingerprint's name: the data is tf_flowers', whatever the file is called


# --- TFDS' split, from the keys -------------------------------------------------------------------


def example_key(member: str) -> str:
    """The builder's key of an archive member or a file: ``<folder holding it>/<file name>``."""
    path = PurePosixPath(member.replace(os.sep, "/"))
    return f"{path.parent.name}/{path.name}"


def is_example(name: str) -> bool:
    return name.endswith(EXAMPLE_SUFFIX)


def order(keys: list[str]) -> list[str]:
    """``keys`` in TFDS' order: by the md5 of the split name and the key (bytes compare as the integer)."""
    return sorted(keys, key=lambda key: hashlib.md5(SALT + key.encode()).digest())


def slice_bounds(n: int) -> list[int]:
    """Where the percent slices of :func:`flowers.split.tfds_slices` cut ``n`` examples, TFDS' way."""
    inner = split.percent_bounds()[1:-1]
    return [0, *(round(float(percent) * n / 100.0) for percent in inner), n]


def split_keys(keys: list[str]) -> list[list[str]]:
    """The keys of train, validation and test, each in TFDS' order."""
    ordered = order(keys)
    return [ordered[start:end] for start, end in itertools.pairwise(slice_bounds(len(ordered)))]


def keys_sha256(keys: list[str]) -> str:
    """sha256 of the keys, sorted and joined by newlines: the same for the same examples."""
    return hashlib.sha256("\n".join(sorted(keys)).encode()).hexdigest()


# --- where the examples come from ---------------------------------------------------------------


def is_archive(path: Path) -> bool:
    return path.name.lower().endswith(ARCHIVE_SUFFIXES)


def recognised(text: str) -> bool:
    """Whether ``text`` names the flower_photos archive or a folder of tf_flowers' class folders."""
    path = Path(text).expanduser()
    if path.is_file():
        return is_archive(path)
    return path.is_dir() and tuple(data.visible_dirs(path)) == CLASSES


def folder_files(root: Path) -> dict[str, Path]:
    """``{key: path}`` of the examples in a folder: the ``.jpg`` files of each class folder."""
    return {
        f"{name}/{path.name}": path
        for name in CLASSES
        for path in sorted((root / name).iterdir())
        if path.is_file() and is_example(path.name) and not path.name.startswith(".")
    }


def archive_members(path: Path) -> Iterator[tuple[str, bytes]]:
    """``(key, bytes)`` of each example in the archive, read in one pass (TFDS' stream mode)."""
    try:
        with tarfile.open(path, mode="r|*") as archive:
            for member in archive:
                if member.isfile() and is_example(member.name):
                    content = archive.extractfile(member)
                    if content is not None:
                        yield example_key(member.name), content.read()
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise DataError(
            f"{path}: not a readable tar archive ({one_line(exc, 120)}); download flower_photos.tgz again"
        ) from None


# --- loading ----------------------------------------------------------------------------------------


def load(text: str, image_size: int, *, strict: bool = False, progress: Progress | None = None) -> data.Splits:
    """tf_flowers' three splits from the archive or folder ``text``, at ``image_size`` px."""
    path = Path(text).expanduser()
    bar = (progress or SILENT).bar(None, f"decoding tf_flowers from {path.name}", unit="image")
    decoded = decode_archive(path, image_size, bar) if path.is_file() else decode_folder(path, image_size, bar)
    names = sorted({key.partition("/")[0] for key in decoded})
    if tuple(names) != CLASSES:
        raise DataError(
            f"{path}: not the flower_photos archive (class folders {', '.join(names) or 'none'}, expected "
            f"{', '.join(CLASSES)}); give flower_photos.tgz or the folder it extracts to"
        )
    bad = [(key, result) for key, (_, result) in decoded.items() if isinstance(result, str)]
    if bad and strict:
        key, reason = bad[0]
        raise DataError(f"unreadable image: {path / key} ({reason}); remove it or run without --strict-data")
    if bad:
        data.warn_skipped(path, [(path / key, reason) for key, reason in bad])
    images = {key: result for key, (_, result) in decoded.items() if not isinstance(result, str)}
    parts = [[key for key in keys if key in images] for keys in split_keys(list(decoded))]
    arrays = [
        (
            data.stack_images([images[key] for key in keys], image_size),
            np.asarray([names.index(key.partition("/")[0]) for key in keys], np.int32),
        )
        for keys in parts
    ]
    fingerprint = {
        schema.NAME: NAME,
        schema.SOURCE: "archive" if path.is_file() else "folder",
        schema.PATH: str(text),
        schema.LAYOUT: NAME,
        schema.HASH: data.hash_named(sorted((key, digest) for key, (digest, _) in decoded.items())),
        schema.VERSION: None,
        schema.TFDS_SPLIT: split.tfds_slices(),
        schema.SPLIT_KEYS: {
            name: {schema.KEYS_COUNT: len(keys), schema.KEYS_SHA256: keys_sha256(keys)}
            for name, keys in zip(split.NAMES, parts)
        },
    }
    return data.splits_from_parts(arrays, names, fingerprint, image_size, [key for key, _ in bad], path)


def decode_folder(root: Path, image_size: int, bar: Bar) -> dict[str, tuple[str, np.ndarray | str]]:
    """``{key: (sha256, image or why not)}`` of a folder's examples."""
    files = folder_files(root)
    return dict(zip(files, data.decode_all(list(files.values()), image_size, bar)))


def decode_archive(path: Path, image_size: int, bar: Bar) -> dict[str, tuple[str, np.ndarray | str]]:
    """``{key: (sha256, image or why not)}`` of an archive's examples, decoded in a thread pool while
    the archive is read; an interrupt cancels the images not started."""
    futures: dict[str, Future] = {}
    with ThreadPoolExecutor(max_workers=data.DECODE_THREADS) as pool:
        try:
            for key, content in archive_members(path):
                if key in futures:
                    raise DataError(f"{path}: two examples named {key}; TFDS refuses such an archive too")
                futures[key] = pool.submit(data.decode_bytes, content, image_size)
            decoded = {}
            for key, future in futures.items():
                decoded[key] = future.result()
                bar.update()
        except BaseException:
            pool.shutdown(cancel_futures=True)
            raise
        finally:
            bar.close()
    return decoded
