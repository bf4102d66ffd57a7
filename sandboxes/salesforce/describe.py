"""``GET sobjects/<Type>/describe/``: an object's metadata as the org holds it.

Shape sources:

* the REST API "sObject Describe" resource (developer.salesforce.com, api-rest guide
  "Get Field and Other Metadata for an Object", ``dome_sobject_describe``): ``GET
  .../sobjects/Account/describe/`` answers ``{"name", "fields": [{"length", "name",
  "type", "defaultValue", "updateable", "label", ...}], "updateable", "label",
  "keyPrefix", "custom", "urls", "childRelationships", "createable", "customSetting",
  ...}``, the SOAP ``DescribeSObjectResult`` in JSON;
* the property names of a field and of the whole result as a public client types them:
  jsforce ``src/types/common.ts`` (``Field``, ``DescribeSObjectResult``);
* a picklist value: ``{"active", "defaultValue", "label", "validFor", "value"}`` (the
  SOAP ``PicklistEntry``; the same five keys in the REST answers public threads quote,
  ``validFor`` null for an independent picklist); ``value`` is the API name
  (``PicklistValueInfo.Value``), ``label`` what users see;
* ``validFor`` of a dependent picklist value: base64 of a bit set, bit ``i`` (byte ``i >>
  3``, mask ``0x80 >> i % 8``) set when the value is valid for the controlling field's
  ``i``-th listed value (``DescribeSObjectResult`` "dependent picklist" sample; a
  checkbox controller has two values, false then true: UI API "Picklist Values",
  ``controllerValues``). The bit set is padded to whole base64 groups (3 bytes: the
  4-character tokens such as ``"gAAA"`` seen in real answers; the exact length is
  unverified and no reader depends on it).

Case ``Status`` lists the org's ``CaseStatus`` rows (``ApiName`` as value,
``MasterLabel`` as label, ``IsDefault``), in ``SortOrder``. Standard Case field labels
follow the Case field reference ([case] in the reference); other labels are derived from
the API name. Properties this sandbox has no model for (formulas, encryption, masks,
help text, scale) are answered with their plain values (false, 0 or null).
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable, Mapping
from typing import Any

from .ids import KEY_PREFIXES
from .records import Json
from .schema import FieldDef, ObjectDef
from .shapes import DATA_PREFIX

CASE_LABELS: Mapping[str, str] = {
    "Id": "Case ID",
    "AccountId": "Account ID",
    "CaseNumber": "Case Number",
    "Origin": "Case Origin",
    "Reason": "Case Reason",
    "Type": "Case Type",
    "IsClosed": "Closed",
    "ClosedDate": "Closed Date",
    "ContactId": "Contact ID",
    "CreatedById": "Created By ID",
    "CreatedDate": "Created Date",
    "IsDeleted": "Deleted",
    "Description": "Description",
    "SuppliedEmail": "Email Address",
    "IsEscalated": "Escalated",
    "LastModifiedById": "Last Modified By ID",
    "LastModifiedDate": "Last Modified Date",
    "Priority": "Priority",
    "Status": "Status",
    "Subject": "Subject",
    "SystemModstamp": "System Modstamp",
}
"""Labels of the standard Case fields ([case]: the Case field reference, 228.0)."""
SOAP_TYPES: Mapping[str, str] = {
    "id": "tns:ID",
    "reference": "tns:ID",
    "string": "xsd:string",
    "textarea": "xsd:string",
    "picklist": "xsd:string",
    "boolean": "xsd:boolean",
    "datetime": "xsd:dateTime",
    "date": "xsd:date",
    "int": "xsd:int",
    "double": "xsd:double",
    "anyType": "xsd:anyType",
}
AUDIT = frozenset(
    {"Id", "IsDeleted", "SystemModstamp", "CreatedDate", "CreatedById", "LastModifiedDate",
     "LastModifiedById"}
)  # fmt: skip
"""Fields the platform fills: never null, defaulted on create."""
LONG_TEXT = 255
"""Text longer than this is a long text area: not filterable, sortable or groupable."""


def derived_label(name: str) -> str:
    """A label from an API name: ``Comentario_Interno__c`` -> "Comentario Interno",
    ``OwnerId`` -> "Owner ID", ``IsEscalated`` -> "Escalated" (unverified for fields the
    reference does not list: labels are the org's choice)."""
    if name.endswith("__c"):
        return name[: -len("__c")].replace("_", " ").strip()
    words = re.findall(r"[A-Z][a-z0-9]*|[a-z0-9]+", name)
    if len(words) > 1 and words[0] == "Is":
        words = words[1:]
    if words and words[-1] == "Id":
        words[-1] = "ID"
    return " ".join(words) or name


def _label(obj: ObjectDef, spec: FieldDef) -> str:
    if spec.label:
        return spec.label
    if obj.name == "Case" and spec.name in CASE_LABELS:
        return CASE_LABELS[spec.name]
    return derived_label(spec.name)


def listed_values(
    obj: ObjectDef, spec: FieldDef, statuses: Iterable[Json]
) -> list[tuple[str, str, bool, bool]]:
    """A picklist's values as describe lists them: (value, label, active, default)."""
    if obj.name == "Case" and spec.name == "Status":
        rows = sorted(statuses, key=lambda r: int(r.get("SortOrder") or 0))
        return [
            (str(r["ApiName"]), str(r.get("MasterLabel") or r["ApiName"]), True,
             bool(r.get("IsDefault")))
            for r in rows
            if not r.get("IsDeleted")
        ]  # fmt: skip
    if spec.picklist is not None:
        return [(value, value, active, False) for value, active in spec.picklist.entries()]
    return [(value, value, True, False) for value in spec.values]


def _controlling_values(obj: ObjectDef, name: str, statuses: Iterable[Json]) -> list[str]:
    """The controlling field's listed values in order (a checkbox: false, then true)."""
    controller = obj.field(name)
    if controller is None:
        return []
    if controller.type == "boolean":
        return ["false", "true"]
    return [value for value, _, _, _ in listed_values(obj, controller, statuses)]


def valid_for(controlling: list[str], valid: Iterable[str]) -> str:
    """The base64 bit set of the controlling values a dependent value is valid for."""
    wanted = set(valid)
    size = max(3, -(-len(controlling) // 8))
    size += -size % 3
    bits = bytearray(size)
    for index, value in enumerate(controlling):
        if value in wanted:
            bits[index >> 3] |= 0x80 >> (index % 8)
    return base64.b64encode(bytes(bits)).decode("ascii")


def _picklist_values(obj: ObjectDef, spec: FieldDef, statuses: list[Json]) -> list[Json]:
    picklist = spec.picklist
    controller = picklist.controller if picklist is not None else None
    dependent = controller is not None
    controlling: list[str] = []
    valid: dict[str, tuple[str, ...]] = {}
    if picklist is not None and controller is not None:
        controlling = _controlling_values(obj, controller, statuses)
        valid = dict(picklist.valid_for)
    return [
        {
            "active": active,
            "defaultValue": default,
            "label": label,
            "validFor": valid_for(controlling, valid.get(value, ())) if dependent else None,
            "value": value,
        }
        for value, label, active, default in listed_values(obj, spec, statuses)
    ]


def describe_field(obj: ObjectDef, spec: FieldDef, statuses: list[Json]) -> Json:
    """One entry of ``fields``."""
    kind = spec.type
    text = kind in ("string", "textarea", "picklist")
    long_text = kind == "textarea" and (spec.length or 0) > LONG_TEXT
    platform = spec.name in AUDIT
    picklist = kind == "picklist"
    controller = spec.picklist.controller if spec.picklist is not None else None
    length = spec.length if text else (18 if kind in ("id", "reference") else 0)
    case_default = obj.name == "Case" and spec.name in ("CaseNumber", "Status")
    defaulted = platform or case_default or kind == "boolean" or spec.name == "OwnerId"
    case_status = obj.name == "Case" and spec.name == "Status"
    restricted = picklist and (bool(spec.values) or case_status)
    return {
        "aggregatable": not long_text and kind not in ("anyType",),
        "autoNumber": obj.name == "Case" and spec.name == "CaseNumber",
        "byteLength": length * 3,
        "calculated": False,
        "calculatedFormula": None,
        "cascadeDelete": False,
        "caseSensitive": False,
        "compoundFieldName": None,
        "controllerName": controller,
        "createable": spec.createable,
        "custom": spec.name.endswith("__c"),
        "defaultValue": False if kind == "boolean" and spec.createable else None,
        "defaultValueFormula": None,
        "defaultedOnCreate": defaulted,
        "dependentPicklist": controller is not None,
        "deprecatedAndHidden": False,
        "digits": 0,
        "displayLocationInDecimal": False,
        "encrypted": False,
        "externalId": False,
        "extraTypeInfo": None,
        "filterable": not long_text,
        "filteredLookupInfo": None,
        "groupable": not long_text and kind not in ("datetime", "double", "anyType"),
        "highScaleNumber": False,
        "htmlFormatted": False,
        "idLookup": spec.name == "Id",
        "inlineHelpText": None,
        "label": _label(obj, spec),
        "length": length,
        "mask": None,
        "maskType": None,
        "name": spec.name,
        "nameField": spec.name == "Name",
        "namePointing": spec.polymorphic,
        "nillable": not platform and kind != "boolean" and spec.name != "CaseNumber",
        "permissionable": spec.name.endswith("__c") and kind != "boolean",
        "picklistValues": _picklist_values(obj, spec, statuses) if picklist else [],
        "polymorphicForeignKey": spec.polymorphic,
        "precision": 0,
        "queryByDistance": False,
        "referenceTargetField": None,
        "referenceTo": list(spec.reference_to),
        "relationshipName": spec.relationship,
        "relationshipOrder": None,
        "restrictedDelete": False,
        "restrictedPicklist": restricted,
        "scale": 0,
        "soapType": SOAP_TYPES.get(kind, "xsd:string"),
        "sortable": not long_text and kind != "anyType",
        "type": kind,
        "unique": False,
        "updateable": spec.updateable,
        "writeRequiresMasterRead": False,
    }


def object_label(name: str) -> str:
    """``CaseComment`` -> "Case Comment" (the standard objects' labels split so)."""
    return " ".join(re.findall(r"[A-Z][a-z0-9]*", name)) or name


def describe_object(obj: ObjectDef, statuses: list[Json]) -> Json:
    """The describe answer of one object (``statuses``: the org's CaseStatus rows)."""
    base = f"{DATA_PREFIX}/sobjects/{obj.name}"
    label = object_label(obj.name)
    children: list[Any] = [
        {
            "cascadeDelete": False,
            "childSObject": child.child,
            "deprecatedAndHidden": False,
            "field": child.field,
            "junctionIdListNames": [],
            "junctionReferenceTo": [],
            "relationshipName": child.name,
            "restrictedDelete": False,
        }
        for child in obj.children.values()
    ]
    return {
        "actionOverrides": [],
        "activateable": False,
        "childRelationships": children,
        "compactLayoutable": obj.api_writable,
        "createable": obj.api_writable,
        "custom": False,
        "customSetting": False,
        "deletable": obj.api_writable,
        "deprecatedAndHidden": False,
        "feedEnabled": obj.name == "Case",
        "fields": [describe_field(obj, spec, statuses) for spec in obj.fields.values()],
        "hasSubtypes": False,
        "isSubtype": False,
        "keyPrefix": KEY_PREFIXES.get(obj.name),
        "label": label,
        "labelPlural": label + "s",
        "layoutable": obj.api_writable,
        "listviewable": None,
        "lookupLayoutable": None,
        "mergeable": obj.name == "Case",
        "mruEnabled": obj.api_writable,
        "name": obj.name,
        "namedLayoutInfos": [],
        "networkScopeFieldName": None,
        "queryable": True,
        "recordTypeInfos": [
            {
                "active": True,
                "available": True,
                "defaultRecordTypeMapping": True,
                "developerName": "Master",
                "master": True,
                "name": "Master",
                "recordTypeId": "012000000000000AAA",
                "urls": {"layout": f"{base}/describe/layouts/012000000000000AAA"},
            }
        ],
        "replicateable": True,
        "retrieveable": True,
        "searchLayoutable": obj.api_writable,
        "searchable": obj.api_writable,
        "supportedScopes": [{"label": "All " + label + "s", "name": "everything"}],
        "triggerable": obj.api_writable,
        "undeletable": obj.api_writable,
        "updateable": obj.api_writable,
        "urls": {
            "compactLayouts": f"{base}/describe/compactLayouts",
            "rowTemplate": f"{base}/{{ID}}",
            "describe": f"{base}/describe",
            "sobject": base,
        },
    }


__all__ = ["CASE_LABELS", "derived_label", "describe_field", "describe_object", "valid_for"]
