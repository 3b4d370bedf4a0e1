"""tf_flowers offline: the flower_photos archive or folder, split as TFDS splits tf_flowers.

The expected splits come from TFDS' own code, never a copy of it: its archive reader
(``tfds.download.iter_archive``), the shuffler its writer orders a split with (salted with the split
name, as the writer does), and ``ReadInstruction``'s percent slicing.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tarfile
import warnings

import numpy as np
import pytest
import tensorflow_datasets as tfds
from tensorflow_datasets.core import shuffle

from flowers import schema, split
from flowers.errors import DataError
from flowers.training import data, flower_photos
from flowers.training.data import DataWarning, load
from flowers.training.pytest_plugin import options
from tests import make_data, suite

SIZE = 8


def tfds_split(keys: list[str], tmp_path) -> list[list[str]]:
    """The keys of ``tfds.load("tf_flowers", split=data.TFDS_SPLITS)``, by TFDS' shuffler and slicing."""
    shuffler = shuffle.Shuffler(tmp_path, hash_salt="train")  # tf_flowers' one split names the salt
    for key in keys:
        shuffler.add(key, key.encode())
    ordered = [example.decode() for _, example in shuffler]
    info = {"train": tfds.core.SplitInfo(name="train", shard_lengths=[len(keys)], num_bytes=0)}
    parts = []
    for spec in data.TFDS_SPLITS:
        (where,) = tfds.core.ReadInstruction.from_spec(spec).to_absolute(info)
        parts.append(ordered[where.from_ : where.to])
    return parts


def builder_keys(archive) -> list[str]:
    """The keys tf_flowers' builder gives the archive's members: ``<folder>/<file>`` of each ``.jpg``."""
    members = tfds.download.iter_archive(archive, tfds.download.ExtractMethod.TAR_GZ_STREAM)
    return [f"{name.split('/')[-2]}/{name.split('/')[-1]}" for name, _ in members if name.endswith(".jpg")]


def photo_names(n: int, seed: int = 0) -> list[str]:
    rng = np.random.default_rng(seed)
    classes = make_data.FLOWER_CLASSES
    return [f"{classes[i % 5]}/{rng.integers(10**6, 10**11)}_{rng.bytes(5).hex()}_n.jpg" for i in range(n)]


def sha(keys: list[str]) -> str:
    return hashlib.sha256("\n".join(sorted(keys)).encode()).hexdigest()


@pytest.fixture(scope="module")
def photos(tmp_path_factory):
    root = tmp_path_factory.mktemp("photos")
    folder = make_data.write_flower_photos(root / "flower_photos", n_per_class=13, image_size=SIZE)
    return folder, make_data.write_flower_archive(folder, root / "flower_photos.tgz")


# --- the order and the slices -----------------------------------------------------------------------


@pytest.mark.parametrize("n", [15, 25, 38, 2934, 3670])  # 13.5 and 22.5 rounded half to even; tf_flowers' size
def test_split_is_tfds_order_sliced_with_tfds_rounding(n, tmp_path):
    keys = photo_names(n, seed=n)
    assert flower_photos.split_keys(keys) == tfds_split(keys, tmp_path)


def test_tf_flowers_size_splits_2936_367_367():
    parts = flower_photos.split_keys(photo_names(3670))
    assert [len(p) for p in parts] == [2936, 367, 367]
    assert split.percent_bounds() == [0, 80, 90, 100]


def test_keys_digest_is_sha256_of_the_sorted_keys():
    keys = ["roses/b.jpg", "daisy/a.jpg"]
    assert flower_photos.keys_sha256(keys) == hashlib.sha256(b"daisy/a.jpg\nroses/b.jpg").hexdigest()


# --- the folder and the archive ---------------------------------------------------------------------


@pytest.mark.parametrize("which", ["folder", "archive"])
def test_folder_and_archive_yield_the_tfds_split(photos, which, tmp_path):
    folder, archive = photos
    expected = tfds_split(builder_keys(archive), tmp_path)
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataWarning)
        splits = load(str(folder if which == "folder" else archive), SIZE)
    fingerprint = splits.fingerprint
    assert fingerprint[schema.SPLIT_KEYS] == {
        name: {"count": len(keys), "sha256": sha(keys)} for name, keys in zip(split.NAMES, expected)
    }
    assert (fingerprint["name"], fingerprint["layout"], fingerprint["source"]) == ("tf_flowers", "tf_flowers", which)
    assert fingerprint["tfds_split"] == data.TFDS_SPLITS and "split_seed" not in fingerprint
    assert splits.class_names == list(make_data.FLOWER_CLASSES)
    # each split holds those files' images and labels, in TFDS' order
    for (x, y), keys in zip([(splits.x_train, splits.y_train), (splits.x_val, splits.y_val)], expected):
        images = [data.decode_file(folder / key, SIZE)[1] for key in keys]
        np.testing.assert_array_equal(x, np.stack(images))
        assert y.tolist() == [splits.class_names.index(key.split("/")[0]) for key in keys]


def test_folder_and_archive_have_one_fingerprint(photos):
    folder, archive = photos
    a, b = load(str(folder), SIZE).fingerprint, load(str(archive), SIZE).fingerprint
    assert a["hash"] == b["hash"] and a["split_keys"] == b["split_keys"] and a["source"] != b["source"]
    total = sum(part["count"] for part in a["split_keys"].values())
    assert total == 5 * 13 and a["splits"] == {name: part["count"] for name, part in a["split_keys"].items()}


def test_an_archive_is_a_valid_data_option_and_other_files_are_not(photos, tmp_path):
    _, archive = photos
    assert options.parse_data(str(archive)) == str(archive)
    other = tmp_path / "photos.zip"
    other.write_bytes(b"PK")
    with pytest.raises(DataError, match=r"not a folder: .*flower_photos archive"):
        options.parse_data(str(other))


def test_other_class_folders_keep_the_per_class_split(tmp_path):
    root = make_data.write_flower_photos(tmp_path / "flower_photos", n_per_class=10, image_size=SIZE)
    (root / "tulips").rename(root / "lilies")
    fingerprint = load(str(root), SIZE).fingerprint
    assert fingerprint["layout"] == "classes" and "split_keys" not in fingerprint
    # every image file counts there, drawing.png and UPPER.JPG too
    assert fingerprint["splits"] == {"train": 42, "validation": 5, "test": 5}


def test_an_unreadable_photo_is_skipped_and_the_others_keep_their_split(photos, tmp_path):
    folder, _ = photos
    copy = tmp_path / "flower_photos"
    copy.mkdir()
    for path in folder.rglob("*"):
        if path.is_file():
            (copy / path.relative_to(folder)).parent.mkdir(exist_ok=True)
            (copy / path.relative_to(folder)).write_bytes(path.read_bytes())
    keys = sorted(flower_photos.folder_files(copy))
    (copy / keys[0]).write_bytes(b"not a photo")
    expected = [[k for k in part if k != keys[0]] for part in flower_photos.split_keys(keys)]
    with pytest.warns(DataWarning, match=f"skipped 1 unreadable image.*{re.escape(keys[0])}"):
        fingerprint = load(str(copy), SIZE).fingerprint
    assert [fingerprint["split_keys"][name]["sha256"] for name in split.NAMES] == [sha(k) for k in expected]
    with pytest.raises(DataError, match=f"unreadable image: {re.escape(str(copy / keys[0]))} "):
        load(str(copy), SIZE, strict=True)


def test_an_archive_of_other_data_is_a_one_line_error(tmp_path):
    root = make_data.write_flower_photos(tmp_path / "x" / "flower_photos", n_per_class=3, image_size=SIZE)
    (root / "roses").rename(root / "lilies")
    archive = make_data.write_flower_archive(root, tmp_path / "other.tgz")
    with pytest.raises(DataError, match=r"not the flower_photos archive \(class folders daisy, dandelion, lilies"):
        load(str(archive), SIZE)
    broken = tmp_path / "flower_photos.tgz"
    broken.write_bytes(archive.read_bytes()[:300])
    with pytest.raises(DataError, match="not a readable tar archive") as caught:
        load(str(broken), SIZE)
    assert "\n" not in str(caught.value)


def test_duplicate_keys_are_refused(tmp_path):
    root = make_data.write_flower_photos(tmp_path / "flower_photos", n_per_class=3, image_size=SIZE)
    archive = tmp_path / "twice.tgz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(root, arcname="flower_photos")
        tar.add(root / "daisy", arcname="copy/daisy")
    with pytest.raises(DataError, match="two examples named daisy/"):
        load(str(archive), SIZE)


# --- the profiles on the archive, offline ----------------------------------------------------------


@pytest.mark.slow
def test_the_lite_profile_runs_offline_on_the_archive(tmp_path):
    """The lite profile's own settings (basic_cnn needs no weights), the data from the archive: the
    result records tf_flowers' split, and the model learned (the stand-in's shapes: chance is 0.2)."""
    folder = make_data.write_flower_photos(tmp_path / "flower_photos", n_per_class=40, image_size=64)
    archive = make_data.write_flower_archive(folder, tmp_path / "flower_photos.tgz")
    out = tmp_path / "out.json"
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    args = ("--profile", "lite", "--data", archive, "-k", "basic_cnn", "--epochs", "6", "--benchmark-json", out)
    done = suite.run(*args, cwd=tmp_path, env=env, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    (case,) = json.loads(out.read_text())["benchmarks"]
    info = case["extra_info"]
    assert info["status"] == "ok" and info["profile"] == "lite" and info["config"]["image_size"] == 64
    expected = tfds_split(builder_keys(archive), tmp_path)
    assert info["dataset"]["split_keys"]["test"] == {"count": len(expected[2]), "sha256": sha(expected[2])}
    assert info["test_accuracy"] >= 0.6
