INSERT OR REPLACE INTO runs (run_id, round, started_at, status) VALUES ($run, $round, $now, 'loading');
