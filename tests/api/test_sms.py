"""The optional SMS channel for notices: Amazon SNS (moto here), off by default.

With it on, announcing a slot texts the members (never pending phones) of that slot's building's
households that have a live order; other buildings and households without an order get nothing.
"""
from datetime import timedelta

import pytest
from moto.core import DEFAULT_ACCOUNT_ID
from moto.sns.models import sns_backends

from api import clock, config, senders
from tests.api.helpers import create_round, fair_share_off, family_phone, place_order, post, register


def sent() -> list[tuple[str, str]]:
    return list(sns_backends[DEFAULT_ACCOUNT_ID][config.REGION].sms_messages.values())


@pytest.fixture(autouse=True)
def no_messages(aws):
    sns_backends[DEFAULT_ACCOUNT_ID][config.REGION].sms_messages.clear()


@pytest.fixture
def planned(client, demo):
    """1栋 101 (three phones: two members and a pending one) and 3栋 1单元 301 order; 1栋 102 does not."""
    fair_share_off(demo["community_id"])
    rnd = create_round(demo["tokens"]["supplier"], [demo["community_id"]])
    ordering = register(client, demo["join_key"], building="1栋", room="101", phone="13900000101")
    family_phone(client, demo["join_key"], ordering["token"], building="1栋", room="101", phone="13900009101")
    pending = register(client, demo["join_key"], building="1栋", room="101", phone="13900008101")
    assert pending["membership"] == "pending"
    register(client, demo["join_key"], building="1栋", room="102", phone="13900000102")
    other = register(client, demo["join_key"], building="3栋", unit="1单元", room="301", phone="13900000301")
    for token in (ordering["token"], other["token"]):
        assert place_order(client, token, rnd["round_id"], (rnd["bundle_ids"][1], 1)).status_code == 201
    plan = post(client, f"/api/communities/{demo['community_id']}/rounds/{rnd['round_id']}/slots/generate",
                {"start_at": clock.iso(clock.now() + timedelta(hours=1)), "minutes_per_slot": 15,
                 "households_per_slot": 1, "building_order": ["1栋", "3栋"]}, demo["tokens"]["liaison"])
    assert plan.status_code == 201, plan.body
    return rnd, plan.json_body


def announce(client, demo, rnd, plan):
    first = plan["slots"][0]
    response = post(client, f"/api/communities/{demo['community_id']}/rounds/{rnd['round_id']}/slots/"
                            f"{first['slot_id']}/announce", {}, demo["tokens"]["liaison"])
    assert response.status_code == 201, response.body
    return response.json_body["notices"]


def test_sms__off_by_default__sends_nothing(client, demo, planned):
    assert isinstance(senders.sms(), senders.NoSender)
    announce(client, demo, *planned)
    assert sent() == []


def test_sms__on__texts_the_members_of_the_slots_building_with_an_order(client, demo, planned, monkeypatch):
    monkeypatch.setattr(config, "SMS", "sns")
    [notice] = announce(client, demo, *planned)
    assert sorted(sent()) == [("+8613900000101", notice["text"]), ("+8613900009101", notice["text"])]
    assert notice["text"].startswith("【取货通知】1栋 ") and "139" not in notice["text"]


def test_sns_sender__a_failure_is_reported_not_raised(monkeypatch):
    def refuse(**kwargs):
        raise RuntimeError("no SMS in this region")

    from api import aws
    monkeypatch.setattr(aws.client("sns"), "publish", refuse)
    assert senders.SnsSms().send("13900000000", "hi") is False
