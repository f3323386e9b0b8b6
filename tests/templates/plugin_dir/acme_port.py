"""Acme::Port: a vendor's port, a subclass of Heat's own Neutron Port.

It keeps everything of Port that decides its dependency graph (properties schema,
translation rules, add_dependencies: a port depends on every resource with the
OS::Neutron::Subnet interface whose network is the port's), and replaces only what would
talk to Neutron, so that an engine with no Neutron and no Keystone can create, update and
delete it.
"""

import uuid

from heat.engine.clients.os.neutron import neutron_constraints
from heat.engine.resources.openstack.neutron import port


class AcmePort(port.Port):
    """A Neutron port that lives only in Heat's database."""

    @classmethod
    def is_service_available(cls, context):
        # Port asks Keystone's catalogue for a network endpoint.
        return (True, None)

    def handle_create(self):
        self.resource_id_set(str(uuid.uuid4()))

    def _show_resource(self):
        # What Neutron would say of a port that is up: Port's check_*_complete read it.
        return {'id': self.resource_id, 'status': 'ACTIVE'}

    def handle_update(self, json_snippet, tmpl_diff, prop_diff):
        return None

    def handle_delete(self):
        # None: nothing to wait for (NeutronResource.check_delete_complete).
        return None


class NetworkConstraint(neutron_constraints.NetworkConstraint):
    """Heat's neutron.network constraint, which also accepts '' (no network).

    Acme ports may be unbound: `network: ''`. Port's `network` is required and its
    constraint asks Neutron about every value, '' included; and '' is the one value Port's
    RESOLVE translation leaves alone (it looks up only non-empty names), so a port on ''
    needs Neutron for nothing. Any other value is checked by Heat's own constraint.
    """

    def validate_with_client(self, client, value):
        if value == '':
            return
        super(NetworkConstraint, self).validate_with_client(client, value)


def resource_mapping():
    return {'Acme::Port': AcmePort}


def constraint_mapping():
    # Registered after Heat's own constraints, so it replaces neutron.network for every
    # resource of the engine; it changes nothing for a value other than ''.
    return {'neutron.network': NetworkConstraint}
