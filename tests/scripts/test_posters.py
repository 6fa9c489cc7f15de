"""`python -m scripts.posters`: a poster PDF per community, and sheets of volunteer invites that accept.

The PDFs are read back as in tests/api/test_posters.py: pdftoppm renders, zxing-cpp decodes.
"""
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import requests
import zxingcpp
from PIL import Image

from api import config
from scripts import posters as script
from tests.api.helpers import create_community, create_sub_district, post

ROOT = Path(__file__).resolve().parents[2]


def qr_texts(pdf, tmp_path, page=1, dpi=120) -> list[str]:
    prefix = tmp_path / f"{pdf.stem}-{page}"
    subprocess.run(["pdftoppm", "-r", str(dpi), "-png", "-gray", "-f", str(page), "-l", str(page), "-singlefile",
                    str(pdf), str(prefix)], check=True, timeout=120)
    return sorted(b.text for b in zxingcpp.read_barcodes(Image.open(f"{prefix}.png")))


def embedded_only(pdf) -> bool:
    rows = subprocess.run(["pdffonts", str(pdf)], check=True, capture_output=True, text=True).stdout.splitlines()[2:]
    return bool(rows) and all(row.split()[-5] == "yes" for row in rows)


def printed(out) -> dict[str, str]:
    """`<community>: <path>` lines → {path name: community}."""
    return {line.split(": ", 1)[1].split(" (")[0].rsplit("/", 1)[-1]: line.split(": ", 1)[0]
            for line in out.splitlines() if ": " in line}


def test_posters__community_id__writes_its_poster_whose_qr_is_the_join_url(demo, tmp_path, capsys):
    assert script.main(["--community-id", demo["community_id"], "--out", str(tmp_path / "out")]) == 0

    pdf = tmp_path / "out" / f"poster-幸福家园小区-{demo['community_id']}.pdf"
    assert printed(capsys.readouterr().out) == {pdf.name: "幸福家园小区"}
    assert qr_texts(pdf, tmp_path) == [f"{config.PUBLIC_URL}/#/join/{demo['join_key']}"]
    assert embedded_only(pdf)
    assert list((tmp_path / "out").iterdir()) == [pdf]  # no invites unless asked for


def test_posters__sub_district__writes_one_poster_per_community(demo, tmp_path, capsys):
    other = create_community(demo["sub_district_id"], "和平里小区")
    elsewhere = create_community(create_sub_district()["sub_district_id"], "别处小区")

    assert script.main(["--sub-district", demo["sub_district_id"], "--out", str(tmp_path)]) == 0

    written = printed(capsys.readouterr().out)
    assert sorted(written.values()) == ["和平里小区", "幸福家园小区"]
    assert qr_texts(tmp_path / f"poster-和平里小区-{other['community_id']}.pdf", tmp_path) == [
        f"{config.PUBLIC_URL}/#/join/{other['join_key']}"]
    assert not any(elsewhere["community_id"] in name for name in written)


def test_posters__volunteer_invites__a_sheet_whose_qr_codes_accept_once_each(client, demo, tmp_path, capsys):
    assert script.main(["--community-id", demo["community_id"], "--out", str(tmp_path),
                        "--volunteer-invites", "3"]) == 0

    sheet = tmp_path / f"volunteer-invites-幸福家园小区-{demo['community_id']}.pdf"
    assert "3 volunteer invites" in capsys.readouterr().out
    urls = qr_texts(sheet, tmp_path)
    assert len(urls) == 3 and len(set(urls)) == 3
    assert embedded_only(sheet)
    for url in urls:
        assert url.startswith(f"{config.PUBLIC_URL}/#/invite/")
        code = url.rsplit("/", 1)[1]
        accepted = post(client, f"/api/invites/{code}/accept", {})
        assert accepted.status_code == 200, accepted.body
        assert (accepted.json_body["role"], accepted.json_body["scope_id"]) == ("volunteer", demo["community_id"])
        assert post(client, f"/api/invites/{code}/accept", {}).status_code == 409


def test_posters__public_url__is_the_address_in_the_qr(demo, tmp_path, monkeypatch):
    monkeypatch.setattr(config, "PUBLIC_URL", config.PUBLIC_URL)  # put back after the script sets it

    assert script.main(["--community-id", demo["community_id"], "--out", str(tmp_path),
                        "--public-url", "https://baogong.example.cn/"]) == 0

    pdf = tmp_path / f"poster-幸福家园小区-{demo['community_id']}.pdf"
    assert qr_texts(pdf, tmp_path) == [f"https://baogong.example.cn/#/join/{demo['join_key']}"]


def test_posters__without_a_public_url__refuses_and_writes_nothing(demo, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(config, "PUBLIC_URL", "")

    with pytest.raises(SystemExit) as refused:
        script.main(["--community-id", demo["community_id"], "--out", str(tmp_path / "out")])

    assert refused.value.code == 2
    assert "BAOGONG_PUBLIC_URL" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_posters__no_community_named__is_a_usage_error(table, capsys):
    with pytest.raises(SystemExit) as refused:
        script.main(["--out", "unused"])

    assert refused.value.code == 2
    assert "--community-id" in capsys.readouterr().err


def test_posters__unknown_community__says_so_and_fails(table, tmp_path, capsys):
    assert script.main(["--community-id", "01NOSUCHCOMMUNITY000000000", "--out", str(tmp_path)]) == 1

    assert "No such community" in capsys.readouterr().err


def test_safe__keeps_chinese_and_drops_path_separators():
    assert script._safe("幸福家园小区") == "幸福家园小区"
    assert script._safe("A/B 小区") == "A_B_小区"
    assert script._safe("../..") == ".._.."
    assert "/" not in script._safe("/etc/passwd")


@pytest.mark.stack
def test_posters__local__prints_the_dev_communitys_poster_and_working_invites(dev_stack, tmp_path):
    """Against a running `make dev`, as the README shows: the poster's QR is dev.json's join_url, and an
    invite from the sheet signs a volunteer in through the running app."""
    dev_json = dev_stack.state_dir / "dev.json"
    dev = json.loads(dev_json.read_text())
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}

    result = subprocess.run([sys.executable, "-m", "scripts.posters", "--local", str(dev_json), "--out",
                             str(tmp_path), "--volunteer-invites", "1"], cwd=ROOT, env=env, capture_output=True,
                            text=True, timeout=120)

    assert result.returncode == 0, result.stderr
    poster = next(tmp_path.glob("poster-*.pdf"))
    assert qr_texts(poster, tmp_path) == [dev["join_url"]]
    [invite_url] = qr_texts(next(tmp_path.glob("volunteer-invites-*.pdf")), tmp_path)
    assert re.fullmatch(re.escape(dev["base_url"]) + r"/#/invite/[\w-]+", invite_url)
    code = invite_url.rsplit("/", 1)[1]
    accepted = requests.post(f"{dev['base_url']}/api/invites/{code}/accept", timeout=10)
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["role"] == "volunteer" and accepted.json()["scope_id"] == dev["community_id"]
