"""Check a test response against the OpenAPI schema the portal publishes (/api/schema/).

`assert_documented(response, "GET", "/api/v1/records/")`: the status code is listed for that operation and the
body matches its schema. The schemathesis run (`make fuzz`) checks the same on generated input; this pins the cases
it found as ordinary regression tests.
"""

import functools

import jsonschema
from drf_spectacular.generators import SchemaGenerator


@functools.cache
def published_schema() -> dict:
    return SchemaGenerator().get_schema(request=None, public=True)


def _nullable_to_json_schema(node):
    """OpenAPI 3.0 says `nullable: true`; JSON Schema says `null` is one of the types."""
    if isinstance(node, list):
        return [_nullable_to_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    converted = {key: _nullable_to_json_schema(value) for key, value in node.items() if key != "nullable"}
    if node.get("nullable"):
        return {"anyOf": [converted, {"type": "null"}]}
    return converted


def assert_documented(response, method: str, path: str) -> None:
    schema = published_schema()
    operation = schema["paths"][path][method.lower()]
    documented = operation["responses"]
    assert str(response.status_code) in documented, (
        f"{method} {path} answered {response.status_code}, documented: {sorted(documented)}"
    )
    content = documented[str(response.status_code)].get("content", {}).get("application/json")
    if content is None:
        return
    body_schema = {
        **_nullable_to_json_schema(content["schema"]),
        "components": _nullable_to_json_schema(schema.get("components", {})),
    }
    jsonschema.validate(response.json(), body_schema)
