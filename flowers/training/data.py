"""Image data for the benchmarks: ``tf_flowers``, the ``synthetic`` set, or a folder of images.

:func:`load` returns a :class:`Splits` of uint8 RGB arrays resized to ``image_size`` (bilinear,
aspect ratio not kept, like the original experiment) plus a plain-JSON ``fingerprint`` of what was
loaded.  Folders are split 80/10/10 per class with the fixed :data:`SPLIT_SEED`, independent of
the training seed, so every run of a benchmark sees the same train/validation/test images; the
flower_photos archive, or a folder of tf_flowers' five class folders, is split as TFDS splits
tf_flowers instead (:mod:`flowers.training.flower_photos`).
Unreadable images are found before :func:`load` returns: skipped with one :class:`DataWarning`,
or, with ``strict=True``, a :class:`DataError` naming the first one.
"""

from __future__ import annotations

import hashlib
import io
import os
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageFile, UnidentifiedImageError

from flowers import schema, split
from flowers.errors import DataError, DownloadError
from flowers.text import one_line
from flowers.training import downloads, synthetic
from flowers.training.progress import SILENT, Bar, Progress

SPLIT_SEED = 1234  # fixed seed of every split this module makes; independent of the training seed
TFDS_SPLITS = split.tfds_slices()  # the original experiment's split
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".gif"}  # compared lower-case
SPLIT_FOLDERS = split.NAMES
FOLDER_FRACTIONS = tuple(split.FRACTIONS.values())  # train / validation / test, per class
CARVED_VALIDATION = split.carved_validation()  # share of train/ taken for validation when validation/ is missing
SKIPPED_EXAMPLES = 5
DECODE_THREADS = min(16, (os.cpu_count() or 1) + 4)  # PIL decodes with the GIL released

ImageFile.LOAD_TRUNCATED_IMAGES = False  # truncated JPEGs must fail, not load half grey


class DataWarning(UserWarning):
    """Usable data with a problem, such as unreadable images that were skipped."""


@dataclass
class Splits:
    """Train/validation/test images (uint8 (N, S, S, 3) RGB) and int32 labels into ``class_names``."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    class_names: list[str]
    fingerprint: dict

    @property
    def num_classes(self) -> int:
        return len(self.class_names)


def load(data: str, image_size: int, *, strict: bool = False, progress: Progress | None = None) -> Splits:
    """Load ``data`` ("tf_flowers", "synthetic" or a folder path) at ``image_size`` px.

    ``progress``: shows a live bar while a folder's images are decoded (:mod:`flowers.training.progress`).
    """
    if not isinstance(image_size, (int, np.integer)) or isinstance(image_size, bool) or image_size < 1:
        raise DataError(f"image_size must be a positive integer, got {image_size!r}")
    image_size = int(image_size)
    if data == "tf_flowers":
        return load_tfds(image_size, progress)
    if data == "synthetic":
        return load_synthetic(image_size)
    from flowers.training import flower_photos  # it builds on this module's decoding

    if flower_photos.recognised(data):
        return flower_photos.load(data, image_size, strict=strict, progress=progress)
    return load_folder(data, image_size, strict=strict, progress=progress)


# --- synthetic -------------------------------------------------------------------------------


def load_synthetic(image_size: int) -> Splits:
    """The project's 5-class procedural set, fixed data seed, split 80/10/10 per class."""
    seed, count = synthetic.DATA_SEED, synthetic.N_PER_CLASS
    images, labels, names = synthetic.generate(count, image_size, seed)
    parts = split_stratified(labels, FOLDER_FRACTIONS)
    identity = f"synthetic v{synthetic.GENERATOR_VERSION} seed={seed} n_per_class={count}"
    fingerprint = {
        schema.NAME: "synthetic",
        schema.SOURCE: "synthetic",
        schema.LAYOUT: "classes",
        schema.HASH: sha256_text(identity),
        schema.VERSION: synthetic.GENERATOR_VERSION,
        schema.SPLIT_SEED: SPLIT_SEED,
    }
    return make_splits(images, labels, parts, names, fingerprint, image_size, skipped=[])


# --- tf_flowers --------------------------------------------------------------------------------


def load_tfds(image_size: int, progress: Progress | None = None) -> Splits:
    """``tf_flowers`` through TensorFlow Datasets, split train[:80%] / [80%:90%] / [90%:]."""
    try:
        downloads.prepare_tfds("tf_flowers", progress)  # fails within seconds offline, once per process
    except DownloadError as exc:
        raise DataError(str(exc)) from None
    try:
        import tensorflow_datasets as tfds

        datasets, info = tfds.load("tf_flowers", split=TFDS_SPLITS, as_supervised=True, with_info=True, download=False)
    except Exception as exc:  # noqa: BLE001 - a prepared data set that does not read: one line
        raise DataError(f"tf_flowers could not be read ({one_line(exc, 150)}); {downloads.OFFLINE_HINT}") from None
    tfds_names = list(info.features["label"].names)
    names = sorted(tfds_names)
    relabel = np.array([names.index(name) for name in tfds_names], np.int32)  # tfds order -> sorted
    arrays = []
    for part, ds in zip(TFDS_SPLITS, datasets):
        count = int(ds.cardinality())  # negative when unknown
        bar = (progress or SILENT).bar(count if count >= 0 else None, f"decoding tf_flowers {part}", unit="image")
        x, y = dataset_to_arrays(ds, image_size, bar)
        arrays.append((x, relabel[y]))
    version = str(info.version)
    fingerprint = {
        schema.NAME: "tf_flowers",
        schema.SOURCE: "tfds",
        schema.LAYOUT: None,
        schema.HASH: sha256_text(f"tf_flowers {version}"),
        schema.VERSION: version,
        schema.TFDS_SPLIT: list(TFDS_SPLITS),
    }
    return splits_from_parts(arrays, names, fingerprint, image_size, skipped=[])


def dataset_to_arrays(dataset, image_size: int, bar: Bar | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Images (resized like folder images) and int32 labels of a supervised tf.data dataset;
    ``bar`` (tqdm) advanced per image and closed at the end."""
    images, labels = [], []
    for image, label in dataset.as_numpy_iterator():
        images.append(resize(Image.fromarray(image).convert("RGB"), image_size))
        labels.append(label)
        if bar is not None:
            bar.update()
    if bar is not None:
        bar.close()
    return stack_images(images, image_size), np.asarray(labels, np.int32)


# --- folders ------------------------------------------------------------------------------------


def load_folder(data: str, image_size: int, *, strict: bool = False, progress: Progress | None = None) -> Splits:
    """A folder with one sub-folder per class, or train/ [validation/] test/ of class folders."""
    root = existing_folder(data)
    layout = "splits" if schema.TRAIN in visible_dirs(root) else "classes"
    groups = split_groups(root) if layout == "splits" else {"all": root}
    names = common_class_names(groups)
    files = [
        (group, label, path) for group, folder in groups.items() for label, path in list_class_files(folder, names)
    ]
    decoded = decode_all(
        [path for _, _, path in files],
        image_size,
        (progress or SILENT).bar(len(files), f"decoding {len(files)} images of {root.name}", unit="image"),
    )
    bad = [(path, result) for (_, _, path), (_, result) in zip(files, decoded) if isinstance(result, str)]
    if bad and strict:
        path, reason = bad[0]
        raise DataError(f"unreadable image: {path} ({reason}); remove it or run without --strict-data")
    if bad:
        warn_skipped(root, bad)
    arrays = readable_arrays(files, decoded, groups, names, image_size)
    fingerprint = {
        schema.NAME: root.resolve().name,
        schema.SOURCE: "folder",
        schema.PATH: str(data),
        schema.LAYOUT: layout,
        schema.HASH: folder_hash(root, [path for _, _, path in files], [digest for digest, _ in decoded]),
        schema.VERSION: None,
        schema.SPLIT_SEED: SPLIT_SEED,
    }
    skipped = [relative(path, root) for path, _ in bad]
    if layout == "classes":
        images, labels = arrays["all"]
        parts = split_stratified(labels, FOLDER_FRACTIONS)
        return make_splits(images, labels, parts, names, fingerprint, image_size, skipped, root)
    if schema.VALIDATION not in arrays:
        fingerprint[schema.CARVED] = True
        images, labels = arrays[schema.TRAIN]
        train, val = split_stratified(labels, (1 - CARVED_VALIDATION, CARVED_VALIDATION))
        arrays[schema.TRAIN], arrays[schema.VALIDATION] = (images[train], labels[train]), (images[val], labels[val])
    parts = [arrays[name] for name in SPLIT_FOLDERS]
    return splits_from_parts(parts, names, fingerprint, image_size, skipped, root)


def existing_folder(data: str) -> Path:
    """``data`` as a folder Path, or a DataError saying what it should have been."""
    text = str(data)
    root = Path(text).expanduser()
    if not root.exists():
        if os.sep in text or "/" in text or text.startswith(("~", ".")):
            raise DataError(f"data folder not found: {text}; check the path, or use tf_flowers or synthetic")
        raise DataError(f"unknown data {text!r}: expected tf_flowers, synthetic or a folder")
    if not root.is_dir():
        raise DataError(
            f"data path is a file, not a folder: {text}; give a folder of class sub-folders "
            "or the flower_photos archive (.tgz)"
        )
    return root


def existing_data(data: str) -> Path:
    """``data`` as the Path of an archive file or of a folder (:func:`existing_folder`)."""
    from flowers.training.flower_photos import is_archive

    path = Path(str(data)).expanduser()
    if path.is_file() and is_archive(path):
        return path
    return existing_folder(data)


def visible_dirs(folder: Path) -> list[str]:
    """Sorted names of the sub-folders of ``folder`` that are not hidden."""
    return sorted(p.name for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))


def split_groups(root: Path) -> dict[str, Path]:
    """The split folders of a train/ [validation/] test/ layout, checked."""
    present = visible_dirs(root)
    extra = [name for name in present if name not in SPLIT_FOLDERS]
    if extra:
        raise DataError(
            f"{root} has train/ but also {', '.join(extra)}/; use only train/, validation/ and test/ "
            "split folders, or only class folders"
        )
    if schema.TEST not in present:
        raise DataError(f"{root} has train/ but no test/ folder; add test/ with the same class folders")
    return {name: root / name for name in SPLIT_FOLDERS if name in present}


def common_class_names(groups: dict[str, Path]) -> list[str]:
    """The sorted class names, the same in every split folder, at least two."""
    per_group = {group: visible_dirs(folder) for group, folder in groups.items()}
    for group, names in per_group.items():
        folder = groups[group]
        if not names:
            raise DataError(f"no class sub-folders in {folder}; put the images in one sub-folder per class")
        if len(names) < 2:
            raise DataError(f"only one class folder ({names[0]}) in {folder}; need at least 2 class sub-folders")
    first, *others = per_group
    for group in others:
        if per_group[group] != per_group[first]:
            only_a = sorted(set(per_group[first]) - set(per_group[group]))
            only_b = sorted(set(per_group[group]) - set(per_group[first]))
            raise DataError(
                f"class folders differ between {groups[first]} and {groups[group]} "
                f"(only in {first}/: {only_a or 'none'}; only in {group}/: {only_b or 'none'}); "
                "use the same class folders in every split"
            )
    return per_group[first]


def list_class_files(folder: Path, names: list[str]) -> list[tuple[int, Path]]:
    """``(label, path)`` of every image file in ``folder/<class>``, sorted; no class may be empty."""
    items = []
    for label, name in enumerate(names):
        paths = sorted(
            p
            for p in (folder / name).iterdir()
            if p.is_file() and not p.name.startswith(".") and p.suffix.lower() in IMAGE_SUFFIXES
        )
        if not paths:
            raise DataError(
                f"empty class folder: {folder / name} has no images "
                f"({', '.join(sorted(IMAGE_SUFFIXES))}); add images or remove the folder"
            )
        items += [(label, path) for path in paths]
    return items


def readable_arrays(files, decoded, groups: dict[str, Path], names: list[str], image_size: int) -> dict:
    """``{group: (images, labels)}`` of the images that decoded; no class may be left empty."""
    kept: dict[str, tuple[list[np.ndarray], list[int]]] = {group: ([], []) for group in groups}
    for (group, label, _), (_, result) in zip(files, decoded):
        if not isinstance(result, str):
            kept[group][0].append(result)
            kept[group][1].append(label)
    for group, (_, labels) in kept.items():
        missing = sorted(set(range(len(names))) - set(labels))
        if missing:
            folder = groups[group] / names[missing[0]]
            raise DataError(f"no readable image in class folder {folder}; add readable images or remove it")
    return {
        group: (stack_images(images, image_size), np.asarray(labels, np.int32))
        for group, (images, labels) in kept.items()
    }


def decode_all(paths: list[Path], image_size: int, bar: Bar | None = None) -> list[tuple[str, np.ndarray | str]]:
    """:func:`decode_file` over ``paths`` in a thread pool, results in order; ``bar`` (tqdm) advanced per image."""
    results = []
    with ThreadPoolExecutor(max_workers=DECODE_THREADS) as pool:
        for result in pool.map(lambda path: decode_file(path, image_size), paths):
            results.append(result)
            if bar is not None:
                bar.update()
    if bar is not None:
        bar.close()
    return results


def decode_file(path: Path, image_size: int) -> tuple[str, np.ndarray | str]:
    """``(sha256 of the bytes, uint8 RGB image)``, or ``(sha256, reason)`` if it cannot be read."""
    try:
        content = path.read_bytes()
    except OSError as exc:
        return "", one_line(exc, 150)
    return decode_bytes(content, image_size)


def decode_bytes(content: bytes, image_size: int) -> tuple[str, np.ndarray | str]:
    """:func:`decode_file` of a file's bytes."""
    digest = hashlib.sha256(content).hexdigest()
    try:
        with Image.open(io.BytesIO(content)) as image:
            image.load()
            return digest, resize(image.convert("RGB"), image_size)
    except UnidentifiedImageError:
        return digest, "not an image format PIL can read"
    except (OSError, ValueError, SyntaxError, EOFError, Image.DecompressionBombError) as exc:
        return digest, one_line(exc, 150)


def warn_skipped(root: Path, bad: list[tuple[Path, str]]) -> None:
    """One DataWarning listing how many images were skipped and the first few."""
    shown = ", ".join(f"{relative(path, root)} ({reason})" for path, reason in bad[:SKIPPED_EXAMPLES])
    more = f" and {len(bad) - SKIPPED_EXAMPLES} more" if len(bad) > SKIPPED_EXAMPLES else ""
    warnings.warn(
        DataWarning(
            f"skipped {len(bad)} unreadable image(s) in {root}: {shown}{more}; "
            "use --strict-data to stop on them instead"
        ),
        stacklevel=4,  # the caller of load()
    )


def folder_hash(root: Path, paths: list[Path], digests: list[str]) -> str:
    """sha256 over the sorted relative file names and each file's bytes (via its sha256)."""
    return hash_named(sorted(zip((relative(p, root) for p in paths), digests)))


def hash_named(named: list[tuple[str, str]]) -> str:
    """sha256 over ``(name, sha256 of its bytes)`` pairs, in the order given."""
    total = hashlib.sha256()
    for name, digest in named:
        total.update(f"{name}\0{digest}\n".encode())
    return total.hexdigest()


def relative(path: Path, root: Path) -> str:
    return path.relative_to(root).as_posix()


# --- shared helpers -----------------------------------------------------------------------------


def resize(image: Image.Image, image_size: int) -> np.ndarray:
    """An RGB PIL image as uint8 (S, S, 3), bilinear, aspect ratio not kept."""
    return np.asarray(image.resize((image_size, image_size), Image.Resampling.BILINEAR), dtype=np.uint8)


def stack_images(images: list[np.ndarray], image_size: int) -> np.ndarray:
    if not images:
        return np.zeros((0, image_size, image_size, 3), np.uint8)
    return np.stack(images)


def split_stratified(labels: np.ndarray, fractions) -> list[np.ndarray]:
    """Index arrays, one per fraction, cut per class after a shuffle seeded with SPLIT_SEED.

    Each class gives ``round(n * f)`` images (half up) to every part but the first, which keeps the
    rest; every part's indices are shuffled (with the same seed) so classes are mixed.
    """
    rng = np.random.default_rng(SPLIT_SEED)
    parts: list[list[int]] = [[] for _ in fractions]
    for label in np.unique(labels):
        members = rng.permutation(np.flatnonzero(labels == label))
        sizes = [int(len(members) * f + 0.5) for f in fractions[1:]]
        cuts = np.cumsum([len(members) - sum(sizes), *sizes])[:-1]
        for part, chunk in zip(parts, np.split(members, cuts)):
            part.extend(chunk.tolist())
    return [rng.permutation(np.asarray(part, dtype=np.int64)) for part in parts]


def make_splits(images, labels, parts, names, fingerprint, image_size, skipped, root=None) -> Splits:
    """Splits from one image array and the index arrays of its train/validation/test parts."""
    arrays = [(images[index], labels[index]) for index in parts]
    return splits_from_parts(arrays, names, fingerprint, image_size, skipped, root)


def splits_from_parts(arrays, names, fingerprint, image_size, skipped, root=None) -> Splits:
    """Splits from ``[(x, y)] * 3`` (train, validation, test), fingerprint completed and checked."""
    (x_train, y_train), (x_val, y_val), (x_test, y_test) = arrays
    sizes = dict(zip(SPLIT_FOLDERS, (len(y_train), len(y_val), len(y_test))))
    empty = [split for split, n in sizes.items() if n == 0]
    if empty:
        where = root if root is not None else fingerprint[schema.NAME]
        raise DataError(f"too few images in {where}: the {empty[0]} split is empty; add images to every class")
    fingerprint = {
        **fingerprint,
        schema.SPLITS: sizes,
        schema.CLASS_NAMES: list(names),
        schema.IMAGE_SIZE: image_size,
        schema.SKIPPED_FILES: {schema.SKIPPED_COUNT: len(skipped), schema.SKIPPED_EXAMPLES: skipped[:SKIPPED_EXAMPLES]},
    }
    return Splits(x_train, y_train, x_val, y_val, x_test, y_test, list(names), fingerprint)


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()
