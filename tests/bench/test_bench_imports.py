"""bench.imports: the parsing and the bundle's two runs (the figures themselves are printed, never asserted)."""
import re
import zipfile

from bench import imports
from infra import bytecode


def test_importtime__each_module_with_its_self_and_cumulative_microseconds():
    found = imports.importtime("import json")
    own, cumulative = found["json"]
    assert 0 <= own <= cumulative
    assert "json.decoder" in found  # json's own imports, listed separately


def test_bundle__imports_app_from_the_zip_with_its_pyc_and_again_without(tmp_path, monkeypatch, capsys):
    zipped = tmp_path / "deployment.zip"
    with zipfile.ZipFile(zipped, "w") as z:
        z.writestr("app.py", "import sys\nassert sys.flags.dont_write_bytecode and sys.flags.isolated\n")
        z.writestr("helper.py", "X = 1\n")
    bytecode.add_bytecode(zipped)
    monkeypatch.setattr(imports, "BUNDLE", zipped)
    imports.bundle(repeats=1)
    out = capsys.readouterr().out
    assert "2 .pyc" in out
    assert re.search(r"^BENCH-IMPORT-BUNDLE shipped_s=[0-9.]+ source_s=[0-9.]+$", out, re.M)


def test_bundle__says_how_to_get_one_when_there_is_none(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(imports, "BUNDLE", tmp_path / "none.zip")
    imports.bundle()
    assert "make package" in capsys.readouterr().out
