"""infra/bytecode.py: the .pyc the Lambda bundle ships, so that a cold start compiles nothing."""
import json
import subprocess
import sys
import zipfile

import pytest

from infra import bytecode


def _zip(path, files: dict[str, bytes]):
    with zipfile.ZipFile(path, "w") as z:
        for name, data in files.items():
            z.writestr(name, data)


def test_add_bytecode__a_pyc_beside_each_module_used_as_it_is_even_when_the_source_changes(tmp_path):
    bundle = tmp_path / "deployment.zip"
    _zip(bundle, {"pkg/__init__.py": b"", "pkg/mod.py": b"ANSWER = 42\n", "pkg/data.json": b"{}",
                  "py2/old.py": b"print 'python 2'\n"})
    added, failed = bytecode.add_bytecode(bundle)
    assert (added, failed) == (2, ["py2/old.py"])
    with zipfile.ZipFile(bundle) as z:
        names = set(z.namelist())
        z.extractall(tmp_path / "x")
    tag = sys.implementation.cache_tag
    assert {f"pkg/__pycache__/__init__.{tag}.pyc", f"pkg/__pycache__/mod.{tag}.pyc"} <= names
    assert {"pkg/data.json", "py2/old.py"} <= names and not any(n.startswith("py2/__pycache__") for n in names)
    # Unchecked: the loader takes the .pyc without comparing it to the source, so a changed source (or a
    # reset modification time) does not send it back to the compiler.
    (tmp_path / "x" / "pkg" / "mod.py").write_text("ANSWER = 'compiled from source'\n")
    out = subprocess.run([sys.executable, "-B", "-S", "-I", "-c",
                          f"import sys; sys.path.insert(0, {str(tmp_path / 'x')!r}); import pkg.mod; "
                          "print(pkg.mod.ANSWER)"], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "42"


def test_add_bytecode__twice_adds_nothing_the_second_time(tmp_path):
    bundle = tmp_path / "deployment.zip"
    _zip(bundle, {"a.py": b"x = 1\n"})
    assert bytecode.add_bytecode(bundle) == (1, [])
    first = zipfile.ZipFile(bundle).namelist()
    assert bytecode.add_bytecode(bundle) == (0, [])
    assert zipfile.ZipFile(bundle).namelist() == first


def test_check_runtime__stops_a_build_whose_pyc_the_functions_would_ignore():
    def sam(runtime):
        return {"Resources": {"Api": {"Type": "AWS::Serverless::Function", "Properties": {"Runtime": runtime}},
                              "Bucket": {"Type": "AWS::S3::Bucket", "Properties": {}}}}
    bytecode.check_runtime(sam(bytecode.runtime()))
    with pytest.raises(bytecode.BuildError, match="build with the functions' Python"):
        bytecode.check_runtime(sam("python3.99"))


def test_main__refuses_a_runtime_mismatch_and_leaves_the_zip_alone(tmp_path, capsys):
    _zip(tmp_path / "deployment.zip", {"a.py": b"x = 1\n"})
    before = (tmp_path / "deployment.zip").read_bytes()
    (tmp_path / "sam.json").write_text(json.dumps({"Resources": {"Api": {
        "Type": "AWS::Serverless::Function", "Properties": {"Runtime": "python3.99"}}}}))
    assert bytecode.main([str(tmp_path)]) == 1
    assert "python3.99" in capsys.readouterr().err
    assert (tmp_path / "deployment.zip").read_bytes() == before
