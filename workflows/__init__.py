"""The Temporal side of an order: one durable workflow per order, its types and names.

Kept free of infrastructure imports: the workflow sandbox re-imports this package.
"""
