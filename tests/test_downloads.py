"""flowers.training.downloads: an offline machine fails within seconds, once per process; an interrupted
download ends at once and leaves nothing TFDS would take for a prepared data set.

No test reaches the network: the download host is mocked (a connection that hangs or is refused),
or the environment's proxy points at a local socket that refuses or never answers.
"""

from __future__ import annotations

import io
import signal
import socket
import threading
import time
from pathlib import Path

import pytest

from flowers.errors import DownloadError, WeightsError
from flowers.training import downloads

FAIL_WITHIN = downloads.PROBE_SECONDS + 2  # the probe's timeout, plus slack for a busy machine
PROXY_VARIABLES = ("http_proxy", "https_proxy", "no_proxy", "all_proxy")


@pytest.fixture
def fresh_probe(monkeypatch):
    """No probe outcome or failed preparation kept from another test, and no proxy from outside."""
    downloads.connect_error.cache_clear()
    monkeypatch.setattr(downloads, "_FAILED", {})
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)
    yield
    downloads.connect_error.cache_clear()


@pytest.fixture
def hanging_host(monkeypatch, fresh_probe):
    """Every connection hangs (as to a host that drops packets); yields the list of attempts."""
    attempts, release = [], threading.Event()

    def hang(address, timeout=None):
        attempts.append(address)
        release.wait(60)
        raise TimeoutError("timed out")

    monkeypatch.setattr(socket, "create_connection", hang)
    yield attempts
    release.set()


def test_an_unreachable_data_set_host_fails_within_seconds_and_once_per_process(hanging_host, tmp_path):
    start = time.monotonic()
    with pytest.raises(DownloadError) as first:
        downloads.prepare_tfds("tf_flowers", data_dir=str(tmp_path))
    took = time.monotonic() - start
    assert took < FAIL_WITHIN, f"{took:.1f}s"
    message = str(first.value)
    assert message.startswith("tf_flowers could not be downloaded (download.tensorflow.org:80: no answer within 3 s)")
    assert "--profile smoke" in message and "--data PATH" in message and "--weights DIR" in message
    assert "\n" not in message

    start = time.monotonic()
    with pytest.raises(DownloadError, match="no answer"):
        downloads.prepare_tfds("tf_flowers", data_dir=str(tmp_path))
    assert time.monotonic() - start < 1  # the outcome is kept: no second wait
    assert hanging_host == [("download.tensorflow.org", 80)]
    assert not list(tmp_path.iterdir())  # nothing written


def test_unreachable_imagenet_weights_fail_the_model_at_once(hanging_host, tmp_path, monkeypatch):
    from flowers.training.models import create_model

    monkeypatch.setenv("KERAS_HOME", str(tmp_path))  # no cached weights
    monkeypatch.setattr(downloads, "keras_cached", lambda name: False)  # nor in ~/.keras on this machine
    start = time.monotonic()
    for name in ("vgg16_transfer", "mobilenet_v2_transfer"):
        with pytest.raises(WeightsError) as err:
            create_model(name, 5, 32, weights="imagenet")
    assert time.monotonic() - start < FAIL_WITHIN + 5  # one probe; two models built
    assert hanging_host == [("storage.googleapis.com", 443)]
    message = str(err.value)
    assert message.startswith("ImageNet weights for mobilenet_v2 could not be downloaded (storage.googleapis.com:443")
    assert message.endswith(
        "; offline, use --weights random-calibrated or --weights none (random backbone weights), "
        "or --weights DIR holding mobilenet_v2_1.0_imagenet_notop.weights.h5"
    )
    assert "--data" not in message  # weights are what is missing: the data may well be there


def test_cached_keras_weights_are_not_probed(hanging_host, tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "some_notop.h5").write_bytes(b"x")
    assert downloads.check_keras_weights("some_notop.h5", "weights") is False
    assert hanging_host == []


def test_a_refused_connection_says_why(fresh_probe, monkeypatch):
    def refuse(address, timeout=None):
        raise ConnectionRefusedError(111, "Connection refused")

    monkeypatch.setattr(socket, "create_connection", refuse)
    with pytest.raises(DownloadError, match=r"^x could not be downloaded \(example.org:443: Connection refused\)"):
        downloads.check_reachable("https://example.org/file", "x")


def test_an_unwritable_data_folder_is_a_one_line_error(fresh_probe, monkeypatch, tmp_path):
    monkeypatch.setattr(socket, "create_connection", lambda address, timeout=None: io.BytesIO())  # reachable
    blocked = tmp_path / "a-file"
    blocked.write_text("x")
    with pytest.raises(DownloadError, match=r"^tf_flowers cannot be prepared in .*a-file/tfds .*TFDS_DATA_DIR"):
        downloads.prepare_tfds("tf_flowers", data_dir=str(blocked / "tfds"))


def test_a_prepared_data_set_is_moved_into_place_and_the_temporary_folder_removed(fresh_probe, monkeypatch, tmp_path):
    """The move after a successful preparation (the download itself needs the network: the child's
    TFDS call is replaced by one that writes what TFDS writes, a version folder under the data set's)."""
    import tensorflow_datasets as tfds

    final = Path(tfds.builder("tf_flowers", data_dir=str(tmp_path)).data_dir)  # .../tf_flowers/3.0.1

    def prepared(name, tmp, progress):
        version = Path(tmp) / name / final.name
        version.mkdir(parents=True)
        (version / "tf_flowers-train.tfrecord-00000-of-00001").write_bytes(b"records")  # None: no error

    monkeypatch.setattr(socket, "create_connection", lambda address, timeout=None: io.BytesIO())  # reachable
    monkeypatch.setattr(downloads, "run_child", prepared)
    lines = []
    downloads.prepare_tfds("tf_flowers", downloads.Progress(lines.append, isatty=False), data_dir=str(tmp_path))
    assert (final / "tf_flowers-train.tfrecord-00000-of-00001").read_bytes() == b"records"
    assert [p.name for p in tmp_path.iterdir()] == ["tf_flowers"]  # no temporary folder left
    assert lines[0].startswith("downloading tf_flowers (218 MiB) and preparing it in ") and lines[1].startswith(
        "tf_flowers prepared in "
    )


def test_the_probe_goes_to_the_environments_proxy(fresh_probe, monkeypatch):
    monkeypatch.setenv("https_proxy", "http://proxy.example:3128")
    assert downloads.probe_address("https://storage.googleapis.com/w.h5") == ("proxy.example", 3128)
    assert downloads.probe_address("http://download.tensorflow.org/x.tgz") == ("download.tensorflow.org", 80)
    monkeypatch.setenv("no_proxy", "googleapis.com")
    assert downloads.probe_address("https://storage.googleapis.com/w.h5") == ("storage.googleapis.com", 443)


@pytest.fixture
def silent_proxy(monkeypatch, fresh_probe):
    """A local proxy that accepts connections and never answers, set as the environment's proxy
    (a child process inherits it).  Yields an Event set when the first connection comes, and the
    list of connections."""
    server = socket.create_server(("127.0.0.1", 0))
    connected, held = threading.Event(), []

    def accept():
        while True:
            try:
                held.append(server.accept()[0])
            except OSError:
                return
            connected.set()

    threading.Thread(target=accept, daemon=True).start()
    proxy = f"http://127.0.0.1:{server.getsockname()[1]}"
    for name in ("http_proxy", "https_proxy"):
        monkeypatch.setenv(name, proxy)
    yield connected, held
    server.close()
    for conn in held:
        conn.close()


@pytest.mark.slow
def test_ctrl_c_during_a_download_ends_it_within_seconds_and_leaves_nothing(silent_proxy, tmp_path):
    import tensorflow_datasets as tfds

    (connected, connections), main, sent = silent_proxy, threading.main_thread().ident, []

    def interrupt_once_downloading():
        if connected.wait(120):  # the child process asked the proxy for something: it is downloading
            time.sleep(0.5)
            sent.append(time.monotonic())
            signal.pthread_kill(main, signal.SIGINT)

    threading.Thread(target=interrupt_once_downloading, daemon=True).start()
    with pytest.raises(KeyboardInterrupt):
        downloads.prepare_tfds("tf_flowers", data_dir=str(tmp_path))
        pytest.fail("the download through a silent proxy ended by itself")
    took = time.monotonic() - sent[0]
    print(f"Ctrl-C to the end of the download: {took:.2f} s")
    assert took < downloads.STOP_SECONDS + 2, f"{took:.1f}s"  # the child was ended (or killed)
    assert [p.name for p in tmp_path.iterdir()] in ([], ["tf_flowers"])  # the temporary folder is gone
    for connection in connections:  # the child's end of each connection is closed: it is gone
        connection.settimeout(5)
        while connection.recv(1 << 16):
            pass
    assert not tfds.builder("tf_flowers", data_dir=str(tmp_path)).is_prepared()
