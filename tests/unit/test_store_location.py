"""Where the store is when nobody says (an absolute path, never the working folder), and the
URL checks that refuse before anything connects."""

from __future__ import annotations

from pathlib import Path

import pytest

from noc.core import paths
from noc.store import db


def test_root_keeps_the_store_in_var_lib(monkeypatch):
    monkeypatch.setattr(paths.os, "geteuid", lambda: 0)
    monkeypatch.setenv("XDG_DATA_HOME", "/somewhere")
    assert paths.default_db_url() == "sqlite:////var/lib/noc/noc.db"


def test_a_user_keeps_it_in_the_xdg_data_directory(monkeypatch, tmp_path: Path):
    monkeypatch.setattr(paths.os, "geteuid", lambda: 1000)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("XDG_DATA_HOME", raising=False)
    assert paths.default_db_path() == tmp_path / ".local" / "share" / "noc" / "noc.db"
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    assert paths.default_db_path() == tmp_path / "data" / "noc" / "noc.db"
    monkeypatch.setenv("XDG_DATA_HOME", "relative/data")  # invalid by the XDG spec: ignored
    assert paths.default_db_path() == tmp_path / ".local" / "share" / "noc" / "noc.db"


def test_the_default_is_absolute_and_comes_last(monkeypatch):
    monkeypatch.delenv("NOC_DB", raising=False)
    default = db.resolve_db_url(None, None)
    assert default.startswith("sqlite:////") and Path(default[len("sqlite:///") :]).is_absolute()
    monkeypatch.setenv("NOC_DB", "sqlite:////env.db")
    assert db.resolve_db_url(None, None) == "sqlite:////env.db"
    assert db.resolve_db_url(None, "sqlite:////config.db") == "sqlite:////config.db"
    assert db.resolve_db_url("sqlite:////cli.db", "sqlite:////config.db") == "sqlite:////cli.db"


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("mysql://u:pw@x/y", "unsupported database 'mysql' in mysql://u:***@x/y"),
        ("not a url", "cannot read database URL 'not a url'"),
        ("postgresql//u:pw@h/db", "cannot read database URL 'postgresql//u:***@h/db'"),
    ],
)
def test_an_unusable_url_is_an_input_error_with_the_password_hidden(url, reason):
    with pytest.raises(db.DatabaseURLError) as exc_info:
        db.async_url(url)
    assert reason in str(exc_info.value) and exc_info.value.exit_code == 2


@pytest.mark.parametrize(
    ("url", "path"),
    [
        ("sqlite:////var/lib/noc/noc.db", Path("/var/lib/noc/noc.db")),
        ("sqlite:///noc.db", Path("noc.db")),
        ("sqlite:///file:/tmp/x.db?mode=ro&uri=true", Path("/tmp/x.db")),
        ("sqlite://", None),
        ("sqlite:///:memory:", None),
        ("postgresql://u@h/db", None),
    ],
)
def test_the_sqlite_file_of_a_url(url, path):
    assert db.sqlite_file(url) == path
