"""GET /api/communities/{cid}/poster, and api/posters: the join-QR poster and the volunteer invite sheet.

Each PDF is read back the way a person meets it: pdftoppm renders the page and zxing-cpp decodes
the QR codes from the picture (what a phone does), pdffonts shows the font travels inside the
file, pdfinfo gives the paper, pdftotext the words.
"""
import re
import subprocess

import pytest
import zxingcpp
from PIL import Image

from api import auth, communities, config, labels, posters
from tests.api.helpers import create_community, create_sub_district, error_of, get, post, register


def run(*command) -> str:
    return subprocess.run(command, check=True, capture_output=True, text=True, timeout=120).stdout


def poster(client, community_id, token):
    return get(client, f"/api/communities/{community_id}/poster", token, accept="application/pdf")


def pdf_file(response, tmp_path, name="poster.pdf"):
    assert response.status_code == 200, response.body
    assert response.headers["Content-Type"] == "application/pdf"
    assert isinstance(response.body, bytes) and response.body.startswith(b"%PDF-")
    path = tmp_path / name
    path.write_bytes(response.body)
    return path


def render(pdf, tmp_path, page=1, dpi=100) -> Image.Image:
    prefix = tmp_path / f"{pdf.stem}-{page}-{dpi}"
    run("pdftoppm", "-r", str(dpi), "-png", "-gray", "-f", str(page), "-l", str(page), "-singlefile", str(pdf),
        str(prefix))
    return Image.open(f"{prefix}.png")


def decoded(pdf, tmp_path, page=1, dpi=100) -> list:
    return [b for b in zxingcpp.read_barcodes(render(pdf, tmp_path, page, dpi)) if b.format == zxingcpp.BarcodeFormat.QRCode]


def text(pdf) -> str:
    """The page's words, with the layout's spaces and line breaks taken out."""
    return re.sub(r"\s+", "", run("pdftotext", "-enc", "UTF-8", str(pdf), "-"))


def fonts(pdf) -> list[dict]:
    rows = run("pdffonts", str(pdf)).splitlines()[2:]
    return [{"name": row.split()[0], "emb": row.split()[-5]} for row in rows]


def join_url_of(demo) -> str:
    return f"{config.PUBLIC_URL}/#/join/{demo['join_key']}"


# --- the Must show: the poster's QR gives back the join URL ------------------------------------------

def test_poster__qr_rendered_with_pdftoppm_and_decoded_with_zxing__is_the_join_url(client, demo, tmp_path):
    pdf = pdf_file(poster(client, demo["community_id"], demo["tokens"]["liaison"]), tmp_path)

    found = decoded(pdf, tmp_path)

    assert [b.text for b in found] == [join_url_of(demo)]
    # The very link the console shows the liaison, and the one the join page resolves.
    console = get(client, f"/api/communities/{demo['community_id']}", demo["tokens"]["liaison"]).json_body
    assert found[0].text == console["join_url"]
    join_key = found[0].text.rsplit("/#/join/", 1)[1]
    assert get(client, f"/api/join/{join_key}").json_body["name"] == "幸福家园小区"


def test_poster__qr_is_at_least_12_cm_across_with_a_white_quiet_zone(client, demo, tmp_path):
    pdf = pdf_file(poster(client, demo["community_id"], demo["tokens"]["liaison"]), tmp_path)
    dpi = 100
    image = render(pdf, tmp_path, dpi=dpi).convert("L")

    found = decoded(pdf, tmp_path, dpi=dpi)[0]

    p = found.position
    left, right = min(p.top_left.x, p.bottom_left.x), max(p.top_right.x, p.bottom_right.x)
    top, bottom = min(p.top_left.y, p.top_right.y), max(p.bottom_left.y, p.bottom_right.y)
    side_mm = (right - left) / dpi * 25.4
    assert side_mm >= 118  # 120 mm drawn, within a pixel or two: a metre's scanning distance
    assert abs((bottom - top) - (right - left)) <= 3
    # Four modules of white all round, clear of the header, the steps and every other mark.
    modules = len(posters.qr_matrix(found.text, posters.POSTER_QR_ERROR))
    quiet = round(4 * (right - left) / modules) - 2
    ring = [image.getpixel((x, y))
            for x in range(left - quiet, right + quiet + 1)
            for y in range(top - quiet, bottom + quiet + 1)
            if not (left - 2 <= x <= right + 2 and top - 2 <= y <= bottom + 2)]
    assert min(ring) > 200


def test_poster__a4_one_page_with_only_embedded_fonts(client, demo, tmp_path):
    pdf = pdf_file(poster(client, demo["community_id"], demo["tokens"]["liaison"]), tmp_path)

    info = run("pdfinfo", str(pdf))

    assert re.search(r"^Pages:\s+1$", info, re.M)
    assert re.search(r"^Page size:\s+595\.2\d* x 841\.89 pts \(A4\)", info, re.M)
    found = fonts(pdf)
    assert found and all(f["emb"] == "yes" for f in found), found
    assert {f["name"].split("+")[-1] for f in found} == {labels.FONT}  # no Helvetica anywhere


def test_poster__says_the_name_the_steps_the_rules_and_the_distribution_point(client, demo, tmp_path):
    words = text(pdf_file(poster(client, demo["community_id"], demo["tokens"]["liaison"]), tmp_path))

    assert "幸福家园小区" in words
    assert "樊城区示范街道" in words
    for step in ("扫码", "登记楼栋房号", "下单", "付款", "按通知取货"):
        assert step in words
    assert "每户每3天只能下1单" in words  # the community's fair_share_days (3 by default)
    assert "取货码" in words and "2米间距" in words and "分楼栋错峰" in words
    assert "配送点：北门配送点" in words
    assert "北门岗亭旁" in words
    assert "信息员王阿姨" in words
    assert join_url_of(demo) in words  # spelt out, for anyone who can't scan


def test_poster__follows_the_communitys_fair_share_setting(client, demo, tmp_path):
    community = communities.get(demo["community_id"])
    token = demo["tokens"]["liaison"]

    communities.settings(community, {"fair_share_days": 5})
    five = text(pdf_file(poster(client, demo["community_id"], token), tmp_path, "five.pdf"))
    communities.settings(community, {"fair_share_days": 0})
    off = text(pdf_file(poster(client, demo["community_id"], token), tmp_path, "off.pdf"))

    assert "每户每5天只能下1单" in five
    assert "不限制下单次数" in off and "只能下1单" not in off


def test_poster__without_a_distribution_point__says_it_will_be_announced(client, demo, tmp_path):
    communities.retire_distribution_point(communities.get(demo["community_id"]))

    words = text(pdf_file(poster(client, demo["community_id"], demo["tokens"]["liaison"]), tmp_path))

    assert "配送点：另行通知" in words


def test_poster__names_the_file_after_the_community(client, demo):
    response = poster(client, demo["community_id"], demo["tokens"]["liaison"])

    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith(f'attachment; filename="poster-{demo["community_id"]}.pdf"; filename*=UTF-8\'\'')
    assert "%E5%B9%B8%E7%A6%8F%E5%AE%B6%E5%9B%AD%E5%B0%8F%E5%8C%BA" in disposition  # 幸福家园小区


# --- who may download it ----------------------------------------------------------------------------

@pytest.mark.parametrize("role", ["liaison", "info_officer", "admin"])
def test_poster__the_communitys_liaison_information_officer_and_admin__get_it(client, demo, role, tmp_path):
    pdf = pdf_file(poster(client, demo["community_id"], demo["tokens"][role]), tmp_path)

    assert [b.text for b in decoded(pdf, tmp_path)] == [join_url_of(demo)]


def test_poster__another_communitys_liaison__is_404(client, demo):
    other = create_community(demo["sub_district_id"], "和平里小区")
    from api import bootstrap
    their_liaison = bootstrap.create_staff("liaison", other["community_id"])

    error_of(poster(client, demo["community_id"], their_liaison), 404, "not_found")


def test_poster__an_admin_of_another_sub_district__is_404(client, demo):
    other = create_sub_district()

    error_of(poster(client, demo["community_id"], other["token"]), 404, "not_found")


def test_poster__a_community_that_does_not_exist__is_404(client, demo):
    error_of(poster(client, "01NOSUCHCOMMUNITY000000000", demo["tokens"]["liaison"]), 404, "not_found")


def test_poster__a_retired_information_officer__is_404(client, demo):
    communities.retire_info_officer(communities.get(demo["community_id"]))

    error_of(poster(client, demo["community_id"], demo["tokens"]["info_officer"]), 404, "not_found")


@pytest.mark.parametrize("role", ["volunteer", "supplier"])
def test_poster__other_staff_roles__are_403(client, demo, role):
    error_of(poster(client, demo["community_id"], demo["tokens"][role]), 403, "wrong_role")


def test_poster__a_resident__is_403_and_no_token_is_401(client, demo):
    resident = register(client, demo["join_key"])

    error_of(poster(client, demo["community_id"], resident["token"]), 403, "wrong_role")
    error_of(poster(client, demo["community_id"], None), 401, "unauthorized")


def test_poster__without_a_public_url__refuses_rather_than_print_a_dead_link(client, demo, monkeypatch):
    monkeypatch.setattr(config, "PUBLIC_URL", "")

    error_of(poster(client, demo["community_id"], demo["tokens"]["liaison"]), 500, "public_url_unset")


def test_poster__is_in_the_openapi_document(client):
    spec = client.http.get("/api/openapi.json").json_body

    operation = spec["paths"]["/api/communities/{community_id}/poster"]["get"]
    assert operation["security"] == [{"bearer": []}]
    assert {"200", "401", "403", "404"} <= set(operation["responses"])


# --- the volunteer invite sheet ---------------------------------------------------------------------

def liaison(demo) -> auth.Principal:
    return auth.from_headers({"authorization": f"Bearer {demo['tokens']['liaison']}"})


def test_volunteer_sheet__each_qr_decodes_to_an_invite_url_that_accepts_once(client, demo, tmp_path):
    community = communities.get(demo["community_id"])
    cards = posters.volunteer_invites(liaison(demo), community, 3)
    pdf = tmp_path / "volunteers.pdf"
    pdf.write_bytes(posters.render_invite_sheet(community.name, cards))

    urls = sorted(b.text for b in decoded(pdf, tmp_path, dpi=150))

    assert urls == sorted(card.url for card in cards)
    assert len(set(urls)) == 3
    for url in urls:
        assert url.startswith(f"{config.PUBLIC_URL}/#/invite/")
        code = url.rsplit("/", 1)[1]
        accepted = post(client, f"/api/invites/{code}/accept", {})
        assert accepted.status_code == 200, accepted.body
        assert accepted.json_body["role"] == "volunteer"
        assert accepted.json_body["scope_id"] == demo["community_id"]
        # The new volunteer's token works in their community.
        staff = get(client, f"/api/communities/{demo['community_id']}", accepted.json_body["token"])
        assert staff.status_code == 200
        error_of(post(client, f"/api/invites/{code}/accept", {}), 409, "invite_used")


def test_volunteer_sheet__six_to_a_page_numbered_with_expiry_and_embedded_font(demo, tmp_path):
    community = communities.get(demo["community_id"])
    cards = posters.volunteer_invites(liaison(demo), community, 8)
    pdf = tmp_path / "volunteers.pdf"
    pdf.write_bytes(posters.render_invite_sheet(community.name, cards))

    assert re.search(r"^Pages:\s+2$", run("pdfinfo", str(pdf)), re.M)
    assert len(decoded(pdf, tmp_path, page=1, dpi=150)) == 6
    assert len(decoded(pdf, tmp_path, page=2, dpi=150)) == 2
    words = text(pdf)
    assert "志愿者邀请No.1" in words and "志愿者邀请No.8" in words
    assert "有效期至" in words and "请勿张贴" in words
    assert all(f["emb"] == "yes" for f in fonts(pdf))


def test_volunteer_invites__a_liaison_of_another_community__is_refused(demo):
    other = create_community(demo["sub_district_id"], "和平里小区")

    from api.errors import Forbidden
    with pytest.raises(Forbidden):
        posters.volunteer_invites(liaison(demo), communities.get(other["community_id"]), 1)


# --- the words themselves ---------------------------------------------------------------------------

def test_fair_share_rule__says_the_days():
    assert "每户每 3 天只能下 1 单" in posters.fair_share_rule(3)
    assert "每户每天只能下 1 单" in posters.fair_share_rule(1)
    assert "不限制" in posters.fair_share_rule(0)


def test_every_character_the_poster_prints_is_in_the_embedded_font():
    from reportlab.pdfbase.ttfonts import TTFont

    glyphs = TTFont("check", str(labels.FONT_FILE)).face.charToGlyph
    printed = "".join([t for step in posters.STEPS for t in step] + list(posters.PICKUP_RULES)
                      + [posters.fair_share_rule(n) for n in (0, 1, 3)]
                      + ["扫码登记 · 保供团购", "居民入户二维码", "配送点：另行通知，请留意群消息", "下单规则", "取货须知",
                         "请在付款截止前付款；截止时仍未付款的订单不配送。", "独居老人、残疾人等不方便下楼的住户，请联系小区信息员，可以代下单、送货上门。",
                         "扫不了码？在浏览器打开：", "①②③④⑤→●", "志愿者邀请码（共 张）沿虚线剪开，一人一张当面交给志愿者；每张只能用一次，扫码即成为本小区志愿者。请勿张贴或发到群里。",
                         "有效期至（北京时间）· 限一人使用", "邀请码"])
    missing = sorted({ch for ch in printed if ord(ch) not in glyphs})

    assert missing == []
