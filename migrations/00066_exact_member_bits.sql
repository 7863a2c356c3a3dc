-- Member bits become exact. stories.channel_bits gives each channel a bit of
-- its own (app/channels: Channel.Bit), and stories.tag_bits gives each of the
-- first 63 tags ever used the bit the tags table assigns it; bit 63 stands
-- for "has a tag without a bit". A story has a channel, or a tag with a bit,
-- exactly when its bit is set, so a filtered list reads the answer from its
-- covering index instead of probing story_tags or story_channels for each
-- story (which was half a filtered list's database time). Until now the bits
-- were hashes that two values could share. Tags keep their bit forever: the
-- tags table only grows.

-- +goose Up
CREATE TABLE tags (
    tag TEXT PRIMARY KEY,
    bit INTEGER UNIQUE CHECK (bit BETWEEN 0 AND 62)
);
-- The most used tags get the bits.
INSERT INTO tags (tag, bit)
SELECT tag, CASE WHEN rn <= 63 THEN rn - 1 END
FROM (SELECT tag, ROW_NUMBER() OVER (ORDER BY COUNT(*) DESC, tag) AS rn FROM story_tags GROUP BY tag) r;
UPDATE stories SET
    tag_bits = COALESCE((SELECT CAST(SUM(CAST(1 AS BIGINT) << t.bit) AS BIGINT) FROM story_tags st JOIN tags t ON t.tag = st.tag
                         WHERE st.story_id = stories.id AND t.bit IS NOT NULL), 0)
             | CASE WHEN EXISTS (SELECT 1 FROM story_tags st JOIN tags t ON t.tag = st.tag WHERE st.story_id = stories.id AND t.bit IS NULL)
                    THEN CAST(1 AS BIGINT) << 63 ELSE 0 END,
    channel_bits = COALESCE((SELECT CAST(SUM(CASE sc.channel WHEN 'website' THEN 1 WHEN 'facebook' THEN 2 WHEN 'instagram' THEN 4
                             WHEN 'linkedin' THEN 8 WHEN 'x' THEN 16 WHEN 'youtube' THEN 32 WHEN 'mastodon' THEN 64 WHEN 'bluesky' THEN 128
                             ELSE 0 END) AS BIGINT) FROM story_channels sc WHERE sc.story_id = stories.id), 0);

-- +goose Down
-- The hashed bits cannot be recomputed in SQL; every bit set makes every
-- story a candidate, which the hashed filter then checks row by row.
UPDATE stories SET tag_bits = -1, channel_bits = -1;
DROP TABLE tags;
