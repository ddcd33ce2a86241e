"""A SMART App Launch 2 / OpenID Connect authorization server for the tests (Authlib, Flask)."""

from auth_server.server import Client, Principal, SmartAuthServer, User

__all__ = ["Client", "Principal", "SmartAuthServer", "User"]
