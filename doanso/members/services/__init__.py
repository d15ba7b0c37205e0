"""Every write to the member registry, split by concern. Each function owns its transaction, its audit record
and its timeline entry; views, the API, imports and commands call them.

- ``records``: create and update a record, bulk add, reveal sensitive fields (access log).
- ``lifecycle``: admission, transfer, attachment, rating, discipline, graduation, strike-off, resignation, death.
- ``selfservice``: member accounts, correction requests, data-update campaigns.
- ``imports``: committing a validated spreadsheet import.
"""

from .records import bulk_add_members

__all__ = ["bulk_add_members"]
