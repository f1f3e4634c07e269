from odoo.addons.base.tests.common import BaseCommon
from odoo.tests import new_test_user, tagged


@tagged("post_install", "-at_install")
class TestSecurityGroups(BaseCommon):
    def test_manager_implies_user(self):
        manager = new_test_user(
            self.env, "crm_sync_manager", groups="crm_sync_connector.group_crm_sync_manager"
        )
        self.assertTrue(manager.has_group("crm_sync_connector.group_crm_sync_user"))

    def test_admin_administers_crm_sync(self):
        admin = self.env.ref("base.user_admin")
        self.assertTrue(admin.has_group("crm_sync_connector.group_crm_sync_manager"))
