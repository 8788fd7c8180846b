"""Pulling FOCUS exports from where the clouds deliver them (S3, Azure Blob Storage, GCS).

``stores`` speak to each cloud through its own SDK, ``discovery`` finds deliveries in each
cloud's export layout, ``sync`` turns new or changed deliveries into import jobs
(docs/cost-data.md, "Pulling exports from the clouds").
"""
