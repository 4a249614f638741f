-- Scale (city: 250,000 items, 3,000,000 progress reports): the ledger list pages by key in
-- (ledger_year, id) order and counts its total from this index alone; the red (overdue) and
-- yellow (due soon) filters and counts range over state and due date.
CREATE INDEX items_year_list ON items (ledger_year, is_group, id);
CREATE INDEX items_year_signal ON items (ledger_year, is_group, state, due_date, urgency, due_at);
-- The 需协调事项 queue looks for reports that ask for coordination; few do.
CREATE INDEX progress_reports_coordination ON progress_reports (item_id, unit_id, id)
    WHERE coordination <> '';
