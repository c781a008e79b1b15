"""The dashboard and HTTP API: read models from the store, decisions through the app.

``create_app(store_url, actions)`` builds the FastAPI app ``bulwark serve`` runs.
"""

from bulwark.api.actions import DashboardActions
from bulwark.api.app import create_app
from bulwark.api.eip712 import SignedDecision

__all__ = ["DashboardActions", "SignedDecision", "create_app"]
