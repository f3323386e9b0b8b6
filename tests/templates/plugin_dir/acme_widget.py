"""Acme::Widget: the plainest third-party resource type heat-converge's bed knows.

A heat.engine.resource.Resource subclass that overrides none of Heat's dependency hooks:
its edges are exactly the explicit ones (get_resource, get_attr, depends_on). It needs no
service: create makes up a physical id and keeps what it made in the resource's data (as a
real plugin would ask its back end), update records the new values, delete does nothing.
Attributes come from that data, not from the properties: a property that reads another
resource's attribute is not always resolvable when Heat computes a stack's outputs.
"""

from heat.engine import attributes
from heat.engine import properties
from heat.engine import resource


class Widget(resource.Resource):
    """A widget with a size and a label; its `label` attribute echoes the label."""

    PROPERTIES = (SIZE, LABEL) = ('size', 'label')

    ATTRIBUTES = (LABEL_ATTR, SIZE_ATTR) = ('label', 'size')

    properties_schema = {
        SIZE: properties.Schema(
            properties.Schema.INTEGER,
            'How big the widget is.',
            default=1,
            update_allowed=True,
        ),
        LABEL: properties.Schema(
            properties.Schema.STRING,
            'What the widget is called.',
            default='',
            update_allowed=True,
        ),
    }

    attributes_schema = {
        LABEL_ATTR: attributes.Schema(
            'The label of the widget.',
            type=attributes.Schema.STRING,
        ),
        SIZE_ATTR: attributes.Schema(
            'The size of the widget.',
            type=attributes.Schema.INTEGER,
        ),
    }

    def _record(self, values):
        for key in (self.LABEL, self.SIZE):
            if key in values:
                self.data_set(key, str(values[key]))

    def handle_create(self):
        self.resource_id_set('widget-%s' % self.physical_resource_name())
        self._record(self.properties)

    def handle_update(self, json_snippet, tmpl_diff, prop_diff):
        self._record(prop_diff)

    def handle_delete(self):
        return None

    def _resolve_attribute(self, name):
        data = self.data()
        if name == self.LABEL_ATTR:
            return data.get(self.LABEL)
        if name == self.SIZE_ATTR and self.SIZE in data:
            return int(data[self.SIZE])
        return None


def resource_mapping():
    return {'Acme::Widget': Widget}
