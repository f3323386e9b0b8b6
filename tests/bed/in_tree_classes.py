#!/usr/bin/env python3
"""The in-tree resource classes a third-party plugin may derive from, and whose graph code
heat-converge already has: src/plugins/in_tree_classes.txt.

Run in the bed's virtualenv (openstack-heat 27.0.1):
  target/heat-venv/bin/python tests/bed/in_tree_classes.py > src/plugins/in_tree_classes.txt
tests/plugins_static.rs runs it again and compares.

One line per class, as a plugin names it (`module.Name`, every module of heat.engine's
resource packages that holds the name, re-exports included):
  PATH -          the class builds its graph as heat.engine.resource.Resource does: none
                  of the graph hooks below is defined anywhere in its chain but Resource;
  PATH TYPE       the class is the one Heat registers for TYPE, and it overrides hooks:
                  a subclass that keeps them gets TYPE's graph code.
A class that overrides a hook without being a registered type is not listed: a plugin
deriving from it needs Heat's own Python.
"""

import importlib
import inspect
import pkgutil
import sys

# What Heat's graph building reaches on a resource object (stack.py: dependencies,
# _explicit_dependencies, _add_implicit_dependencies; resource.py: __new__, __init__,
# has_interface, type).
HOOKS = ('__new__', '__init__', '__getattr__', '__getattribute__', '__setattr__',
         'add_dependencies', 'add_explicit_dependencies', 'has_interface', 'type',
         'reparse', '_load_data')


def key(cls):
    return '%s.%s' % (cls.__module__, cls.__qualname__)


def main():
    from oslo_config import cfg
    from heat.common import config  # noqa: F401
    from heat.engine import resource
    from heat.engine import resources

    cfg.CONF([], project='heat', default_config_files=[], default_config_dirs=[])
    cfg.CONF.set_override('plugin_dirs', [])
    resources.initialise()
    registry = resources.global_env().registry._registry
    registered = {}
    for name in sorted(registry):
        info = registry[name]
        cls = getattr(info, 'value', None)
        if inspect.isclass(cls) and issubclass(cls, resource.Resource):
            # Heat's loader executes its modules without putting them in sys.modules,
            # so the classes imported below are other objects: match by name.
            registered.setdefault(key(cls), name)

    def own_hooks(cls):
        """The hooks defined in cls's chain other than by Resource itself."""
        return [h for h in HOOKS
                if any(h in vars(k) for k in cls.__mro__
                       if k not in (resource.Resource, object))]

    modules = ['heat.engine.resource']
    pkg = importlib.import_module('heat.engine.resources')
    for info in pkgutil.walk_packages(pkg.__path__, 'heat.engine.resources.'):
        if '.tests.' in info.name:
            continue
        modules.append(info.name)
    lines = set()
    for modname in modules:
        try:
            mod = importlib.import_module(modname)
        except Exception as e:  # an optional client library missing
            print('# %s: %s' % (modname, type(e).__name__), file=sys.stderr)
            continue
        for attr, cls in vars(mod).items():
            if not (inspect.isclass(cls) and issubclass(cls, resource.Resource)):
                continue
            path = '%s.%s' % (modname, attr)
            if not own_hooks(cls):
                lines.add('%s -' % path)
            elif key(cls) in registered:
                lines.add('%s %s' % (path, registered[key(cls)]))
    print('# In-tree resource classes a plugin may derive from (openstack-heat 27.0.1).')
    print('# Made by tests/bed/in_tree_classes.py; tests/plugins_static.rs checks it.')
    print('# PATH -: builds its graph as Resource does; PATH TYPE: the class registered')
    print('# as TYPE, whose graph code heat-converge has.')
    for line in sorted(lines):
        print(line)


if __name__ == '__main__':
    main()
