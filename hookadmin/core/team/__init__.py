"""Team mode: one shared PostgreSQL database for every window and worker of a team.

:mod:`hookadmin.core.team.key` makes, keeps and moves the team key;
:mod:`hookadmin.core.team.secrets` keeps hook secrets in the database, encrypted
with it.
"""
