"""Acme::Cond::Thing: a type registered only under a condition decided at import time.

Heat calls available_resource_mapping() when a module has it and never looks at
resource_mapping() then; this module registers its type only when the (standard) module
it wants can be imported, which is true on any usual Python. resource_mapping() is there
too, as in Heat's own modules, but Heat does not call it here.
"""

from heat.engine import properties
from heat.engine import resource

try:
    import sqlite3  # noqa: F401  (what a vendor SDK would be)
    SQLITE_AVAILABLE = True
except ImportError:
    SQLITE_AVAILABLE = False


class Thing(resource.Resource):
    """A thing with a note; nothing outside Heat."""

    PROPERTIES = (NOTE,) = ('note',)

    properties_schema = {
        NOTE: properties.Schema(
            properties.Schema.STRING,
            'A note about the thing.',
            default='',
            update_allowed=True,
        ),
    }

    def handle_create(self):
        self.resource_id_set('thing-%s' % self.physical_resource_name())

    def handle_update(self, json_snippet, tmpl_diff, prop_diff):
        return None

    def handle_delete(self):
        return None


def resource_mapping():
    return {'Acme::Cond::Thing': Thing}


def available_resource_mapping():
    if SQLITE_AVAILABLE:
        return resource_mapping()
    return {}
