-- Switchboard migration 5: read markers (protocol 1.1 `read`, unread counts, receipts).
-- One row per user and conversation that has a marker: the seq the user has read up to. Markers only move forward
-- (every write is GREATEST(stored, new)). The secondary index serves receipts: one range of (conversation, seq)
-- gives a conversation's readers of a seq (InnoDB keeps the primary key, user_id, in every secondary entry).
CREATE TABLE IF NOT EXISTS sb_read_markers (
    user_id      VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    conversation VARCHAR(140) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    seq          BIGINT NOT NULL,
    CONSTRAINT PK_sb_read_markers PRIMARY KEY (user_id, conversation),
    INDEX IX_sb_read_markers_conversation (conversation, seq)
) ENGINE = InnoDB;

-- A send moves its sender's marker inside the message's own INSERT (same statement, same transaction): nobody has
-- unread messages of their own, and a send costs no commit or round trip for it.
CREATE TRIGGER IF NOT EXISTS sb_messages_sender_read AFTER INSERT ON sb_messages FOR EACH ROW
    INSERT INTO sb_read_markers (user_id, conversation, seq) VALUES (NEW.sender, NEW.conversation, NEW.seq)
    ON DUPLICATE KEY UPDATE seq = GREATEST(seq, VALUES(seq));
