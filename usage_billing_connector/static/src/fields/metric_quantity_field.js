/**
 * A quantity shown with its metric's decimal places (``usage.metric.decimal_places``),
 * read from the record's ``quantity_digits``: ``250,000`` calls, ``12.50`` GB.
 * Field ``digits`` are per field, not per record, and a list mixes metrics.
 * Without a metric (``quantity_digits`` below 0), the exact value without
 * trailing zeros.  Stored quantities stay exact: this is display only.
 */
import { registry } from "@web/core/registry";
import { floatField, FloatField } from "@web/views/fields/float/float_field";
import { formatFloat } from "@web/views/fields/formatters";

export class MetricQuantityField extends FloatField {
    get formattedValue() {
        const places = this.props.record.data.quantity_digits;
        if (this.value === false || (!this.props.readonly && this.state.hasFocus)) {
            return super.formattedValue;
        }
        if (Number.isInteger(places) && places >= 0) {
            return formatFloat(this.value, { digits: [false, places] });
        }
        return formatFloat(this.value, {
            field: this.props.record.fields[this.props.name],
            trailingZeros: false,
        });
    }
}

export const metricQuantityField = {
    ...floatField,
    component: MetricQuantityField,
    fieldDependencies: [{ name: "quantity_digits", type: "integer" }],
};

registry.category("fields").add("metric_quantity", metricQuantityField);
