"""The describe route of the Salesforce sandbox, and how seeds set up a picklist's values.

- ``GET sobjects/<Type>/describe/`` (REST "sObject Describe"; simple-salesforce's
  ``sf.restful("sobjects/Case/describe/")`` or ``sf.Case.describe()``): the object's
  metadata (``describe``: fields with their labels, types and picklist values; Case
  ``Status`` from the org's CaseStatus rows); an unknown object → 404 ``NOT_FOUND``
  [err]. Counted against the daily allocation like any call.
- ``set_picklist``: the values a picklist lists, active and retired, and for a dependent
  picklist its controlling field and which controlling values each value is valid for.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from .describe import describe_object
from .dispatch import Dispatch, Request
from .schema import Picklist
from .shapes import not_found


class DescribeRoutes(Dispatch):
    """``GET sobjects/<Type>/describe/`` and picklist set-up (a mixin of the sandbox)."""

    def set_picklist(
        self,
        sobject: str,
        name: str,
        values: Sequence[str],
        *,
        inactive: Sequence[str] = (),
        controller: str | None = None,
        valid_for: Mapping[str, Sequence[str]] | None = None,
    ) -> None:
        """The values a picklist field lists (``describe``), as an admin sets them up:
        ``values`` active, ``inactive`` retired. With ``controller`` the field is a
        dependent picklist: ``valid_for`` maps each value to the controller's values it
        is valid for. Writes are not restricted to the listed values (a restricted
        picklist is declared with ``add_field(values=...)``). Case ``Status`` lists the
        org's ``CaseStatus`` values instead."""
        with self._lock:
            obj = self.objects[sobject]
            spec = obj.field(name)
            if spec is None or spec.type != "picklist":
                raise ValueError(f"{sobject} has no picklist field {name!r}")
            if controller is not None and obj.field(controller) is None:
                raise ValueError(f"{sobject} has no field {controller!r} to control {name!r}")
            listed = Picklist(
                values=tuple(values),
                inactive=tuple(inactive),
                controller=controller,
                valid_for=tuple((v, tuple(c)) for v, c in (valid_for or {}).items()),
            )
            obj.add(replace(spec, picklist=listed))

    def _describe(self, request: Request, sobject: str) -> tuple[int, Any]:
        obj = self.objects.get(sobject)
        if obj is None:
            raise not_found()
        return 200, describe_object(obj, list(self.data["CaseStatus"].values()))


__all__ = ["DescribeRoutes"]
