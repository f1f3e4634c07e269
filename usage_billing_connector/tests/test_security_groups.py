from odoo.addons.base.tests.common import BaseCommon
from odoo.tests import new_test_user, tagged


@tagged("post_install", "-at_install")
class TestSecurityGroups(BaseCommon):
    def test_manager_implies_user_and_internal_user(self):
        manager = new_test_user(
            self.env, "ub_manager", groups="usage_billing_connector.group_usage_billing_manager"
        )
        self.assertTrue(manager.has_group("usage_billing_connector.group_usage_billing_user"))
        self.assertTrue(manager.has_group("base.group_user"))

    def test_plain_internal_user_does_not_see_the_app(self):
        clerk = new_test_user(self.env, "ub_clerk", groups="base.group_user")
        self.assertFalse(clerk.has_group("usage_billing_connector.group_usage_billing_user"))
        root_menu = self.env.ref("usage_billing_connector.menu_usage_billing_root")
        visible = self.env["ir.ui.menu"].with_user(clerk)._visible_menu_ids()
        self.assertNotIn(root_menu.id, visible)
