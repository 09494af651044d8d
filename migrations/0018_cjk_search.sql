-- Search finds words inside Chinese, Japanese and Korean text (issue 14).
--
-- The `simple` configuration splits text at spaces and punctuation only, so a Japanese
-- sentence was one token and no word inside it could be found. Now the text is first
-- normalised (NFKC: full-width letters and digits become ASCII, half-width kana
-- full-width), and every run of CJK characters (Han, Hiragana, Katakana, Hangul) is
-- replaced by its overlapping two-character pieces ("bigrams"): 天気予報 becomes
-- 天気,気予,予報 (commas, so a query word turns into the phrase of its bigrams),
-- a run of one character stays that character. Words in other scripts are indexed as
-- before. The last character of every longer run is also indexed (without a position)
-- so that a one-character query, which searches the bigrams starting with it, finds
-- it at a run's end too. See docs/api.md, Search.
--
-- Replacing the generated column rewrites the posts table and rebuilds its indexes:
-- docs/operations.md says how long that took on a million posts.

-- One character class, repeated below (PostgreSQL regular expressions have no named
-- classes for scripts): Hangul Jamo, 々〆〇, kana repeat marks, Hiragana, Katakana
-- (without ・ and ゠), compatibility Jamo, Katakana extensions, CJK extension A and
-- unified ideographs, Hangul Jamo extended A, syllables and extended B, compatibility
-- ideographs, and the supplementary ideograph planes.
CREATE FUNCTION stgy_search_text(body text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT CASE WHEN t !~ '[\u1100-\u11ff\u3005-\u3007\u3031-\u3035\u3041-\u309f\u30a1-\u30fa\u30fc-\u30ff\u3131-\u318e\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff\ua960-\ua97f\uac00-\ud7a3\ud7b0-\ud7ff\uf900-\ufaff\U00020000-\U0003ffff]' THEN t
    ELSE (
        SELECT string_agg(CASE
            WHEN r.m[2] IS NULL THEN r.m[1]
            WHEN length(r.m[2]) = 1 THEN ',' || r.m[2] || ','
            ELSE ',' || (SELECT string_agg(c[i] || c[i + 1], ',' ORDER BY i)
                         FROM string_to_array(r.m[2], NULL) AS c,
                              generate_series(1, cardinality(c) - 1) AS i) || ','
            END, '' ORDER BY r.n)
        FROM regexp_matches(t,
            '([^\u1100-\u11ff\u3005-\u3007\u3031-\u3035\u3041-\u309f\u30a1-\u30fa\u30fc-\u30ff\u3131-\u318e\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff\ua960-\ua97f\uac00-\ud7a3\ud7b0-\ud7ff\uf900-\ufaff\U00020000-\U0003ffff]+)|([\u1100-\u11ff\u3005-\u3007\u3031-\u3035\u3041-\u309f\u30a1-\u30fa\u30fc-\u30ff\u3131-\u318e\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff\ua960-\ua97f\uac00-\ud7a3\ud7b0-\ud7ff\uf900-\ufaff\U00020000-\U0003ffff]+)',
            'g') WITH ORDINALITY AS r(m, n))
    END
    FROM (SELECT normalize(body, NFKC) AS t) AS normalised
$$;

-- The index entries of a post's text: its words and bigrams with their positions, and
-- the last character of each CJK run of two or more without one.
CREATE FUNCTION stgy_search_vector(body text) RETURNS tsvector
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE SET search_path FROM CURRENT AS $$
    SELECT to_tsvector('simple'::regconfig, stgy_search_text(body))
        || array_to_tsvector(ARRAY(SELECT DISTINCT right(m[1], 1)
            FROM regexp_matches(normalize(body, NFKC),
                '[\u1100-\u11ff\u3005-\u3007\u3031-\u3035\u3041-\u309f\u30a1-\u30fa\u30fc-\u30ff\u3131-\u318e\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff\ua960-\ua97f\uac00-\ud7a3\ud7b0-\ud7ff\uf900-\ufaff\U00020000-\U0003ffff]{2,}',
                'g') AS m))
$$;

-- A web-search style query (as websearch_to_tsquery reads it) turned the same way.
-- `exact`: each CJK word is the phrase of its bigrams (天気予報: 天気 <-> 気予 <-> 予報);
-- otherwise its bigrams anywhere in the post (天気 & 気予 & 予報), which finds more and
-- ranks below. A one-character CJK word matches every bigram starting with it (猫:*).
CREATE FUNCTION stgy_search_query(query text, exact boolean) RETURNS tsquery
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE SET search_path FROM CURRENT AS $$
    SELECT (CASE WHEN exact THEN q ELSE regexp_replace(q,
        '([\u1100-\u11ff\u3005-\u3007\u3031-\u3035\u3041-\u309f\u30a1-\u30fa\u30fc-\u30ff\u3131-\u318e\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff\ua960-\ua97f\uac00-\ud7a3\ud7b0-\ud7ff\uf900-\ufaff\U00020000-\U0003ffff])'' <-> ''\1',
        '\1'' & ''\1', 'g') END)::tsquery
    FROM (SELECT regexp_replace(
        websearch_to_tsquery('simple'::regconfig, stgy_search_text(query))::text,
        '''([\u1100-\u11ff\u3005-\u3007\u3031-\u3035\u3041-\u309f\u30a1-\u30fa\u30fc-\u30ff\u3131-\u318e\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff\ua960-\ua97f\uac00-\ud7a3\ud7b0-\ud7ff\uf900-\ufaff\U00020000-\U0003ffff])''',
        '''\1'':*', 'g') AS q) AS made
$$;

DROP INDEX posts_search_idx;
ALTER TABLE posts DROP COLUMN search;
ALTER TABLE posts ADD COLUMN search tsvector
    GENERATED ALWAYS AS (stgy_search_vector(summary || ' ' || source)) STORED;
CREATE INDEX posts_search_idx ON posts USING gin (search)
    WHERE deleted_at IS NULL AND visibility = 'public';
