# heat-converge's question to the cloud's own Heat: the dependency graph of stacks whose
# resource plugins only Heat's Python can run. Started by heat-converge with the
# interpreter of the Heat installation (--heat-python); it reads the same heat.conf files
# and plugin directories, computes each graph with Heat's own code (Stack.load, then
# Stack.dependencies, as migrate_to_convergence does), writes nothing, and answers one
# JSON line per request on stdout. Heat's own logging goes to stderr.
#
# stdin, one JSON object per line:
#   first: {"config_files": [...], "connection": URL, "plugin_dirs": [...],
#           "environment_dir": DIR or null}
#   then:  {"stack": ID, "project": TENANT}   a stored stack
#          {"template": {...}, "environment": {...}, "files": {...}}   a new stack
# stdout: {"ready": HEAT_VERSION, "types": {TYPE: {"class": C, "file": F}}} once (the
# third-party types Heat registered), then per request
# {"resources": {NAME: [NAMES IT REQUIRES]}} or {"error": "Class: message"}.
import json
import sys


def answer(obj):
    sys.stdout.write(json.dumps(obj, sort_keys=True) + "\n")
    sys.stdout.flush()


def main():
    setup = json.loads(sys.stdin.readline())
    # Heat's code prints warnings (deprecations, retired types) on stdout in places:
    # keep stdout for the answers.
    out = sys.stdout
    sys.stdout = sys.stderr
    try:
        from oslo_config import cfg
        from oslo_log import log as logging
        from heat.common import config  # noqa: F401  (registers Heat's options)
        from heat.common import context
        from heat.common import messaging
        from heat.engine import environment
        from heat.engine import resources
        from heat.engine import stack as parser
        from heat.engine import template as templatem

        logging.register_options(cfg.CONF)
        args = []
        for f in setup["config_files"]:
            args += ["--config-file", f]
        cfg.CONF(args, project="heat", prog="heat-converge-graph",
                 default_config_files=[], default_config_dirs=[])
        cfg.CONF.set_override("connection", setup["connection"], group="database")
        cfg.CONF.set_override("plugin_dirs", setup["plugin_dirs"])
        if setup.get("environment_dir"):
            cfg.CONF.set_override("environment_dir", setup["environment_dir"])
        cfg.CONF.set_override("log_file", None)
        cfg.CONF.set_override("use_stderr", True)
        logging.setup(cfg.CONF, "heat-converge-graph")
        messaging.setup("fake://", optional=True)
        resources.initialise()
        try:
            from heat.db import api as db_api
        except ImportError:  # Heat 2023.1 and older
            from heat.db.sqlalchemy import api as db_api
        registry = resources.global_env().registry._registry
        types = {}
        for name, info in registry.items():
            cls = getattr(info, "value", None)
            module = getattr(cls, "__module__", "") or ""
            if isinstance(cls, type) and module.startswith("heat.engine.plugins"):
                # The loader hangs each module on its package, not in sys.modules.
                obj = sys.modules.get("heat.engine.plugins")
                for part in module.split(".")[3:]:
                    obj = getattr(obj, part, None)
                path = getattr(obj, "__file__", None)
                types[name] = {"class": cls.__qualname__, "file": path}
        import heat.version
        ready = {"ready": heat.version.version_info.version_string(), "types": types}
    except Exception as e:
        sys.stdout = out
        answer({"error": "%s: %s" % (type(e).__name__, e)})
        return 1
    sys.stdout = out

    def graph_of(st):
        deps = st.dependencies
        res = {}
        for name, r in st.resources.items():
            res[name] = sorted({x.name for x in deps.requires(r) if x is not None})
        return {"resources": res}

    answer(ready)
    for line in sys.stdin:
        req = json.loads(line)
        sys.stdout = sys.stderr
        try:
            ctx = context.RequestContext(is_admin=True, roles=["admin"],
                                         project_id=req.get("project"),
                                         user_id="heat-converge")
            if "stack" in req:
                with db_api.context_manager.reader.using(ctx):
                    st = parser.Stack.load(ctx, stack_id=req["stack"],
                                           show_deleted=False)
                    result = graph_of(st)
            else:
                t = templatem.Template(
                    req["template"], files=req.get("files") or {},
                    env=environment.Environment(req.get("environment") or {}))
                result = graph_of(parser.Stack(ctx, "graph", t))
        except Exception as e:
            result = {"error": "%s: %s" % (type(e).__name__, e)}
        sys.stdout = out
        answer(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
