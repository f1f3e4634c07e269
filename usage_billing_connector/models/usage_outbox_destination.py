from odoo import api, fields, models


class UsageOutboxDestination(models.AbstractModel):
    """Where outbox messages go (a CRM backend, a webhook endpoint): how to push them.

    Each destination gets its own queue_job channel under the model's root
    channel, so a slow or rate-limited remote system does not hold up the others.
    A concrete destination implements ``_outbox_push``.
    """

    _name = "usage.outbox.destination"
    _description = "Outbox Destination"

    #: The concrete message model (inherits ``usage.outbox.message``).
    _outbox_message_model = None
    #: XML id of the queue_job channel under which each destination gets its own.
    _outbox_root_channel = None

    max_attempts = fields.Integer(
        default=8, help="Deliveries failing this many times become dead letters."
    )
    channel_id = fields.Many2one("queue.job.channel", readonly=True, copy=False)
    pending_count = fields.Integer(compute="_compute_outbox_counts")
    dead_count = fields.Integer(compute="_compute_outbox_counts")

    _max_attempts_positive = models.Constraint(
        "CHECK(max_attempts > 0)", "The number of attempts must be positive."
    )

    def _compute_outbox_counts(self):
        messages = self.env[self._outbox_message_model]
        destination = messages._outbox_destination_field
        groups = messages._read_group(
            [(destination, "in", self.ids), ("state", "in", ("pending", "dead"))],
            [destination, "state"],
            ["__count"],
        )
        counts = {(record.id, state): count for record, state, count in groups}
        for record in self:
            record.pending_count = counts.get((record.id, "pending"), 0)
            record.dead_count = counts.get((record.id, "dead"), 0)

    @api.model_create_multi
    def create(self, vals_list):
        destinations = super().create(vals_list)
        destinations._ensure_channel()
        return destinations

    def _ensure_channel(self):
        root = self.env.ref(self._outbox_root_channel)
        for destination in self.filtered(lambda d: not d.channel_id):
            # sudo: queue.job.channel is writable by system admins only; the
            # channel is technical plumbing created for a destination the user
            # may create.
            channel = (
                self.env["queue.job.channel"]
                .sudo()
                .create({"name": str(destination.id), "parent_id": root.id})
            )
            destination.channel_id = channel

    def _outbox_channel_name(self):
        self.ensure_one()
        # sudo: the channel's full name is technical (read by the job, never shown).
        return self.channel_id.sudo().complete_name

    def _outbox_batch_size(self):
        """Messages delivered per job (a destination with a batch API delivers more)."""
        return 1

    def _outbox_push(self, messages):
        """Send ``messages`` (all of this destination): ``[(messages, DeliveryResult)]``."""
        raise NotImplementedError

    def action_view_messages(self):
        self.ensure_one()
        messages = self.env[self._outbox_message_model]
        return {
            "type": "ir.actions.act_window",
            "name": messages._description,
            "res_model": messages._name,
            "view_mode": "list,form",
            "domain": [(messages._outbox_destination_field, "=", self.id)],
            "context": {"search_default_filter_dead": 1},
        }

    def action_replay_dead(self):
        """Replay every dead message of the selected destinations."""
        messages = self.env[self._outbox_message_model]
        dead = messages.search(
            [(messages._outbox_destination_field, "in", self.ids), ("state", "=", "dead")]
        )
        if dead:
            dead.action_replay()
        return True
