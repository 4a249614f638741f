-- A unit's open items, found without reading its closed ones. A city unit leads or co-owns
-- thousands of items over five ledger years and a few hundred are open; its batch report page
-- used to read every one of its item rows to find them. `item_open` says whether the item is a
-- measure (not a 重点任务 group) in an open state (registered to closure requested); the writing
-- transaction keeps it with the tallies (`tallies::refresh`), and `Store::check_tallies`
-- compares it with the items.
ALTER TABLE item_units ADD COLUMN item_open INTEGER NOT NULL DEFAULT 0;
UPDATE item_units SET item_open = 1 WHERE item_id IN (SELECT i.id FROM items i
    WHERE i.is_group = 0
    AND i.state IN ('registered', 'assigned', 'in_progress', 'closure_requested'));
CREATE INDEX item_units_open ON item_units (unit_id, item_id) WHERE item_open = 1;

-- The home page counts active accounts; at city scale (20,000 users) a scan of the wide rows.
CREATE INDEX users_disabled ON users (disabled);
