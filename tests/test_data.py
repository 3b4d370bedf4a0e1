"""The data layer: sources, splits, fingerprints, augmentation and bad input."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
import types
import warnings
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from flowers.errors import DataError, DownloadError
from flowers.training import data, synthetic
from flowers.training.augment import augment
from flowers.training.data import DataWarning, Splits, load
from tests import make_data

SIZE = 16


def class_counts(labels: np.ndarray) -> list[int]:
    return np.bincount(labels, minlength=5).tolist()


def all_images(splits: Splits) -> np.ndarray:
    return np.concatenate([splits.x_train, splits.x_val, splits.x_test])


def load_quietly(path, size=SIZE, **kwargs) -> Splits:
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataWarning)  # these folders are clean: a warning is a bug
        return load(str(path), size, **kwargs)


def one_line_error(*args, **kwargs) -> str:
    with pytest.raises(DataError) as caught:
        load(*args, **kwargs)
    message = str(caught.value)
    assert "\n" not in message
    return message


# --- folder layouts ------------------------------------------------------------------------------


def test_class_folders_split_80_10_10_per_class(tmp_path):
    root = synthetic.write_folder(tmp_path / "shapes", "classes", n_per_class=20, image_size=24)
    splits = load_quietly(root)
    assert splits.class_names == ["circle", "cross", "ring", "square", "triangle"]
    assert splits.num_classes == 5
    assert (class_counts(splits.y_train), class_counts(splits.y_val), class_counts(splits.y_test)) == (
        [16] * 5,
        [2] * 5,
        [2] * 5,
    )
    for x, y in [(splits.x_train, splits.y_train), (splits.x_val, splits.y_val), (splits.x_test, splits.y_test)]:
        assert x.dtype == np.uint8 and x.shape == (len(y), SIZE, SIZE, 3)
        assert y.dtype == np.int32
    fp = splits.fingerprint
    assert fp["splits"] == {"train": 80, "validation": 10, "test": 10}
    assert (fp["name"], fp["source"], fp["layout"], fp["path"]) == ("shapes", "folder", "classes", str(root))
    assert fp["class_names"] == splits.class_names and fp["image_size"] == SIZE
    assert fp["skipped"] == {"count": 0, "examples": []}


def test_split_is_fixed_and_disjoint(tmp_path):
    root = synthetic.write_folder(tmp_path / "d", "classes", n_per_class=20, image_size=24, fmt="png")
    np.random.seed(1)
    first = load_quietly(root)
    np.random.seed(2)
    second = load_quietly(root)
    for name in ("x_train", "y_train", "x_val", "y_val", "x_test", "y_test"):
        np.testing.assert_array_equal(getattr(first, name), getattr(second, name))
    rows = {image.tobytes() for image in all_images(first)}
    assert len(rows) == 100  # every image in exactly one split


def test_split_folders_are_kept_as_given(tmp_path):
    root = synthetic.write_folder(tmp_path / "d", "splits", n_per_class=20, image_size=24)
    for name in synthetic.CLASS_NAMES:  # move 2 train images per class to test: 14 / 2 / 4
        for path in sorted((root / "train" / name).iterdir())[:2]:
            path.rename(root / "test" / name / path.name)
    splits = load_quietly(root)
    assert splits.fingerprint["layout"] == "splits"
    assert splits.fingerprint["splits"] == {"train": 70, "validation": 10, "test": 20}
    assert "validation_carved_from_train" not in splits.fingerprint
    assert class_counts(splits.y_test) == [4] * 5
    assert splits.class_names == synthetic.CLASS_NAMES


def test_missing_validation_is_carved_from_train(tmp_path):
    root = synthetic.write_folder(tmp_path / "d", "splits", n_per_class=20, image_size=24)
    shutil.rmtree(root / "validation")
    splits = load_quietly(root)
    assert splits.fingerprint["splits"] == {"train": 70, "validation": 10, "test": 10}  # 16 -> 14 + 2
    assert splits.fingerprint["validation_carved_from_train"] is True
    assert class_counts(splits.y_val) == [2] * 5
    train_rows = {image.tobytes() for image in splits.x_train}
    assert not any(image.tobytes() in train_rows for image in splits.x_val)


def test_every_split_has_the_same_classes(tmp_path):
    for layout in ("classes", "splits"):
        root = synthetic.write_folder(tmp_path / layout, layout, n_per_class=10, image_size=SIZE)
        splits = load_quietly(root)
        assert splits.class_names == synthetic.CLASS_NAMES
        for labels in (splits.y_train, splits.y_val, splits.y_test):
            assert sorted(set(labels.tolist())) == list(range(5))


def test_hidden_and_top_level_files_are_ignored(tmp_path):
    root = synthetic.write_folder(tmp_path / "d", "classes", n_per_class=10, image_size=SIZE)
    (root / ".ipynb_checkpoints").mkdir()
    (root / ".ipynb_checkpoints" / "x.jpg").write_bytes(b"junk")
    (root / "circle" / ".DS_Store").write_bytes(b"Bud1")
    (root / "circle" / "._circle_000.jpg").write_bytes(b"AppleDouble junk")
    (root / "LICENSE.txt").write_text("CC-BY\n")
    splits = load_quietly(root)
    assert splits.class_names == synthetic.CLASS_NAMES
    assert sum(splits.fingerprint["splits"].values()) == 50


# --- fingerprint ---------------------------------------------------------------------------------


def test_fingerprint_hash_follows_file_bytes_and_names(tmp_path):
    root = synthetic.write_folder(tmp_path / "d", "classes", n_per_class=5, image_size=SIZE)
    before = load_quietly(root).fingerprint
    assert load_quietly(root).fingerprint == before
    path = root / "ring" / "ring_003.jpg"
    Image.open(path).convert("RGB").save(path, quality=50)  # same name, other bytes
    changed = load_quietly(root).fingerprint
    assert changed["hash"] != before["hash"]
    path.rename(path.with_name("ring_999.jpg"))
    assert load_quietly(root).fingerprint["hash"] not in (before["hash"], changed["hash"])


def test_fingerprint_is_plain_json(tmp_path):
    root = synthetic.write_folder(tmp_path / "d", "classes", n_per_class=5, image_size=SIZE)
    for splits in (load_quietly(root), load("synthetic", SIZE)):
        assert json.loads(json.dumps(splits.fingerprint)) == splits.fingerprint


# --- synthetic -----------------------------------------------------------------------------------


def test_synthetic_source():
    splits = load("synthetic", 32)
    assert splits.class_names == ["circle", "cross", "ring", "square", "triangle"]
    assert splits.fingerprint["splits"] == {"train": 400, "validation": 50, "test": 50}
    assert (splits.fingerprint["source"], splits.fingerprint["name"]) == ("synthetic", "synthetic")
    assert splits.x_train.shape == (400, 32, 32, 3) and splits.x_train.dtype == np.uint8
    assert class_counts(splits.y_test) == [10] * 5
    again = load("synthetic", 32)
    np.testing.assert_array_equal(splits.x_train, again.x_train)
    assert again.fingerprint == splits.fingerprint
    assert load("synthetic", 48).fingerprint["image_size"] == 48


def test_generate_is_deterministic_by_seed():
    images, labels, names = synthetic.generate(4, 20, seed=3)
    assert images.shape == (20, 20, 20, 3) and images.dtype == np.uint8
    assert labels.tolist() == [0] * 4 + [1] * 4 + [2] * 4 + [3] * 4 + [4] * 4
    assert names == synthetic.CLASS_NAMES
    np.testing.assert_array_equal(images, synthetic.generate(4, 20, seed=3)[0])
    assert not np.array_equal(images, synthetic.generate(4, 20, seed=4)[0])
    more = synthetic.generate(6, 20, seed=3)[0]
    np.testing.assert_array_equal(more[:4], images[:4])  # the first k of a class do not depend on n


def test_synthetic_classes_differ_by_colour():
    """Mean colour alone nearly separates the classes; the small CNN needs that to learn in 2 epochs."""
    splits = load("synthetic", 32)
    mean = lambda x: x.reshape(len(x), -1, 3).mean(axis=1)  # noqa: E731
    centroids = np.stack([mean(splits.x_train)[splits.y_train == k].mean(0) for k in range(5)])
    distances = ((mean(splits.x_test)[:, None] - centroids) ** 2).sum(-1)
    assert (distances.argmin(1) == splits.y_test).mean() >= 0.9


# --- augmentation --------------------------------------------------------------------------------


def test_augment_adds_four_copies_of_training_images_only():
    splits = load("synthetic", SIZE)
    n = len(splits.y_train)
    out = augment(splits, seed=0)
    assert out.x_train.shape == (5 * n, SIZE, SIZE, 3) and out.x_train.dtype == np.uint8
    np.testing.assert_array_equal(out.y_train, np.tile(splits.y_train, 5))
    np.testing.assert_array_equal(out.x_train[:n], splits.x_train)
    np.testing.assert_array_equal(out.x_train[n : 2 * n], splits.x_train[:, :, ::-1])  # left-right
    np.testing.assert_array_equal(out.x_train[2 * n : 3 * n], splits.x_train[:, ::-1])  # up-down
    for name in ("x_val", "y_val", "x_test", "y_test"):
        np.testing.assert_array_equal(getattr(out, name), getattr(splits, name))
    ratio = out.x_train[3 * n : 4 * n].mean(axis=(1, 2, 3)) / splits.x_train.mean(axis=(1, 2, 3))
    assert ratio.min() > 0.75 and ratio.max() < 1.21 and ratio.std() > 0.05  # brightness x [0.8, 1.2]
    spread = out.x_train[4 * n :].std(axis=(1, 2)).mean(-1) / splits.x_train.std(axis=(1, 2)).mean(-1)
    assert spread.min() > 0.75 and spread.max() < 1.25 and spread.std() > 0.05  # contrast x [0.8, 1.2]
    assert out.fingerprint["splits"] == {**splits.fingerprint["splits"], "train_augmented": 5 * n}
    assert out.fingerprint["augmented"]["factor"] == 5 and out.fingerprint["augmented"]["seed"] == 0
    assert "augmented" not in splits.fingerprint and len(splits.x_train) == n  # input untouched


def test_augment_is_deterministic_by_seed():
    splits = load("synthetic", SIZE)
    np.testing.assert_array_equal(augment(splits, 1).x_train, augment(splits, 1).x_train)
    assert not np.array_equal(augment(splits, 1).x_train, augment(splits, 2).x_train)


def test_augment_twice_is_an_error():
    with pytest.raises(DataError, match="already augmented"):
        augment(augment(load("synthetic", SIZE), 0), 0)


# --- bad input: per image ------------------------------------------------------------------------


def test_unreadable_images_are_skipped_with_one_warning(tmp_path):
    expected = make_data.write_bad_folder(tmp_path / "bad")
    with pytest.warns(DataWarning) as caught:
        splits = load(str(tmp_path / "bad"), SIZE)
    assert len(caught) == 1
    message = str(caught[0].message)
    assert "skipped 3 unreadable" in message and "\n" not in message
    assert all(name in message for name in expected["skipped"])
    assert splits.fingerprint["skipped"] == {"count": 3, "examples": expected["skipped"]}
    assert splits.class_names == expected["classes"]
    assert sum(splits.fingerprint["splits"].values()) == expected["good"] + len(expected["kept"])
    assert not any(hidden in message for hidden in expected["ignored"])


def test_odd_formats_are_read_as_rgb(tmp_path):
    make_data.write_bad_folder(tmp_path / "bad")
    with pytest.warns(DataWarning):
        images = all_images(load(str(tmp_path / "bad"), SIZE))
    assert images.shape[1:] == (SIZE, SIZE, 3) and images.dtype == np.uint8
    flat = {tuple(image.reshape(-1, 3)[0]) for image in images if (image == image[0, 0]).all()}
    assert make_data.RGBA_COLOUR[:3] in flat  # RGBA PNG: alpha dropped, colour kept
    assert make_data.TINY_COLOUR in flat  # the 1x1 PNG, resized


def test_odd_formats_are_counted_in_their_classes(tmp_path):
    expected = make_data.write_bad_folder(tmp_path / "bad")
    with pytest.warns(DataWarning):
        splits = load(str(tmp_path / "bad"), SIZE)
    labels = np.concatenate([splits.y_train, splits.y_val, splits.y_test])
    per_class = dict(zip(expected["classes"], np.bincount(labels).tolist()))
    odd = Counter(path.split("/")[0] for path in expected["kept"])
    assert per_class == {name: make_data.BAD_N_PER_CLASS + odd[name] for name in expected["classes"]}


def test_strict_mode_names_the_first_bad_file(tmp_path):
    expected = make_data.write_bad_folder(tmp_path / "bad")
    message = one_line_error(str(tmp_path / "bad"), SIZE, strict=True)
    first = tmp_path / "bad" / expected["skipped"][0]
    assert message.startswith(f"unreadable image: {first} (")
    assert "--strict-data" in message


def test_truncated_jpeg_is_unreadable(tmp_path):
    root = synthetic.write_folder(tmp_path / "d", "classes", n_per_class=10, image_size=64)
    path = root / "cross" / "cross_004.jpg"
    path.write_bytes(path.read_bytes()[:-200])
    message = one_line_error(str(root), SIZE, strict=True)
    assert "cross/cross_004.jpg" in message and "runcated" in message


def test_class_with_only_unreadable_images_is_an_error(tmp_path):
    root = synthetic.write_folder(tmp_path / "d", "classes", n_per_class=5, image_size=SIZE)
    for path in (root / "ring").iterdir():
        path.write_bytes(b"not an image")
    with pytest.warns(DataWarning):
        message = one_line_error(str(root), SIZE)
    assert "no readable image" in message and str(root / "ring") in message


# --- bad input: folders and names ----------------------------------------------------------------


@pytest.mark.parametrize(
    "builder, expected",
    [
        (make_data.write_empty_folder, "no class sub-folders in {root}"),
        (make_data.write_single_class, "only one class folder (circle) in {root}"),
        (make_data.write_empty_class, "empty class folder: {root}/ring"),
        (make_data.write_mismatched_splits, "class folders differ between {root}/train and {root}/test"),
    ],
)
def test_unusable_folders(tmp_path, builder, expected):
    root = builder(tmp_path / "d")
    message = one_line_error(str(root), SIZE)
    assert expected.format(root=root) in message


def test_mismatched_splits_name_the_differing_classes(tmp_path):
    root = make_data.write_mismatched_splits(tmp_path / "d")
    message = one_line_error(str(root), SIZE)
    assert "only in train/: ['square']" in message and "only in test/: ['hexagon']" in message


def test_split_layout_needs_a_test_folder(tmp_path):
    root = synthetic.write_folder(tmp_path / "d", "splits", n_per_class=10, image_size=SIZE)
    shutil.rmtree(root / "test")
    assert "no test/ folder" in one_line_error(str(root), SIZE)


def test_too_few_images_for_a_split(tmp_path):
    root = synthetic.write_folder(tmp_path / "d", "classes", n_per_class=2, image_size=SIZE)
    assert "validation split is empty" in one_line_error(str(root), SIZE)


def test_missing_path_unknown_name_and_file(tmp_path):
    missing = tmp_path / "nowhere"
    assert f"data folder not found: {missing}" in one_line_error(str(missing), SIZE)
    assert "expected tf_flowers, synthetic or a folder" in one_line_error("tf-flowers", SIZE)
    a_file = tmp_path / "image.jpg"
    a_file.write_bytes(b"x")
    assert f"not a folder: {a_file}" in one_line_error(str(a_file), SIZE)


@pytest.mark.parametrize("size", [0, -3, 1.5, "160"])
def test_image_size_must_be_a_positive_integer(size):
    assert "image_size" in one_line_error("synthetic", size)


def test_ctrl_c_while_decoding_drops_the_images_not_started(tmp_path, monkeypatch):
    """A Ctrl-C during decoding ends it at once: the queued images are not decoded first (leaving
    ``Executor.map``'s results cancels the futures not started)."""
    path = tmp_path / "a.png"
    Image.new("RGB", (8, 8)).save(path)
    decoded = []

    def decode_file(path, image_size):
        decoded.append(path)
        time.sleep(0.01)
        return "digest", np.zeros((image_size, image_size, 3), np.uint8)

    class InterruptedBar:  # Ctrl-C arrives while the 5th result is taken
        count = 0

        def update(self):
            self.count += 1
            if self.count == 5:
                raise KeyboardInterrupt

    monkeypatch.setattr(data, "decode_file", decode_file)
    with pytest.raises(KeyboardInterrupt):
        data.decode_all([path] * 2000, SIZE, InterruptedBar())
    assert len(decoded) < 100  # those already running finish; the other ~1,900 are dropped


# --- tf_flowers ----------------------------------------------------------------------------------


def fake_tfds(load, prepared=True) -> types.SimpleNamespace:
    """A stand-in for tensorflow_datasets: ``builder(name).is_prepared()`` and ``load``."""
    builder = types.SimpleNamespace(is_prepared=lambda: prepared, url_infos={})
    return types.SimpleNamespace(builder=lambda name, data_dir=None: builder, load=load)


def test_tf_flowers_offline_is_a_one_line_error(monkeypatch):
    from flowers.training import downloads

    def offline(name, progress):
        raise DownloadError(f"tf_flowers could not be downloaded (host:80: refused); {downloads.OFFLINE_HINT}")

    monkeypatch.setattr(downloads, "prepare_tfds", offline)
    message = one_line_error("tf_flowers", 160)
    assert message.startswith("tf_flowers could not be downloaded (host:80: refused); offline, use --profile smoke")
    assert "--data PATH" in message  # the probe itself: tests/test_downloads.py


def test_tf_flowers_prepared_but_unreadable_is_a_one_line_error(monkeypatch):
    def broken(*args, **kwargs):
        raise OSError("corrupt record\nin train.tfrecord")

    monkeypatch.setitem(sys.modules, "tensorflow_datasets", fake_tfds(broken))
    message = one_line_error("tf_flowers", 160)
    assert message.startswith("tf_flowers could not be read (OSError: corrupt record")
    assert "--data PATH" in message


def test_tf_flowers_arrays_and_fingerprint(monkeypatch):
    rng = np.random.default_rng(0)

    class FakeDataset:
        def __init__(self, n):
            self.items = [(rng.integers(0, 256, (30 + i, 40, 3), dtype=np.uint8), np.int64(i % 5)) for i in range(n)]

        def as_numpy_iterator(self):
            return iter(self.items)

        def cardinality(self):  # tf.data's, known for a TFDS split
            return len(self.items)

    tfds_names = ["dandelion", "daisy", "tulips", "sunflowers", "roses"]  # tf_flowers' own label order
    info = types.SimpleNamespace(version="3.0.1", features={"label": types.SimpleNamespace(names=tfds_names)})
    calls = []

    def fake_load(name, **kwargs):
        calls.append((name, kwargs))
        return [FakeDataset(8), FakeDataset(3), FakeDataset(2)], info

    monkeypatch.setitem(sys.modules, "tensorflow_datasets", fake_tfds(fake_load))
    splits = load("tf_flowers", SIZE)
    assert calls == [("tf_flowers", dict(split=data.TFDS_SPLITS, as_supervised=True, with_info=True, download=False))]
    assert splits.x_train.shape == (8, SIZE, SIZE, 3) and splits.x_train.dtype == np.uint8
    assert splits.class_names == ["daisy", "dandelion", "roses", "sunflowers", "tulips"]
    assert splits.y_test.tolist() == [1, 0] and splits.y_test.dtype == np.int32  # dandelion, daisy
    fp = splits.fingerprint
    assert (fp["name"], fp["source"], fp["version"]) == ("tf_flowers", "tfds", "3.0.1")
    assert fp["splits"] == {"train": 8, "validation": 3, "test": 2}


# --- the make_data script ------------------------------------------------------------------------


def test_make_data_script_writes_a_loadable_folder(tmp_path):
    script = Path(make_data.__file__)
    done = subprocess.run(
        [sys.executable, str(script), "splits", str(tmp_path / "d")], capture_output=True, text=True, cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    assert load_quietly(tmp_path / "d").fingerprint["splits"] == {"train": 400, "validation": 50, "test": 50}
