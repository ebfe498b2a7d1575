"""Request and response models, one module per resource: they validate input and feed the
OpenAPI document.

Responses are serialized by the core's codec (`core.order.public_order`); the response
models document that shape, and the tests check the two agree.
"""
