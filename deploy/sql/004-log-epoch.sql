-- Switchboard migration 4: the log's epoch.
-- A restore from a backup rewinds each conversation's seq: messages acked after the backup are gone and their seq
-- numbers are given again to new messages. deploy/sql/restore.sh writes a new epoch after restoring; silos read it
-- at start and send it in `welcome`, and a client that holds seqs from another epoch drops them and resumes from 0.
CREATE TABLE IF NOT EXISTS sb_log_epoch (
    id    TINYINT NOT NULL,
    epoch CHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    since DATETIME(6) NOT NULL,
    CONSTRAINT PK_sb_log_epoch PRIMARY KEY (id)
) ENGINE = InnoDB;

INSERT IGNORE INTO sb_log_epoch (id, epoch, since) VALUES (1, REPLACE(UUID(), '-', ''), UTC_TIMESTAMP(6));
