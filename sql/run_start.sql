INSERT INTO heat_converge_run (id, started_at, tool_version, host, options)
VALUES (:id, :started_at, :tool_version, :host, :options)
