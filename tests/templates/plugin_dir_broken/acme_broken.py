"""Acme::Broken::Thing: a plugin whose vendor SDK is not installed.

Importing this module fails (ModuleNotFoundError, an ImportError). Heat 27.0.1's loader
logs "Failed to import module heat.engine.plugins.acme_broken" and then re-raises the error
(heat.common.plugin_loader.load_modules is called without ignore_error), so a plugin
directory holding this file stops resources.initialise(): no engine, no conversion.
That is why it lives in a directory of its own, apart from plugin_dir/.
"""

import acme_vendor_sdk  # noqa: F401  (not installed anywhere)

from heat.engine import resource


class BrokenThing(resource.Resource):
    properties_schema = {}

    def handle_create(self):
        self.resource_id_set('broken')


def resource_mapping():
    return {'Acme::Broken::Thing': BrokenThing}
