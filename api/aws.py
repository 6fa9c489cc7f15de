"""Lazily created, cached clients for the services other than DynamoDB (PynamoDB owns that one)."""
import functools

import botocore.session


@functools.cache
def client(service: str):
    # botocore, not boto3: PynamoDB has loaded botocore already, and boto3's import
    # alone costs ~200 ms of every cold Lambda start. Created on first use, not at import.
    from api import config
    return botocore.session.get_session().create_client(service, region_name=config.REGION,
                                                        endpoint_url=config.AWS_ENDPOINT)
