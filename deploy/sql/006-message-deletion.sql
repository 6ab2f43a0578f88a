-- Switchboard migration 6: deleting a message erases its body.
-- A deleted message keeps its row (its seq, sender and time: no gap in the conversation) with body NULL and deleted 1,
-- so the text is gone from the table, not hidden. Both changes are instant on MariaDB 10.4+ (no table rebuild).
ALTER TABLE sb_messages
    ADD COLUMN IF NOT EXISTS deleted TINYINT(1) NOT NULL DEFAULT 0,
    MODIFY body MEDIUMBLOB NULL;
