import os

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


@pytest.fixture
def away_from_repo(tmp_path, monkeypatch):
    """Work in tmp_path, where no pyproject.toml is found upwards: ``flowers check``'s built-in defaults."""
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def check_cli(monkeypatch, capsys):
    """The real ``flowers`` entry point with only ``check`` registered: ``check_cli(*argv)`` gives
    (exit code, stdout, stderr)."""
    from flowers import cli

    monkeypatch.setattr(cli, "COMMANDS", {"check": "flowers.check"})

    def call(*argv):
        try:
            code = cli.main(["check", *map(str, argv)])
        except SystemExit as exc:  # argparse: a usage error
            code = exc.code
        out, err = capsys.readouterr()
        return code, out, err

    return call
