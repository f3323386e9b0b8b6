"""Acme::LB::Pool and Acme::LB::Monitor: a type whose dependencies are its own code.

A Monitor depends on every Pool of its stack in the same zone. It adds those edges in its
own add_dependencies, reading the other resources of its stack and their properties, so
only Heat itself (this code, run by Heat) can say what its graph is. "A Pool" is whatever
Heat's registry says has the Acme::LB::Pool interface (has_interface), aliases included.
"""

from heat.engine import attributes
from heat.engine import properties
from heat.engine import resource


class Pool(resource.Resource):
    """A load-balancer pool in a zone."""

    PROPERTIES = (ZONE, MEMBERS) = ('zone', 'members')

    ATTRIBUTES = (ZONE_ATTR,) = ('zone',)

    properties_schema = {
        ZONE: properties.Schema(
            properties.Schema.STRING,
            'The zone the pool serves.',
            default='default',
        ),
        MEMBERS: properties.Schema(
            properties.Schema.LIST,
            'Addresses of its members.',
            default=[],
            update_allowed=True,
        ),
    }

    attributes_schema = {
        ZONE_ATTR: attributes.Schema('The zone of the pool.',
                                     type=attributes.Schema.STRING),
    }

    def handle_create(self):
        self.resource_id_set('pool-%s' % self.physical_resource_name())
        self.data_set(self.ZONE, self.properties[self.ZONE])

    def handle_update(self, json_snippet, tmpl_diff, prop_diff):
        return None

    def handle_delete(self):
        return None

    def _resolve_attribute(self, name):
        if name == self.ZONE_ATTR:
            return self.data().get(self.ZONE)
        return None


class Monitor(resource.Resource):
    """A health monitor watching every pool of its zone."""

    PROPERTIES = (ZONE, DELAY) = ('zone', 'delay')

    ATTRIBUTES = (ZONE_ATTR,) = ('zone',)

    properties_schema = {
        ZONE: properties.Schema(
            properties.Schema.STRING,
            'The zone whose pools it watches.',
            default='default',
        ),
        DELAY: properties.Schema(
            properties.Schema.INTEGER,
            'Seconds between checks.',
            default=10,
            update_allowed=True,
        ),
    }

    attributes_schema = {
        ZONE_ATTR: attributes.Schema('The zone it watches.',
                                     type=attributes.Schema.STRING),
    }

    def add_dependencies(self, deps):
        super(Monitor, self).add_dependencies(deps)
        try:
            zone = self.properties[self.ZONE]
        except (ValueError, TypeError):
            return
        for res in self.stack.values():
            if res is self or not res.has_interface('Acme::LB::Pool'):
                continue
            try:
                pool_zone = res.properties.get(Pool.ZONE)
            except (ValueError, TypeError):
                continue
            if pool_zone == zone:
                deps += (self, res)

    def handle_create(self):
        self.resource_id_set('monitor-%s' % self.physical_resource_name())
        self.data_set(self.ZONE, self.properties[self.ZONE])

    def handle_update(self, json_snippet, tmpl_diff, prop_diff):
        return None

    def handle_delete(self):
        return None

    def _resolve_attribute(self, name):
        if name == self.ZONE_ATTR:
            return self.data().get(self.ZONE)
        return None


def resource_mapping():
    return {
        'Acme::LB::Pool': Pool,
        'Acme::LB::Monitor': Monitor,
    }
