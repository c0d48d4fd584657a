# Copyright 2025 Odoo Search Lib contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, models
from odoo.tools import SQL

from odoo.addons.base.models.res_users import INDEX_SIZE, KEY_CRYPT_CONTEXT

#: Odoo's keys are 40 hex characters; anything much longer is not a key.
MAX_KEY_CHARS = 256


class ResUsersApikeys(models.Model):
    _inherit = "res.users.apikeys"

    @api.model
    def _semantic_check_scoped_key(self, scopes, key):
        """``(user id, scope)`` of the active, unexpired key ``key`` whose scope is one of ``scopes``.

        Core ``_check_credentials(scope=..., key=...)`` also accepts global keys (scope NULL,
        the ``rpc`` keys of *Account Security*) for every scope; an API that must not take a
        key with full XML-RPC power needs the scope to match exactly, hence this query, the
        same as core's with ``scope IS NULL`` left out.
        """
        if not key or not scopes or len(key) > MAX_KEY_CHARS or not (key.isascii() and key.isprintable()):
            # passlib raises on very long secrets, and HMAC pads keys with NULs (so "key\0"
            # would verify as "key"): such a header reads as a wrong key
            return None
        self.env.cr.execute(
            SQL(
                """
                SELECT k.user_id, k.scope, k.key
                  FROM res_users_apikeys k
                  JOIN res_users u ON u.id = k.user_id
                 WHERE u.active AND k.index = %s AND k.scope IN %s
                   AND (k.expiration_date IS NULL OR k.expiration_date >= now() at time zone 'utc')
                """,
                key[:INDEX_SIZE],
                tuple(scopes),
            )
        )
        for user_id, scope, hashed in self.env.cr.fetchall():
            if KEY_CRYPT_CONTEXT.verify(key, hashed):
                return user_id, scope
        return None
