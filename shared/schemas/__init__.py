"""The schema layer: pydantic models that validate input, serialise output and document both.

- `guide`: the guide document (YAML or JSON); `shared.guides.validate` runs it.
- `rest`: every REST request body, query and response of API v1.
- `errors`: refusals as `(place, message)` pairs in the request's language, and the contract's
  422 body built from them.
- `openapi`: the `operation` decorator the API's views carry, and the OpenAPI 3.1 document
  generated from the app's URL map and these models.
- `fields`: the text rules every model shares (line breaks, control characters, lengths).

Nothing here touches the database or imports a blueprint. Why pydantic: docs/architecture.md#schemas.
"""
