"""Tenants (inspectorates), users, roles, sign-in, isolation and the audit log."""
