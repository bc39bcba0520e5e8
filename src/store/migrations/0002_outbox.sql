-- The alert outbox: alerts queued in the ingest transaction that caused them.
CREATE TABLE outbox (
    id INTEGER PRIMARY KEY,
    message_id TEXT NOT NULL UNIQUE,
    recipient TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('queued', 'sending', 'sent', 'dead', 'merged')),
    -- digest rows collect alerts until due_at: '<window seconds>:<window start>' or 'overflow'
    digest_key TEXT,
    alert TEXT NOT NULL,
    created_at TEXT NOT NULL,
    due_at TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    sent_at TEXT,
    server_reply TEXT,
    merged_into INTEGER REFERENCES outbox(id)
);
CREATE INDEX outbox_due ON outbox(state, due_at);
CREATE INDEX outbox_recipient_sent ON outbox(recipient, sent_at);
