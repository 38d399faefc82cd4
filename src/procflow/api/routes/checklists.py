"""Placeholder router; filled in by the checklists work."""

from fastapi import APIRouter

from procflow.api.jsonbody import JsonRoute
from procflow.api.schemas.base import ERRORS

router = APIRouter(prefix="/organizations/{org_id}", tags=["checklists"], route_class=JsonRoute,
                   responses=ERRORS)
