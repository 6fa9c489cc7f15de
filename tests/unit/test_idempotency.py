"""api.idempotency: the key header, the payload hash, and finding a record."""
from datetime import timedelta

import pytest
import time_machine

from api import clock, idempotency
from api.errors import BadInput, Conflict


def test_payload_hash__is_stable_under_key_order():
    a = {"round_id": "r1", "lines": [{"bundle_id": "b1", "qty": 2}]}
    b = {"lines": [{"qty": 2, "bundle_id": "b1"}], "round_id": "r1"}

    assert idempotency.payload_hash(a) == idempotency.payload_hash(b)


@pytest.mark.parametrize("other", [
    {"round_id": "r1", "lines": [{"bundle_id": "b1", "qty": 3}]},
    {"round_id": "r2", "lines": [{"bundle_id": "b1", "qty": 2}]},
    {"round_id": "r1", "lines": [{"bundle_id": "b1", "qty": 2}, {"bundle_id": "b2", "qty": 1}]},
])
def test_payload_hash__differs_for_another_payload(other):
    base = {"round_id": "r1", "lines": [{"bundle_id": "b1", "qty": 2}]}

    assert idempotency.payload_hash(other) != idempotency.payload_hash(base)


def test_payload_hash__line_order_matters():
    one = {"lines": [{"bundle_id": "a", "qty": 1}, {"bundle_id": "b", "qty": 1}]}
    two = {"lines": [{"bundle_id": "b", "qty": 1}, {"bundle_id": "a", "qty": 1}]}

    assert idempotency.payload_hash(one) != idempotency.payload_hash(two)


def test_payload_hash__is_hex_sha256():
    digest = idempotency.payload_hash({"a": "中文"})

    assert len(digest) == 64 and int(digest, 16) >= 0


def test_key_from_headers__returns_a_well_formed_key():
    assert idempotency.key_from_headers({"idempotency-key": "outbox-01J:abc_1.2"}) == "outbox-01J:abc_1.2"


@pytest.mark.parametrize("headers", [{}, {"idempotency-key": ""}, {"idempotency-key": "short"},
                                     {"idempotency-key": "a" * 101}, {"idempotency-key": "has space 123"}])
def test_key_from_headers__missing_or_malformed__is_bad_input_naming_the_header(headers):
    with pytest.raises(BadInput) as caught:
        idempotency.key_from_headers(headers)

    assert list(caught.value.fields) == ["Idempotency-Key"]


# --- records in the table -----------------------------------------------------------------

def test_find__no_record__is_none(table):
    assert idempotency.find("hh1", "key-00000001", "digest") is None


def test_find__same_digest__returns_the_record(table):
    idempotency.record("hh1", "key-00000001", "digest-a", "ROUND#r", "ORDER#x").save()

    found = idempotency.find("hh1", "key-00000001", "digest-a")

    assert (found.result_pk, found.result_sk) == ("ROUND#r", "ORDER#x")


def test_find__other_digest__is_conflict_idempotency_key_reused(table):
    idempotency.record("hh1", "key-00000001", "digest-a", "ROUND#r", "ORDER#x").save()

    with pytest.raises(Conflict) as caught:
        idempotency.find("hh1", "key-00000001", "digest-b")

    assert caught.value.code == "idempotency_key_reused"
    assert caught.value.status == 409


def test_find__key_is_scoped_to_the_caller(table):
    idempotency.record("hh1", "key-00000001", "digest-a", "ROUND#r", "ORDER#x").save()

    assert idempotency.find("hh2", "key-00000001", "digest-b") is None


def test_find__expired_record__is_none(table):
    idempotency.record("hh1", "key-00000001", "digest-a", "ROUND#r", "ORDER#x").save()

    with time_machine.travel(clock.now() + idempotency.TTL + timedelta(minutes=1), tick=False):
        assert idempotency.find("hh1", "key-00000001", "digest-a") is None


def test_record__expires_after_the_ttl(table):
    with time_machine.travel(clock.now().replace(microsecond=0), tick=False):
        record = idempotency.record("hh1", "key-00000001", "d", "pk", "sk")
        expected = clock.now() + idempotency.TTL

    assert record.expires_at == expected
