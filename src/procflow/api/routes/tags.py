"""Placeholder router; filled in by the tags work."""

from fastapi import APIRouter

from procflow.api.jsonbody import JsonRoute
from procflow.api.schemas.base import ERRORS

router = APIRouter(prefix="/organizations/{org_id}", tags=["tags"], route_class=JsonRoute,
                   responses=ERRORS)
