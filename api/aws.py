"""Lazily created, cached boto3 clients for the services other than DynamoDB (PynamoDB owns that one)."""
import functools

import boto3

from api import config


@functools.cache
def client(service: str):
    # Created on first use, not at import, so a cold Lambda start pays only for what it touches.
    return boto3.client(service, region_name=config.REGION, endpoint_url=config.AWS_ENDPOINT)
