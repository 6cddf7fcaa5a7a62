-- estimate_weight_double: make the weight column DOUBLE (a literal 1.0 creates a DECIMAL(2,1) column,
-- which would round or overflow design weights). Identifiers: {units}, {weight_col} (allow-listed, quoted).
ALTER TABLE {units} ALTER COLUMN {weight_col} SET DATA TYPE DOUBLE;
