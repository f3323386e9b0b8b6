-- The previous templates the batch deletes, locked as claim_stacks.sql locks stacks.
SELECT id FROM raw_template WHERE id IN ({each: :id})
