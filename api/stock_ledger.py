"""收发台账 a community's receive and distribute ledgers, and the balance of each category and unit.

Lines are append-only: a mistake is put right by a correction, a new line naming the line it
corrects. Every line is written in one transaction with its balance, conditional on the balance's
`seq` (how many lines it has seen) being the one read: the line's `balance_after` is then exact, and
a line that would take the balance below zero is refused before anything is written. Concurrent
writers that lose the race read again and retry (a bounded number of times), so parallel
distributions against one balance can never overdraw it.

A write sent with an Idempotency-Key (`Once`) also puts the key's record in that same transaction; a
replay, or a concurrent duplicate that loses the transaction to its twin, answers with the line the
key first wrote (read back), so a retry after a lost answer never moves a balance twice.
"""
import random
import time
from typing import NamedTuple

from pynamodb.exceptions import TransactWriteError
from pynamodb.transactions import TransactWrite

from api import clock, communities, cursors, idempotency, ids
from api.auth import Principal
from api.errors import NotFound, Refused, StorageBusy, storage_errors
from api.models import StockBalance, StockLine, transaction_connection

CONSOLE = ("liaison", "info_officer")
PAGE = 200
ATTEMPTS = 40


def _balance(community_id: str, category: str, unit: str) -> StockBalance:
    with storage_errors():
        try:
            return StockBalance.get(f"COMMUNITY#{community_id}", f"STOCK#{category}#{unit}", consistent_read=True)
        except StockBalance.DoesNotExist:
            return StockBalance(f"COMMUNITY#{community_id}", f"STOCK#{category}#{unit}", category=category, unit=unit,
                                balance=0, seq=0)


class Once(NamedTuple):
    """An Idempotency-Key sent with a write: the staff member it is scoped to, the key, the payload's hash."""

    caller: str
    key: str
    digest: str

    @classmethod
    def of(cls, caller: str, key: str | None, payload: dict) -> "Once | None":
        return None if key is None else cls(caller, key, idempotency.payload_hash(payload))

    def done(self):
        """The record a previous write under this key left (None if none); 409 if it was for another payload."""
        with storage_errors():
            return idempotency.find(self.caller, self.key, self.digest)


def replayed(once: Once | None) -> StockLine | None:
    """The line written earlier under this key, read back; None without a key or before its first write."""
    found = once.done() if once is not None else None
    if found is None:
        return None
    with storage_errors():
        return StockLine.get(found.result_pk, found.result_sk, consistent_read=True)


def once_only(once: Once | None, write) -> tuple[dict, bool]:
    """`write()` → (line, created), at most once per Idempotency-Key: (its view, created).

    A replay is answered with the key's first line before anything is checked (the allocation or the
    balance may have nothing left now, because of that very line). A refusal is answered the same way
    if a concurrent duplicate under the key got in first and took what this one would have taken.
    """
    earlier = replayed(once)
    if earlier is None:
        try:
            written, created = write()
            return view(written), created
        except Refused:
            earlier = replayed(once)
            if earlier is None:
                raise
    return view(earlier), False


def insufficient(balance: int, unit: str) -> Refused:
    return Refused(f"库存不足：只剩 {balance} {unit}", f"Not enough in stock: {balance} {unit} left",
                   code="insufficient_balance", fields={"quantity": [f"最多 / At most {balance}"]})


def write_line(community_id: str, line: StockLine, delta: int, *, also=None, refused=None,
               once: Once | None = None) -> tuple[StockLine, bool]:
    """Append `line` (its quantity is `delta`) and move the balance by `delta`, in one transaction:
    (the line, True).

    `also(transaction)` adds the caller's own conditional writes (an allocation's); when the transaction
    fails, `refused()` is asked to raise the caller's error if its own condition is what failed. With
    `once`, the key's record goes into the same transaction; if the transaction fails because that key
    has meanwhile written its line, the answer is that line, before `refused()` is asked: (it, False) when
    a concurrent duplicate wrote it, (it, True) when it is this very line (botocore retried a write whose
    answer was lost, and the retry met the write landed).
    """
    record = (idempotency.record(once.caller, once.key, once.digest, line.pk, line.sk)
              if once is not None else None)
    for attempt in range(ATTEMPTS):
        stock = _balance(community_id, line.category, line.unit)
        after = int(stock.balance) + delta
        if after < 0:
            raise insufficient(int(stock.balance), line.unit)
        line.quantity, line.balance_after = delta, after
        try:
            with storage_errors(), TransactWrite(connection=transaction_connection()) as transaction:
                transaction.save(line, condition=StockLine.pk.does_not_exist())
                if int(stock.seq) == 0:
                    stock.balance, stock.seq = after, 1
                    transaction.save(stock, condition=StockBalance.pk.does_not_exist())
                else:
                    transaction.update(stock, actions=[StockBalance.balance.set(after), StockBalance.seq.add(1)],
                                       condition=StockBalance.seq == int(stock.seq))
                if record is not None:
                    transaction.save(record, condition=idempotency.put_condition())
                if also is not None:
                    also(transaction)
            return line, True
        except TransactWriteError:
            earlier = replayed(once)
            if earlier is not None:
                # Our own line when botocore's retry met our landed write: then it was made now.
                return earlier, earlier.line_id == line.line_id
            if refused is not None:
                refused()
            # Another line got in first: read the balance again.
            time.sleep(random.uniform(0.002, 0.02) * min(attempt + 1, 5))
    raise StorageBusy("台账正忙，请稍后再试", "The ledger is busy; please retry", headers={"Retry-After": "1"})


def new_line(community_id: str, kind: str, category: str, unit: str, by: str, **fields) -> StockLine:
    line_id = ids.new_id()
    return StockLine(f"COMMUNITY#{community_id}", f"STOCKLINE#{line_id}", line_id=line_id, line_kind=kind,
                     category=category, unit=unit, quantity=0, balance_after=0, by=by, at=clock.now(), **fields)


def view(line: StockLine) -> dict:
    return {"line_id": line.line_id, "kind": line.line_kind, "category": line.category, "unit": line.unit,
            "quantity": int(line.quantity), "balance_after": int(line.balance_after),
            "allocation_id": line.allocation_id, "to": line.to.as_dict() if line.to else None,
            "corrects": line.corrects, "reason": line.reason, "note": line.note, "by": line.by,
            "at": clock.iso(line.at)}


def ledger(principal: Principal, community_id: str, query: dict) -> dict:
    """Balances, and the lines newest first (a page of 200): two Queries."""
    communities.for_staff(principal, community_id, roles=(*CONSOLE, "admin"))
    pk = f"COMMUNITY#{community_id}"
    with storage_errors():
        balances = [b for b in StockBalance.query(pk, StockBalance.sk.startswith("STOCK#"), consistent_read=True)
                    if query.get("category") in (None, b.category) and query.get("unit") in (None, b.unit)]
        page = StockLine.query(pk, StockLine.sk.startswith("STOCKLINE#"), consistent_read=True,
                               scan_index_forward=False, limit=PAGE,
                               last_evaluated_key=cursors.decode(query.get("cursor"), pk, "STOCKLINE#"))
        lines = [line for line in page
                 if query.get("category") in (None, line.category) and query.get("unit") in (None, line.unit)]
        next_key = page.last_evaluated_key
    return {"balances": [{"category": b.category, "unit": b.unit, "balance": int(b.balance)} for b in balances],
            "lines": [view(line) for line in lines], "next_cursor": cursors.encode(next_key)}


def correct(principal: Principal, community_id: str, line_id: str, delta: int, reason: str,
            key: str | None = None) -> tuple[dict, bool]:
    """更正: a new line that names the one it corrects and moves the balance by `delta` (never below 0):
    (the line, True); or, under an Idempotency-Key already used for this same correction, (that line, False)."""
    communities.for_staff(principal, community_id, roles=CONSOLE)
    once = Once.of(principal.subject, key, {"community_id": community_id, "line_id": line_id,
                                            "quantity_delta": delta, "reason": reason})

    def write():
        with storage_errors():
            try:
                wrong = StockLine.get(f"COMMUNITY#{community_id}", f"STOCKLINE#{line_id}", consistent_read=True)
            except StockLine.DoesNotExist:
                raise NotFound("没有这一行台账", "No such ledger line") from None
        line = new_line(community_id, "correction", wrong.category, wrong.unit, principal.subject,
                        corrects=line_id, reason=reason, allocation_id=wrong.allocation_id)
        return write_line(community_id, line, delta, once=once)
    return once_only(once, write)
