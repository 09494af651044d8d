-- The language a person chose for the web UI (one of the UI's languages, e.g. en, ja);
-- NULL follows the browser's Accept-Language.
ALTER TABLE users ADD COLUMN language text;
