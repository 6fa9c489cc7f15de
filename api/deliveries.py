"""入场审批 pre-approval: a supplier registers a vehicle's delivery to a site; the site's reviewer decides.

Plan 2: a vehicle is registered the day before (提前一天), with its plate and type, the people in it and,
for each, the checklist: 健康码绿码, 14 天行程, 身份核验, 48 小时核酸阴性, 签字承诺书 — a file each, sent
by the browser straight to S3 with a presigned POST and checked here by its first bytes. The rules hold
against the arrival window: registered inside the lead time, a test taken after arrival or too long before
it, a missing document — each is refused with what to fix, and nothing is written. ID numbers are masked in
every answer; phones too, except for the supplier that registered them.
"""
from datetime import datetime, timedelta

from botocore.exceptions import ClientError
from pynamodb.exceptions import TransactWriteError
from pynamodb.transactions import TransactWrite

from api import aws, clock, config, gate_log, idempotency, ids, plates, rounds, sites
from api.auth import SITE_ROLES, Principal
from api.errors import BadInput, Conflict, NotFound, Refused, storage_errors
from api.households import mask_phone
from api.models import Delivery, Person, Site, transaction_connection

DOCUMENTS = {"health_code": ("健康码绿码", "green health code"),
             "travel_record": ("14天行程记录", "14-day travel record"),
             "identity": ("身份核验", "identity check"),
             "test_report": ("48小时核酸阴性证明", "negative test report"),
             "commitment": ("签字承诺书", "signed commitment")}
CARGO = ("rice", "flour", "oil", "meat", "eggs", "milk", "vegetables", "fresh", "protective", "urgent")
VEHICLE_TYPES = ("van", "truck", "refrigerated", "minivan", "car", "other")
MAX_BYTES = 5 * 1024 * 1024
UPLOAD_SECONDS = 15 * 60
LINK_SECONDS = 10 * 60
MAX_WINDOW = timedelta(hours=24)
_PREFIX = "gate-docs/"
_MAGIC = ((b"\x89PNG\r\n\x1a\n", "image/png"), (b"\xff\xd8\xff", "image/jpeg"), (b"%PDF-", "application/pdf"))
_MISSING = ("404", "NoSuchKey", "403", "AccessDenied")


def presign(principal: Principal, site_id: str) -> dict:
    """A presigned S3 POST for one checklist file (PNG, JPEG or PDF up to 5 MB), in the supplier's folder."""
    sites.for_caller(principal, site_id, staff=(), supplier=True)
    key = f"{_PREFIX}{principal.scope_id}/{ids.new_id()}"
    post = aws.client("s3").generate_presigned_post(
        Bucket=config.UPLOADS_BUCKET, Key=key, ExpiresIn=UPLOAD_SECONDS,
        Conditions=[["content-length-range", 1, MAX_BYTES], ["starts-with", "$Content-Type", ""]])
    return {"url": post["url"], "fields": post["fields"], "key": key, "max_bytes": MAX_BYTES,
            "content_types": [t for _, t in _MAGIC]}


def _document_problem(principal: Principal, key: str) -> tuple[str, str] | None:
    """What is wrong with an uploaded checklist file, or None."""
    if not key.startswith(f"{_PREFIX}{principal.scope_id}/") or len(key) > 120:
        return "不是您上传的文件，请重新上传", "Not one of your uploads; upload it again"
    s3 = aws.client("s3")
    try:
        size = s3.head_object(Bucket=config.UPLOADS_BUCKET, Key=key)["ContentLength"]
        if size > MAX_BYTES:
            return "文件不能超过 5 MB", "The file is over 5 MB"
        first = s3.get_object(Bucket=config.UPLOADS_BUCKET, Key=key, Range="bytes=0-15")["Body"].read() if size else b""
    except ClientError as err:
        if err.response.get("Error", {}).get("Code") not in _MISSING:
            raise
        return "找不到上传的文件，请重新上传", "The upload was not found; upload it again"
    if not any(first.startswith(magic) for magic, _ in _MAGIC):
        return "文件应为照片（PNG、JPEG）或 PDF", "The file must be a photo (PNG, JPEG) or a PDF"
    return None


def _check_shape(data: dict) -> None:
    """400s: the window, the people, their ID numbers and which documents are missing."""
    problems: dict = {}
    if data["arrive_until"] <= data["arrive_from"] or data["arrive_until"] - data["arrive_from"] > MAX_WINDOW:
        problems["arrive_until"] = ["到达时段应在开始之后，且不超过 24 小时 / The window must end after it starts, within 24 hours"]
    if [p["role"] for p in data["people"]].count("driver") != 1:
        problems["people"] = ["须有且只有一名司机 / Exactly one driver"]
    for i, person in enumerate(data["people"]):
        if not plates.is_id_number(person["id_number"]):
            problems[f"people.{i}.id_number"] = ["身份证号应为 18 位且校验位正确 / An 18-character ID number with a valid check digit"]
        for name, (zh, en) in DOCUMENTS.items():
            if not (person.get("documents") or {}).get(name):
                problems[f"people.{i}.documents.{name}"] = [f"缺少{zh} / The {en} is missing"]
    if problems:
        missing = any(".documents." in f for f in problems)
        raise BadInput("材料不全，请补齐后再报备" if missing else "输入有误，请按提示修改",
                       "Documents are missing; add them and register again" if missing
                       else "Invalid input; fix the fields listed", fields=problems)


def _check_rules(site: Site, data: dict, now: datetime) -> None:
    """422s: the plan's rules against the arrival window."""
    lead = timedelta(hours=int(site.lead_hours))
    if now > data["arrive_from"] - lead:
        raise Refused(f"须在到达前 {int(site.lead_hours)} 小时报备，请改约更晚的到达时间",
                      f"Register at least {int(site.lead_hours)} hours before arrival; choose a later window",
                      code="too_late", fields={"arrive_from": [f"最早可约 / Earliest: {clock.shanghai(now + lead)}"]})
    valid = timedelta(hours=int(site.test_valid_hours))
    for i, person in enumerate(data["people"]):
        field = f"people.{i}.test_at"
        if person["test_at"] > data["arrive_from"] or person["test_at"] > now:
            raise Refused("核酸检测时间不能晚于到达时间，也不能是将来的时间",
                          "The test cannot be dated after the arrival, nor in the future",
                          code="test_after_arrival", fields={field: ["时间不对 / Wrong date"]})
        if person["test_at"] < data["arrive_until"] - valid:
            raise Refused(f"{person['name']} 的核酸检测到到达时已超过 {int(site.test_valid_hours)} 小时，请重新检测",
                          f"{person['name']}'s test will be older than {int(site.test_valid_hours)} h at arrival; test again",
                          code="test_expired", fields={field: [f"超过 {int(site.test_valid_hours)} 小时 / Too old"]})


def _check_uploads(principal: Principal, data: dict) -> None:
    problems = {}
    for i, person in enumerate(data["people"]):
        for name in DOCUMENTS:
            problem = _document_problem(principal, person["documents"][name])
            if problem:
                problems[f"people.{i}.documents.{name}"] = [" / ".join(problem)]
    if problems:
        raise BadInput("有文件无效，请重新上传", "Some files are not valid; upload them again", fields=problems)


def _check_rounds(principal: Principal, site: Site, round_ids: list[str]) -> None:
    for i, round_id in enumerate(round_ids):
        try:
            rnd = rounds.get(round_id)
        except NotFound:
            rnd = None
        if (rnd is None or rnd.supplier_id != principal.scope_id
                or (site.community_id and site.community_id not in rnd.community_ids)):
            raise BadInput("这不是您发往该小区的团购", "That is not one of your rounds for this site",
                           fields={"round_ids": {i: ["团购不存在或不送往该小区 / Not your round for this site"]}})


def register(principal: Principal, site_id: str, data: dict, key: str | None) -> tuple[dict, bool]:
    """(the delivery, True), or (the same delivery, False) for a repeat under the same Idempotency-Key."""
    site = sites.get(site_id)
    supplier = sites.supplier_of_site(principal, site)   # read once: its name goes into the delivery
    if supplier is None:
        raise sites.no_such_site()
    digest = idempotency.payload_hash({"site": site_id, **data}) if key else None
    if key:
        with storage_errors():
            done = idempotency.find(principal.subject, key, digest)
        if done is not None:
            return view(Delivery.get(done.result_pk, done.result_sk, consistent_read=True), principal), False
    plate = plates.check(data["plate"])
    _check_shape(data)
    now = clock.now()
    _check_rules(site, data, now)
    _check_uploads(principal, data)
    round_ids = list(dict.fromkeys(data.get("round_ids") or []))
    _check_rounds(principal, site, round_ids)
    day = data["arrive_from"].astimezone(clock.SHANGHAI)
    registration = ids.new_id()
    delivery_id = f"{day:%Y%m%d}-{registration}"
    delivery = Delivery(
        f"SITE#{site_id}", f"DELIVERY#{delivery_id}", gsi1pk=f"SUPPLIER#{principal.scope_id}",
        gsi1sk=f"DELIVERY#{registration}", delivery_id=delivery_id, site_id=site_id, supplier_id=supplier.supplier_id,
        supplier_name=supplier.name, plate=plate, vehicle_type=data["vehicle_type"], mode=data["mode"],
        arrive_from=data["arrive_from"], arrive_until=data["arrive_until"], cargo=list(dict.fromkeys(data["cargo"])),
        round_ids=round_ids, note=data.get("note", ""), status="submitted", registered_by=principal.subject,
        created_at=now,
        people=[Person(role=p["role"], name=p["name"], id_number=p["id_number"].upper(), phone=p["phone"],
                       test_at=p["test_at"], documents={n: p["documents"][n] for n in DOCUMENTS})
                for p in data["people"]])
    try:
        with storage_errors(), TransactWrite(connection=transaction_connection()) as transaction:
            transaction.save(delivery, condition=Delivery.pk.does_not_exist())
            transaction.save(gate_log.event(site_id, "registered", principal, delivery))
            if key:
                transaction.save(idempotency.record(principal.subject, key, digest, delivery.pk, delivery.sk),
                                 condition=idempotency.put_condition())
    except TransactWriteError:
        # The same key, sent twice at once: the other request wrote it.
        raise Conflict("同一报备正在提交，请稍后刷新", "The same registration is being sent; reload in a moment",
                       code="in_progress") from None
    return view(delivery, principal), True


def get(site_id: str, delivery_id: str) -> Delivery:
    with storage_errors():
        try:
            return Delivery.get(f"SITE#{site_id}", f"DELIVERY#{delivery_id}", consistent_read=True)
        except Delivery.DoesNotExist:
            raise NotFound("没有这个车辆报备", "No such delivery", code="no_such_delivery") from None


def for_caller(principal: Principal, site_id: str, delivery_id: str, *, staff=SITE_ROLES,
               supplier: bool = True) -> tuple[Site, Delivery]:
    """The site and the delivery, for its managers, `staff` of the site, or (with `supplier`) the supplier
    that registered it; else 404."""
    if principal.role == "supplier":
        if not supplier:
            raise NotFound("没有这个车辆报备", "No such delivery", code="no_such_delivery")
        delivery = get(site_id, delivery_id)
        if delivery.supplier_id != principal.scope_id:
            raise NotFound("没有这个车辆报备", "No such delivery", code="no_such_delivery")
        return sites.get(site_id), delivery
    site = sites.for_caller(principal, site_id, staff=staff)
    return site, get(site_id, delivery_id)


def _person(person: Person, own: bool, index: int) -> dict:
    return {"index": index, "role": person.role, "name": person.name, "id_masked": plates.mask_id(person.id_number),
            "phone": person.phone if own else None, "phone_masked": mask_phone(person.phone),
            "test_at": clock.iso(person.test_at), "documents": {n: bool(person.documents[n]) for n in DOCUMENTS}}


def view(delivery: Delivery, principal: Principal) -> dict:
    own = principal.role == "supplier" and principal.scope_id == delivery.supplier_id
    point = delivery.point
    return {
        "delivery_id": delivery.delivery_id, "site_id": delivery.site_id, "supplier_id": delivery.supplier_id,
        "supplier_name": delivery.supplier_name, "plate": delivery.plate, "vehicle_type": delivery.vehicle_type,
        "mode": delivery.mode, "arrive_from": clock.iso(delivery.arrive_from),
        "arrive_until": clock.iso(delivery.arrive_until), "cargo": list(delivery.cargo),
        "round_ids": list(delivery.round_ids), "note": delivery.note, "status": delivery.status,
        "people": [_person(p, own, i) for i, p in enumerate(delivery.people)],
        "review": None if delivery.review_decision is None else {
            "decision": delivery.review_decision, "reason": delivery.review_reason, "by": delivery.reviewed_by,
            "at": clock.iso(delivery.reviewed_at)},
        "gate": {
            "arrived_at": clock.iso(delivery.arrived_at), "outside_window": bool(delivery.outside_window),
            "disinfections": [{"stage": d.stage, "operator": d.operator, "disinfectant": d.disinfectant,
                               "ratio": d.ratio, "at": clock.iso(d.at), "by": d.by} for d in delivery.disinfections],
            "rest_ends_at": clock.iso(delivery.rest_ends_at),
            "point": None if point is None else {"point_id": point.point_id, "name": point.name, "route": point.route},
            "released_at": clock.iso(delivery.released_at), "unloaded_at": clock.iso(delivery.unloaded_at),
            "departed_at": clock.iso(delivery.departed_at), "set_down_at": clock.iso(delivery.set_down_at),
            "left_at": clock.iso(delivery.left_at)},
        "server_now": clock.iso(clock.now()),
    }


def one(principal: Principal, site_id: str, delivery_id: str) -> dict:
    return view(for_caller(principal, site_id, delivery_id)[1], principal)


def of_day(principal: Principal, site_id: str, day: str | None, status: str | None) -> dict:
    """The deliveries arriving on a Beijing day, in arrival order: one Query on the day's prefix."""
    sites.for_caller(principal, site_id)
    when = clock.day_of(day)
    with storage_errors():
        found = list(Delivery.query(f"SITE#{site_id}", Delivery.sk.startswith(f"DELIVERY#{when:%Y%m%d}-"),
                                    consistent_read=True))
    found = [d for d in found if status in (None, "", d.status)]
    found.sort(key=lambda d: (d.arrive_from, d.delivery_id))
    return {"day": when.isoformat(), "deliveries": [view(d, principal) for d in found]}


def of_supplier(principal: Principal) -> dict:
    with storage_errors():
        found = list(Delivery.by_owner.query(f"SUPPLIER#{principal.scope_id}", Delivery.gsi1sk.startswith("DELIVERY#"),
                                             scan_index_forward=False, limit=100))
    return {"deliveries": [view(d, principal) for d in found]}


def document_link(principal: Principal, site_id: str, delivery_id: str, index: int, name: str) -> dict:
    _, delivery = for_caller(principal, site_id, delivery_id, staff=("reviewer", "supervisor"))
    if name not in DOCUMENTS or not 0 <= index < len(delivery.people):
        raise NotFound("没有这份材料", "No such document")
    url = aws.client("s3").generate_presigned_url("get_object", ExpiresIn=LINK_SECONDS, Params={
        "Bucket": config.UPLOADS_BUCKET, "Key": delivery.people[index].documents[name]})
    return {"url": url}


def review(principal: Principal, site_id: str, delivery_id: str, decision: str, reason: str) -> dict:
    """审核: approve, or reject with a reason. The supplier's own staff never reach this (a site role only)."""
    site, delivery = for_caller(principal, site_id, delivery_id, staff=("reviewer",), supplier=False)
    if decision == "reject" and not reason.strip():
        raise BadInput("不通过时请写明原因", "Give the reason for a rejection", fields={"reason": ["必填 / Required"]})
    if delivery.status != "submitted":
        raise Conflict("这辆车已经审核过了", "This delivery was already reviewed", code="already_reviewed")
    now = clock.now()
    if decision == "approve" and now > delivery.arrive_until:
        raise Refused("到达时段已过，不能再批准；请供应商重新报备", "The arrival window has passed; the supplier must register again",
                      code="window_passed")
    status = "approved" if decision == "approve" else "rejected"
    try:
        with storage_errors(), TransactWrite(connection=transaction_connection()) as transaction:
            transaction.save(gate_log.event(site.site_id, status, principal, delivery,
                                            details={"reason": reason} if reason else None))
            transaction.update(delivery, actions=[
                Delivery.status.set(status), Delivery.review_decision.set(decision),
                Delivery.review_reason.set(reason or None), Delivery.reviewed_by.set(principal.subject),
                Delivery.reviewed_at.set(now)], condition=Delivery.status == "submitted")
    except TransactWriteError:
        raise Conflict("这辆车已经审核过了", "This delivery was already reviewed", code="already_reviewed") from None
    return view(get(site_id, delivery_id), principal)
