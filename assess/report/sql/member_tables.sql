-- The member tables of the repeat groups (`r_<repeat>`), by name.
SELECT table_name
FROM information_schema.tables
WHERE table_name LIKE 'r\_%' ESCAPE '\'
ORDER BY table_name;
