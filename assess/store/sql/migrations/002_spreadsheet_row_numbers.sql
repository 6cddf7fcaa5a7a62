-- Row numbers follow the spreadsheet a coordinator opens (the header is row 1, the first data row is row 2).
-- Release 0.1.0 stored the 1-based data row; shift what it stored so old and new rows read the same.
UPDATE quarantine SET "row" = "row" + 1 WHERE "row" IS NOT NULL;
UPDATE submissions SET source_row = source_row + 1;
