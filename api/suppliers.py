"""供应商 suppliers: the shops, platforms and supermarkets a sub-district vets (保供单位)."""
from pynamodb.transactions import TransactWrite

from api import ids
from api.errors import NotFound, storage_errors
from api.models import SubDistrictListing, Supplier, transaction_connection


def get(supplier_id: str) -> Supplier:
    with storage_errors():
        try:
            return Supplier.get(f"SUPPLIER#{supplier_id}", "SUPPLIER")
        except Supplier.DoesNotExist:
            raise NotFound("供应商不存在", "No such supplier") from None


def create(sub_district_id: str, name: str, phone: str = "") -> Supplier:
    """Register a supplier with a sub-district (bootstrap and demo until suppliers get their own route)."""
    supplier_id = ids.new_id()
    supplier = Supplier(f"SUPPLIER#{supplier_id}", "SUPPLIER", supplier_id=supplier_id,
                        sub_district_id=sub_district_id, name=name, phone=phone)
    listing = SubDistrictListing(f"SUBDISTRICT#{sub_district_id}", f"SUPPLIER#{supplier_id}",
                                 listed_id=supplier_id, name=name)
    with TransactWrite(connection=transaction_connection()) as transaction:
        transaction.save(supplier, condition=Supplier.pk.does_not_exist())
        transaction.save(listing, condition=SubDistrictListing.pk.does_not_exist())
    return supplier
