-- The migrations of heat-converge's own schema recorded as applied (refinery's history).
SELECT version, checksum FROM heat_converge_schema_history
