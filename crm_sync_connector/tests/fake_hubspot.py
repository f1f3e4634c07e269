"""The HubSpot part of the fake CRM (bearer token must be ``hubspot_token``).

``POST /crm/v3/objects/companies/batch/upsert`` (max 100 inputs, unique ids,
string values; optional ``hubspot_property_names`` makes unknown properties
fail that input with a 207), ``GET /crm/v3/objects/companies``,
``POST /crm/v3/objects/notes`` (association to an existing company, type 190).

State: ``hubspot_companies`` (keyed by the id property value, so one record per
tenant whatever the retries; properties merged, newest wins), ``hubspot_notes``.
A mixin of ``fake_crm_server.FakeCrmServer``, which owns the lock and the ids.
"""

from .fake_crm_wire import Reply, json_or_none, now_iso

HUBSPOT_TOKEN = "pat-na1-fake-hubspot-token-0123456789"
PATH_PREFIX = "/crm/v3/"


def hubspot_error(status, message, category="VALIDATION_ERROR"):
    return Reply(status, {"status": "error", "message": message, "category": category})


class FakeHubSpot:
    """HubSpot's CRM v3 objects API, as far as the connector uses it."""

    HUBSPOT_TOKEN = HUBSPOT_TOKEN

    def _reset_hubspot(self):
        self.hubspot_companies = {}
        self.hubspot_notes = []

    def _hubspot(self, record):
        if record.header("Authorization") != f"Bearer {self.hubspot_token}":
            return hubspot_error(
                401, "Authentication credentials not found.", "INVALID_AUTHENTICATION"
            )
        route = (record.method, record.path)
        if route == ("POST", "/crm/v3/objects/companies/batch/upsert"):
            return self._hubspot_upsert(record)
        if route == ("GET", "/crm/v3/objects/companies"):
            with self._lock:
                companies = list(self.hubspot_companies.values())[:1]
            return Reply(200, {"results": companies})
        if route == ("POST", "/crm/v3/objects/notes"):
            return self._hubspot_note(record)
        return hubspot_error(404, f"no route for {record.method} {record.path}", "NOT_FOUND")

    def _hubspot_upsert(self, record):
        inputs = json_or_none(record.body, dict).get("inputs")
        problem = _hubspot_batch_problem(inputs)
        if problem:
            return hubspot_error(400, problem)
        results, errors = [], []
        with self._lock:
            for item in inputs:
                unknown = self._hubspot_unknown_properties(item["properties"])
                if unknown:
                    errors.append({"status": "error", "message": f"Property {unknown} unknown"})
                    continue
                results.append(self._hubspot_store(item))
        body = {"status": "COMPLETE", "results": results, "completedAt": now_iso()}
        if errors:
            body.update(errors=errors, numErrors=len(errors))
        return Reply(207 if errors else 200, body)

    def _hubspot_unknown_properties(self, properties):
        if self.hubspot_property_names is None:
            return None
        unknown = sorted(set(properties) - set(self.hubspot_property_names))
        return ", ".join(unknown) or None

    def _hubspot_store(self, item):
        key = str(item["id"])
        company = self.hubspot_companies.get(key)
        is_new = company is None
        if is_new:
            company = {"id": self._new_id(), "properties": {}, "createdAt": now_iso()}
            company["idProperty"] = item["idProperty"]
            self.hubspot_companies[key] = company
        company["properties"].update(item["properties"])
        company["properties"][item["idProperty"]] = key
        company["updatedAt"] = now_iso()
        return {
            "id": company["id"],
            "properties": dict(company["properties"]),
            "createdAt": company["createdAt"],
            "updatedAt": company["updatedAt"],
            "archived": False,
            "new": is_new,
        }

    def _hubspot_note(self, record):
        body = json_or_none(record.body, dict)
        properties = body.get("properties") or {}
        if not properties.get("hs_note_body") or not properties.get("hs_timestamp"):
            return hubspot_error(400, "hs_note_body and hs_timestamp are required")
        with self._lock:
            company_ids = _note_company_ids(body.get("associations"))
            known = {company["id"] for company in self.hubspot_companies.values()}
            if company_ids is None or not set(company_ids) <= known:
                return hubspot_error(400, "One or more associations are invalid")
            note = {"id": self._new_id(), "properties": properties, "company_ids": company_ids}
            self.hubspot_notes.append(note)
        return Reply(201, {"id": note["id"], "properties": properties, "createdAt": now_iso()})


def _hubspot_batch_problem(inputs):
    if not isinstance(inputs, list) or not inputs:
        return "inputs must be a non-empty list"
    if len(inputs) > 100:
        return f"Batch input limit is 100, got {len(inputs)}"
    ids = []
    for item in inputs:
        if not isinstance(item, dict) or not item.get("idProperty") or item.get("id") is None:
            return "each input needs idProperty and id"
        properties = item.get("properties")
        if not isinstance(properties, dict):
            return "each input needs properties"
        if not all(isinstance(value, str) for value in properties.values()):
            return "property values must be strings"
        ids.append(str(item["id"]))
    if len(set(ids)) != len(ids):
        return "Duplicate IDs found in batch input"
    return None


def _note_company_ids(associations):
    """Company ids of note-to-company associations, ``None`` when one is malformed."""
    company_ids = []
    for association in associations or []:
        types = association.get("types") or []
        valid_type = any(
            t.get("associationCategory") == "HUBSPOT_DEFINED" and t.get("associationTypeId") == 190
            for t in types
        )
        target = (association.get("to") or {}).get("id")
        if not valid_type or not target:
            return None
        company_ids.append(str(target))
    return company_ids or None
