-- The batch's resource rows (converted or deleted), locked as claim_stacks.sql locks stacks.
SELECT id FROM resource WHERE id IN ({each: :id})
