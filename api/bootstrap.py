"""The first admin of a sub-district, and the demo data `make dev` seeds.

Everyone else joins through invites; somebody has to be first.
"""
from datetime import timedelta

from pynamodb.transactions import TransactWrite

from api import auth, clock, communities, ids, rounds
from api.auth import Principal
from api.models import Community, InfoOfficer, StaffMember, SubDistrict, transaction_connection
from api.suppliers import create as create_supplier  # noqa: F401 (part of the bootstrap kit)


def create_sub_district(name: str) -> SubDistrict:
    sub_district_id = ids.new_id()
    sub_district = SubDistrict(f"SUBDISTRICT#{sub_district_id}", "SUBDISTRICT",
                               sub_district_id=sub_district_id, name=name)
    sub_district.save(condition=SubDistrict.pk.does_not_exist())
    return sub_district


def create_staff(role: str, scope_id: str) -> str:
    """A staff account without an invite; returns its token."""
    staff_id = ids.new_id()
    StaffMember(f"STAFF#{staff_id}", "STAFF", staff_id=staff_id, role=role, scope_id=scope_id,
                created_at=clock.now()).save()
    return auth.issue(Principal(role=role, scope_id=scope_id, subject=staff_id))


def assign_info_officer(community_id: str, name: str) -> str:
    """The community's information officer (信息员), without an invite; returns its token."""
    staff_id = ids.new_id()
    now = clock.now()
    with TransactWrite(connection=transaction_connection()) as transaction:
        transaction.save(StaffMember(f"STAFF#{staff_id}", "STAFF", staff_id=staff_id, role="info_officer",
                                     scope_id=community_id, name=name, created_at=now))
        transaction.update(Community(f"COMMUNITY#{community_id}", "COMMUNITY"),
                           actions=[Community.info_officer.set(InfoOfficer(staff_id=staff_id, name=name, since=now))],
                           condition=Community.info_officer.does_not_exist())
    return auth.issue(Principal(role="info_officer", scope_id=community_id, subject=staff_id))


def first_admin(sub_district_name: str) -> dict:
    sub_district = create_sub_district(sub_district_name)
    return {"sub_district_id": sub_district.sub_district_id,
            "token": create_staff("admin", sub_district.sub_district_id)}


# Low-rise 1栋 and 2栋 have no units; the towers do, so there a room number needs its unit.
DEMO_BUILDINGS = [
    {"name": "1栋", "units": []},
    {"name": "2栋", "units": []},
    {"name": "3栋", "units": ["1单元", "2单元"]},
    {"name": "10栋", "units": ["1单元", "2单元"]},
]
DEMO_BUNDLES = [
    {"name": "米面油套餐", "price_fen": 12800, "stock": 60, "per_household_limit": 2,
     "items": [{"name": "大米", "qty": "5", "unit": "kg"}, {"name": "面粉", "qty": "2.5", "unit": "kg"},
               {"name": "花生油", "qty": "1.8", "unit": "L"}]},
    {"name": "蔬菜套餐", "price_fen": 6800, "stock": 100, "per_household_limit": 3,
     "items": [{"name": "白菜", "qty": "1", "unit": "颗"}, {"name": "土豆", "qty": "2", "unit": "kg"},
               {"name": "西红柿", "qty": "1", "unit": "kg"}, {"name": "鸡蛋", "qty": "30", "unit": "枚"}]},
    {"name": "肉蛋奶套餐", "price_fen": 15800, "stock": 40, "per_household_limit": 1,
     "items": [{"name": "猪肉", "qty": "1", "unit": "kg"}, {"name": "鸡蛋", "qty": "30", "unit": "枚"},
               {"name": "纯牛奶", "qty": "12", "unit": "盒"}]},
]


def demo(bundles: list[dict] | None = None) -> dict:
    """A sub-district, a community with buildings and units, a supplier and an open round."""
    sub_district = create_sub_district("樊城区示范街道")
    community = communities.create(
        sub_district.sub_district_id, "幸福家园小区", DEMO_BUILDINGS,
        {"name": "北门配送点", "note": "北门岗亭旁，保持 2 米间距 / By the north gate lodge; keep 2 m apart"})
    supplier = create_supplier(sub_district.sub_district_id, "邻家便利超市", "13800000000")
    tokens = {
        "admin": create_staff("admin", sub_district.sub_district_id),
        "liaison": create_staff("liaison", community.community_id),
        "volunteer": create_staff("volunteer", community.community_id),
        "supplier": create_staff("supplier", supplier.supplier_id),
        "info_officer": assign_info_officer(community.community_id, "王阿姨"),
    }
    now = clock.now()
    created = rounds.create(auth.from_headers({"authorization": f"Bearer {tokens['supplier']}"}), {
        "name": "第1期 保供团购", "community_ids": [community.community_id], "supplier_id": None,
        "opens_at": now - timedelta(hours=1), "closes_at": now + timedelta(days=2),
        "payment_deadline": now + timedelta(days=2, hours=6),
        "payment_qr": "wxp://f2f0-demo-supplier-payment-code",
        "bundles": bundles or DEMO_BUNDLES,
    })
    return {"sub_district_id": sub_district.sub_district_id, "community_id": community.community_id,
            "join_key": community.join_key, "supplier_id": supplier.supplier_id,
            "round_id": created["round_id"], "bundle_ids": [b["bundle_id"] for b in created["bundles"]],
            "tokens": tokens}
