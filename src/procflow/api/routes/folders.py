"""Placeholder router; filled in by the folders work."""

from fastapi import APIRouter

from procflow.api.jsonbody import JsonRoute
from procflow.api.schemas.base import ERRORS

router = APIRouter(prefix="/organizations/{org_id}", tags=["folders"], route_class=JsonRoute,
                   responses=ERRORS)
