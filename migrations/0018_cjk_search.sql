-- Search finds words inside Chinese, Japanese and Korean text (issue 14).
--
-- The `simple` configuration splits text at spaces and punctuation only, so a Japanese
-- sentence was one token and no word inside it could be found. Now the text is first
-- normalised (NFKC: full-width letters and digits become ASCII, half-width kana
-- full-width), and every run of CJK characters (Han, Hiragana, Katakana, Hangul) is
-- replaced by its overlapping two-character pieces ("bigrams") and its last character:
-- 天気予報 becomes 天気,気予,予報,報 (commas, so that a query word turns into the phrase
-- of its bigrams). The last character lets a one-character query, which looks for the
-- pieces starting with it, find it at a run's end too; and it keeps two runs apart, so
-- that 東京。京都 is no phrase match for 東京都. A run of one character stays that
-- character. Words in other scripts are indexed as before. See docs/api.md, Search.
--
-- Replacing the generated column rewrites the posts table and rebuilds its indexes:
-- docs/operations.md says how long that took on a million posts.

-- One character class, repeated below (PostgreSQL regular expressions have no named
-- classes for scripts): Hangul Jamo, 々〆〇, kana repeat marks, Hiragana, Katakana
-- (without ・ and ゠), compatibility Jamo, Katakana extensions, CJK extension A and
-- unified ideographs, Hangul Jamo extended A, syllables and extended B, compatibility
-- ideographs, and the supplementary ideograph planes.
--
-- The text normalised, its CJK runs replaced by their pieces, joined by commas.
-- PL/pgSQL because it keeps its plans between calls: as a SQL function the same work
-- took ten times as long per post.
CREATE FUNCTION stgy_search_text(body text) RETURNS text
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
    normalised text := normalize(body, NFKC);
    pieces text[] := '{}';
    chars text[];
    m text[];
BEGIN
    IF normalised !~ '[\u1100-\u11ff\u3005-\u3007\u3031-\u3035\u3041-\u309f\u30a1-\u30fa\u30fc-\u30ff\u3131-\u318e\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff\ua960-\ua97f\uac00-\ud7a3\ud7b0-\ud7ff\uf900-\ufaff\U00020000-\U0003ffff]' THEN
        RETURN normalised;
    END IF;
    FOR m IN SELECT regexp_matches(normalised,
        '([^\u1100-\u11ff\u3005-\u3007\u3031-\u3035\u3041-\u309f\u30a1-\u30fa\u30fc-\u30ff\u3131-\u318e\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff\ua960-\ua97f\uac00-\ud7a3\ud7b0-\ud7ff\uf900-\ufaff\U00020000-\U0003ffff]+)|([\u1100-\u11ff\u3005-\u3007\u3031-\u3035\u3041-\u309f\u30a1-\u30fa\u30fc-\u30ff\u3131-\u318e\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff\ua960-\ua97f\uac00-\ud7a3\ud7b0-\ud7ff\uf900-\ufaff\U00020000-\U0003ffff]+)',
        'g')
    LOOP
        IF m[2] IS NULL THEN
            pieces := pieces || m[1];
        ELSE
            chars := string_to_array(m[2], NULL);
            FOR i IN 1 .. cardinality(chars) - 1 LOOP
                pieces := pieces || (chars[i] || chars[i + 1]);
            END LOOP;
            pieces := pieces || chars[cardinality(chars)];
        END IF;
    END LOOP;
    RETURN array_to_string(pieces, ',');
END
$$;

-- The index entries of a post's text. (search_path is fixed so that a restore, which
-- runs with an empty one, finds stgy_search_text.)
CREATE FUNCTION stgy_search_vector(body text) RETURNS tsvector
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE SET search_path FROM CURRENT AS $$
    SELECT to_tsvector('simple'::regconfig, stgy_search_text(body))
$$;

-- A web-search style query (as websearch_to_tsquery reads it) turned the same way.
-- `exact`: each CJK word is the phrase of its bigrams (天気予報: 天気 <-> 気予 <-> 予報);
-- otherwise its bigrams anywhere in the post (天気 & 気予 & 予報), which finds more and
-- ranks below; a query with a quoted phrase in it finds exact matches only. A
-- one-character piece matches every piece starting with it (猫:*); the
-- last character of a word is dropped when nothing follows it in its phrase (天気 is
-- 天気, not 天気 <-> 気:*, which would ask the same at the cost of many more entries).
CREATE FUNCTION stgy_search_query(query text, exact boolean) RETURNS tsquery
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE SET search_path FROM CURRENT AS $$
    SELECT (CASE WHEN exact OR strpos(normalize(query, NFKC), '"') > 0 THEN q
        ELSE regexp_replace(q,
        '([\u1100-\u11ff\u3005-\u3007\u3031-\u3035\u3041-\u309f\u30a1-\u30fa\u30fc-\u30ff\u3131-\u318e\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff\ua960-\ua97f\uac00-\ud7a3\ud7b0-\ud7ff\uf900-\ufaff\U00020000-\U0003ffff])'' <-> ''\1',
        '\1'' & ''\1', 'g') END)::tsquery
    FROM (SELECT regexp_replace(regexp_replace(
        websearch_to_tsquery('simple'::regconfig, stgy_search_text(query))::text,
        '''([\u1100-\u11ff\u3005-\u3007\u3031-\u3035\u3041-\u309f\u30a1-\u30fa\u30fc-\u30ff\u3131-\u318e\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff\ua960-\ua97f\uac00-\ud7a3\ud7b0-\ud7ff\uf900-\ufaff\U00020000-\U0003ffff])''',
        '''\1'':*', 'g'),
        ' <-> ''[\u1100-\u11ff\u3005-\u3007\u3031-\u3035\u3041-\u309f\u30a1-\u30fa\u30fc-\u30ff\u3131-\u318e\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff\ua960-\ua97f\uac00-\ud7a3\ud7b0-\ud7ff\uf900-\ufaff\U00020000-\U0003ffff]'':\*(?=$| [&|)])',
        '', 'g') AS q) AS made
$$;

DROP INDEX posts_search_idx;
ALTER TABLE posts DROP COLUMN search;
ALTER TABLE posts ADD COLUMN search tsvector
    GENERATED ALWAYS AS (stgy_search_vector(summary || ' ' || source)) STORED;
CREATE INDEX posts_search_idx ON posts USING gin (search)
    WHERE deleted_at IS NULL AND visibility = 'public';
