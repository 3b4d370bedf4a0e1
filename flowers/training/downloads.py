"""Downloads a case may start: a TensorFlow Datasets data set and Keras' ImageNet weights.

Both libraries retry a download that cannot succeed for minutes (TFDS tries tf_flowers 10 times,
with back-off), and each case would retry on its own.  So
before either downloads, :func:`check_reachable` opens one TCP connection to the download host (or
to the proxy the environment names for it) with a :data:`PROBE_SECONDS` timeout, and keeps the
outcome for the process: offline, the first case fails within seconds and every later one at once,
with :data:`OFFLINE_HINT` (:data:`WEIGHTS_HINT` for weights).  Nothing is probed when the data or
weights are already on disk.  The pytest plugin asks the same (:func:`check_tfds`,
:func:`check_imagenet`) once, before any case runs, so an offline session is one usage error.

:func:`prepare_tfds` downloads and prepares a TFDS data set in a child process, into a temporary
folder beside TFDS' data folder, and moves it into place only when complete.  Ctrl-C or SIGTERM
ends the child within :data:`STOP_SECONDS` (TFDS downloads in a thread pool that would otherwise
hold the process until the download ends) and the temporary folder is removed, so no partial data
set is ever left where TFDS looks for prepared ones.  A failed preparation is kept for the process
too.  ``python -m flowers.training.downloads NAME DATA_DIR`` is that child.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

from flowers.errors import DownloadError
from flowers.text import one_line
from flowers.training.progress import SILENT, Progress

PROBE_SECONDS = 3.0  # a download host that does not answer a TCP connection within this is offline
STOP_SECONDS = 5.0  # after Ctrl-C or SIGTERM, the download child's time to end before it is killed
KERAS_WEIGHTS_URL = "https://storage.googleapis.com/tensorflow/keras-applications/"  # keras.applications' weights
OFFLINE_HINT = (
    "offline, use --profile smoke (synthetic data, random weights), or --data PATH "
    "(flower_photos.tgz, or a folder of class sub-folders) and --weights DIR (weight files)"
)
WEIGHTS_HINT = "offline, use --weights random-calibrated or --weights none (random backbone weights), or --weights DIR"
ERROR_FILE = "error.txt"  # the child's one-line reason, in the temporary folder

_FAILED: dict[str, str] = {}  # data set name -> why its preparation failed in this process


# --- reachability --------------------------------------------------------------------------------


def probe_address(url: str) -> tuple[str, int]:
    """``(host, port)`` a download of ``url`` connects to first: the proxy the environment sets for
    its scheme (``https_proxy``, ``http_proxy``; ``no_proxy`` respected), else the URL's host."""
    parts = urllib.parse.urlsplit(url)
    host, port = parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80)
    proxy = urllib.request.getproxies().get(parts.scheme)
    if proxy and not urllib.request.proxy_bypass(host):
        proxy_parts = urllib.parse.urlsplit(proxy if "://" in proxy else f"http://{proxy}")
        return proxy_parts.hostname or "", proxy_parts.port or (443 if proxy_parts.scheme == "https" else 80)
    return host, port


@functools.cache
def connect_error(host: str, port: int) -> str | None:
    """Why a TCP connection to ``host:port`` failed (None: it opened), once per process.

    Name resolution has no timeout of its own, so the attempt runs in a daemon thread that is
    waited for at most PROBE_SECONDS (and never holds the process at exit)."""
    outcome: list[str | None] = []

    def connect() -> None:
        try:
            socket.create_connection((host, port), timeout=PROBE_SECONDS).close()
            outcome.append(None)
        except OSError as exc:
            outcome.append(one_line(exc.strerror or exc, 100))

    thread = threading.Thread(target=connect, name="flowers-download-probe", daemon=True)
    thread.start()
    thread.join(PROBE_SECONDS)
    return outcome[0] if outcome else f"no answer within {PROBE_SECONDS:g} s"


def check_reachable(url: str, what: str, hint: str = OFFLINE_HINT) -> None:
    """DownloadError naming ``what`` and ending with ``hint`` unless a connection towards ``url`` opens."""
    host, port = probe_address(url)
    error = connect_error(host, port)
    if error:
        raise DownloadError(f"{what} could not be downloaded ({host}:{port}: {error}); {hint}")


# --- Keras' ImageNet weights -----------------------------------------------------------------------


def keras_cached(file_name: str) -> bool:
    """Whether ``keras.utils.get_file`` finds ``file_name`` in its cache without a download: under
    ``models/`` in ``$KERAS_HOME`` or ``~/.keras``, or ``/tmp/.keras`` where those are not writable."""
    homes = (
        os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras"),
        os.path.join(tempfile.gettempdir(), ".keras"),
        "/tmp/.keras",
    )
    return any(os.path.isfile(os.path.join(home, "models", file_name)) for home in homes)


def check_keras_weights(file_name: str, what: str) -> bool:
    """Whether Keras will download ``file_name`` (after checking that it can: DownloadError)."""
    if keras_cached(file_name):
        return False
    check_reachable(KERAS_WEIGHTS_URL + file_name, what, WEIGHTS_HINT)
    return True


def check_imagenet(backbones: dict[str, tuple[str, str]]) -> None:
    """DownloadError unless the ImageNet weights of every backbone (name -> its weight file names,
    ours and Keras') are in Keras' cache or can be downloaded (their host answers)."""
    needed = {name: files for name, files in backbones.items() if not keras_cached(files[1])}
    if needed:
        what, ours = f"ImageNet weights for {', '.join(needed)}", ", ".join(files[0] for files in needed.values())
        check_reachable(KERAS_WEIGHTS_URL + next(iter(needed.values()))[1], what, f"{WEIGHTS_HINT} holding {ours}")


# --- TensorFlow Datasets -------------------------------------------------------------------------


@contextlib.contextmanager
def _quiet_tfds():
    """TFDS warns that a data set's folder "has no dataset_info.json" when the folder does not even
    exist (the data set is not prepared, which the caller says in its own words): held back."""
    logger = logging.getLogger("absl")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def check_tfds(name: str, data_dir: str | None = None):
    """None when TFDS data set ``name`` is prepared in ``data_dir`` (TFDS' default when None), else
    its builder, after checking that it can be downloaded: DownloadError (once per process) if not."""
    import tensorflow_datasets as tfds

    with _quiet_tfds():
        builder = tfds.builder(name, data_dir=data_dir)
        if builder.is_prepared():
            return None
    if name in _FAILED:
        raise DownloadError(_FAILED[name])
    for url in builder.url_infos or {}:
        check_reachable(url, name)
    return builder


def prepare_tfds(name: str, progress: Progress | None = None, data_dir: str | None = None) -> None:
    """Make sure TFDS data set ``name`` is prepared in ``data_dir`` (TFDS' default: ``$TFDS_DATA_DIR``
    or ``~/tensorflow_datasets``); download and prepare it if not.  DownloadError if it cannot be."""
    builder = check_tfds(name, data_dir)
    if builder is None:
        return
    urls = dict(builder.url_infos or {})
    progress = progress or SILENT
    size = sum(info.size or 0 for info in urls.values())
    progress(f"downloading {name} ({size / 2**20:.0f} MiB) and preparing it in {builder.data_dir}: once, a few minutes")
    start = time.perf_counter()
    root = Path(builder.data_dir_root)
    try:
        root.mkdir(parents=True, exist_ok=True)
        folder = tempfile.TemporaryDirectory(prefix=f".{name}-incomplete-", dir=root, ignore_cleanup_errors=True)
    except OSError as exc:
        raise DownloadError(
            f"{name} cannot be prepared in {root} ({exc.strerror or exc}); set TFDS_DATA_DIR to a writable folder"
        ) from None
    with folder as tmp:
        error = run_child(name, Path(tmp), progress)
        if error:
            _FAILED[name] = f"{name} could not be downloaded and prepared ({error}); {OFFLINE_HINT}"
            raise DownloadError(_FAILED[name])
        final = Path(builder.data_dir)
        final.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.replace(Path(tmp) / final.relative_to(root), final)
        except OSError as exc:  # fine if another process prepared it meanwhile
            if check_tfds(name, data_dir) is not None:
                raise DownloadError(f"{name}: prepared, but not moved to {final} ({one_line(exc, 150)})") from None
    progress(f"{name} prepared in {time.perf_counter() - start:.0f} s")


def run_child(name: str, tmp: Path, progress: Progress) -> str | None:
    """Prepare ``name`` into ``tmp`` in a child process; its one-line error, or None.  On a terminal
    the child's own progress bars show; else its output goes to a log that a failure is read from."""
    command = [sys.executable, "-m", "flowers.training.downloads", name, str(tmp)]
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    with contextlib.ExitStack() as stack:
        if progress.live:
            stack.enter_context(progress.terminal())  # the child inherits the terminal, not pytest's capture
            output = None
        else:
            output = stack.enter_context(open(tmp / "log.txt", "wb"))
        child = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=output, stderr=subprocess.STDOUT if output else None, env=env
        )
    try:
        code = child.wait()
    except BaseException:  # Ctrl-C, SIGTERM: end the child now, then let the interrupt go on
        stop(child)
        raise
    if code == 0:
        return None
    error = tmp / ERROR_FILE
    return error.read_text().strip() if error.exists() else f"the preparing process exited with {code}"


def stop(child: subprocess.Popen) -> None:
    """SIGTERM, then SIGKILL after STOP_SECONDS."""
    child.terminate()
    try:
        child.wait(STOP_SECONDS)
    except subprocess.TimeoutExpired:
        child.kill()
        child.wait()


def prepare_in(name: str, data_dir: Path) -> None:
    """The child's work: download and prepare ``name`` with ``data_dir`` as TFDS' data and download folder."""
    import tensorflow_datasets as tfds

    tfds.builder(name, data_dir=str(data_dir)).download_and_prepare(download_dir=str(data_dir / "downloads"))


if __name__ == "__main__":
    name_, folder = sys.argv[1], Path(sys.argv[2])
    try:
        prepare_in(name_, folder)
    except Exception as exc:  # noqa: BLE001 - TFDS fails in many ways; the parent reports one line
        (folder / ERROR_FILE).write_text(one_line(exc, 200))
        sys.exit(1)
