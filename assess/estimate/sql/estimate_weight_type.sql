-- estimate_weight_type: DuckDB type of the weight column. Identifiers: {units}, {weight_col}.
SELECT typeof({weight_col}) FROM {units} LIMIT 1;
