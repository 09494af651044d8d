-- Remote posts keep a plain text in `source`, the column `posts.search` is made from
-- (stgy/domain/remote/remote_posts.py: a Note's Markdown or plain-text `source`, else
-- the text of its sanitised HTML, read with html.parser). Posts stored before had ''.
-- Their `html` is nh3's output (every tag whole, `<`, `>` and `&` escaped in text and
-- attribute values alike), so here the text is had in SQL: block ends and <br> become
-- line breaks, the remaining tags go, the entities nh3 writes are decoded (&amp; last),
-- runs of blanks shrink to one, at most one blank line in a row. (A Note's own `source`
-- is not kept, so such a post gets the text of its HTML, and its source with an Update.)
UPDATE posts SET source = btrim(
    regexp_replace(
        regexp_replace(
            regexp_replace(
                replace(replace(replace(replace(replace(replace(
                    regexp_replace(
                        regexp_replace(
                            regexp_replace(
                                html,
                                '</(p|div|blockquote|pre|h[1-6]|ul|ol|table)>', E'\n\n', 'gi'),
                            '<br\s*/?>|</(li|tr)>', E'\n', 'gi'),
                        '<[^>]*>', '', 'g'),
                    '&lt;', '<'), '&gt;', '>'), '&quot;', '"'), '&#39;', ''''), '&nbsp;', ' '),
                    '&amp;', '&'),
                '[ \t]+', ' ', 'g'),
            ' ?\n ?', E'\n', 'g'),
        '\n{3,}', E'\n\n', 'g'),
    E' \n')
WHERE NOT local AND source = '' AND html <> '' AND share_of_id IS NULL;

-- Stored renderings of those posts carry the old, empty text.
TRUNCATE post_renderings;
