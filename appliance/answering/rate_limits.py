"""How often one person may ask through the API (API_ASK_RATE, e.g. "30/min").

Every question takes a worker's time and writes a ledger entry, so one token must not queue
hundreds a minute. The counts live in the cache (CACHES), which all web processes share.
"""
from django.conf import settings
from rest_framework.throttling import UserRateThrottle


class AskRateThrottle(UserRateThrottle):
    scope = "ask"

    def get_rate(self) -> str:
        # Read at each request, not once at import as DRF's THROTTLE_RATES is, so the setting is the truth.
        return settings.API_ASK_RATE
