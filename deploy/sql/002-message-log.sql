-- Switchboard: the message log, append-only per conversation. Idempotent.
-- Ids are ASCII and case-sensitive (binary collations); request ids may be any text.

CREATE TABLE IF NOT EXISTS sb_messages (
    conversation VARCHAR(140) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    seq          BIGINT NOT NULL,
    sender       VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    recipient    VARCHAR(70) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    request_id   VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
    body         MEDIUMBLOB NOT NULL,
    created_at   DATETIME(6) NOT NULL,
    -- Gapless order per conversation: a second writer of the same seq fails here.
    CONSTRAINT PK_sb_messages PRIMARY KEY (conversation, seq),
    -- Dedupe that outlives any grain: one message per (sender, request id).
    CONSTRAINT UX_sb_messages_request UNIQUE (sender, request_id),
    INDEX IX_sb_messages_created (created_at)
) ENGINE = InnoDB ROW_FORMAT = DYNAMIC;

-- Before 2026-11-25 user grains loaded their recent request ids through this index on activation; the unique
-- (sender, request_id) now answers a retried id at insert time, so every append saves one index write.
ALTER TABLE sb_messages DROP INDEX IF EXISTS IX_sb_messages_sender_created;

-- Each user's direct conversations (group conversations come from memberships).
CREATE TABLE IF NOT EXISTS sb_user_conversations (
    user_id      VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    conversation VARCHAR(140) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    CONSTRAINT PK_sb_user_conversations PRIMARY KEY (user_id, conversation)
) ENGINE = InnoDB;
