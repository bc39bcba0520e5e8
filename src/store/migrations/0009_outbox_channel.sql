-- Rows say how they are delivered: `mail` to the address in `recipient`, or `webhook` to the
-- `[[webhook]]` named there. Rows written before hold mail.
ALTER TABLE outbox ADD COLUMN channel TEXT NOT NULL DEFAULT 'mail' CHECK (channel IN ('mail', 'webhook'));
