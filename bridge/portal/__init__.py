"""The Customer Service Portal's HTTP API over the visibility index."""

from bridge.portal.app import create_portal_app
from bridge.portal.server import PortalServer

__all__ = ["PortalServer", "create_portal_app"]
