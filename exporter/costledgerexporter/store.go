package costledgerexporter

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	ledgerdb "github.com/genops-mesh/otelcol-genops/internal/ledger"
)

// store is the ledger database. Both engines take the same table, views
// and insert; they differ in column types, time functions and how a
// migration takes its lock.
type store struct {
	db   *sql.DB
	kind string // postgres or sqlite
	// migrated: the schema is at schemaVersion. A database that is down
	// when the collector starts is migrated at the first write instead:
	// a restart during an outage must not crash-loop the collector.
	migrated bool
	// version the database is at once migrated: schemaVersion, or less
	// in the test of an upgrade.
	version int
}

// conflictTarget is the unique key an insert's ON CONFLICT names, by
// schema version.
func (s *store) conflictTarget() string {
	if s.version < 2 {
		return "(idempotency_key)"
	}
	return "(call_ts, idempotency_key)"
}

// schemaVersion is the ledger schema this build writes; migrations[v-1]
// brings a database from v-1 to v.
const schemaVersion = 2

// ledgerColumns in insert order; call_ts, last, is schema version 2's.
var ledgerColumns = []string{
	"ts", "idempotency_key", "request_id", "reporter",
	"team", "project", "customer_id", "cost_center", "customer_tier", "environment", "feature",
	"namespace", "workload", "service", "cluster", "provider", "model",
	"input_tokens", "cache_read_tokens", "cache_write_tokens", "output_tokens", "reasoning_tokens",
	"cost_nanos", "currency", "price_row", "call_ts",
}

// migrations by engine: each entry one schema version.
func migrations(kind string) []string {
	tsType, intType, now := "TIMESTAMPTZ", "BIGINT", "now()"
	hour, day := "date_trunc('hour', ts AT TIME ZONE 'UTC')", "CAST(ts AT TIME ZONE 'UTC' AS date)"
	if kind == "sqlite" {
		// ts is fixed-width RFC 3339 UTC text: it sorts as time does.
		tsType, intType, now = "TEXT", "INTEGER", "(strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))"
		hour, day = "substr(ts, 1, 13) || ':00:00Z'", "substr(ts, 1, 10)"
	}
	text := func(names ...string) string {
		var b strings.Builder
		for _, n := range names {
			fmt.Fprintf(&b, "\t%s TEXT NOT NULL DEFAULT '',\n", n)
		}
		return b.String()
	}
	rollup := func(name, period, expr string) string {
		return fmt.Sprintf(`CREATE VIEW %s AS
SELECT %s AS %s, team, project, customer_id, cost_center, provider, model, currency,
	COUNT(*) AS calls, COUNT(cost_nanos) AS priced_calls,
	SUM(input_tokens) AS input_tokens, SUM(cache_read_tokens) AS cache_read_tokens,
	SUM(cache_write_tokens) AS cache_write_tokens, SUM(output_tokens) AS output_tokens,
	SUM(reasoning_tokens) AS reasoning_tokens, SUM(cost_nanos) AS cost_nanos
FROM genops_cost_ledger
GROUP BY %s, team, project, customer_id, cost_center, provider, model, currency`, name, expr, period, expr)
	}
	table := func(name, keyColumn, constraint, options string) string {
		return `CREATE TABLE ` + name + ` (
	ts ` + tsType + ` NOT NULL,
	` + keyColumn + `,
	request_id TEXT NOT NULL,
	reporter TEXT NOT NULL,
` + text("team", "project", "customer_id", "cost_center", "customer_tier", "environment", "feature",
			"namespace", "workload", "service", "cluster", "provider", "model") + `	input_tokens ` + intType + ` NOT NULL,
	cache_read_tokens ` + intType + ` NOT NULL,
	cache_write_tokens ` + intType + ` NOT NULL,
	output_tokens ` + intType + ` NOT NULL,
	reasoning_tokens ` + intType + ` NOT NULL,
	cost_nanos ` + intType + `,
	currency TEXT,
	price_row TEXT,
	inserted_at ` + tsType + ` NOT NULL DEFAULT ` + now + constraint + `
)` + options
	}
	rollups := rollup("genops_cost_hourly", "hour", hour) + ";\n" + rollup("genops_cost_daily", "day", day) + ";"
	// v2 (session 8):
	//   - call_ts: the time the record states, which its idempotency key
	//     hashes; ts is now the time the call is billed at (the
	//     governance processor's genops.cost.time: the record's, unless
	//     a network sender claimed one more than an hour old or in the
	//     future), so a sender cannot move its calls into another month.
	//     The rows of v1 were billed at the time they state: call_ts = ts.
	//   - the primary key is (call_ts, idempotency_key), so that inserts
	//     of calls, which arrive in about time order, land at the right
	//     edge of the key's B-tree instead of at a random page of it (the
	//     key is a hash): an insert touches the same few pages however
	//     large the ledger is (BENCHMARKS.md, session 8). The key alone
	//     stays unique: call_ts is part of what it hashes.
	// SQLite cannot change a primary key: its table is rebuilt, WITHOUT
	// ROWID (the table is the key's B-tree).
	v2 := `ALTER TABLE genops_cost_ledger ADD COLUMN call_ts ` + tsType + `;
UPDATE genops_cost_ledger SET call_ts = ts;
ALTER TABLE genops_cost_ledger ALTER COLUMN call_ts SET NOT NULL;
ALTER TABLE genops_cost_ledger DROP CONSTRAINT genops_cost_ledger_pkey;
ALTER TABLE genops_cost_ledger ADD PRIMARY KEY (call_ts, idempotency_key);`
	if kind == "sqlite" {
		v1cols := strings.Join(ledgerColumns[:len(ledgerColumns)-1], ", ") + ", inserted_at"
		v2 = `DROP VIEW genops_cost_hourly;
DROP VIEW genops_cost_daily;
` + table("genops_cost_ledger_v2", "idempotency_key TEXT NOT NULL",
			",\n\tcall_ts "+tsType+" NOT NULL,\n\tPRIMARY KEY (call_ts, idempotency_key)", " WITHOUT ROWID") + `;
INSERT INTO genops_cost_ledger_v2 (` + v1cols + `, call_ts) SELECT ` + v1cols + `, ts FROM genops_cost_ledger;
DROP TABLE genops_cost_ledger;
ALTER TABLE genops_cost_ledger_v2 RENAME TO genops_cost_ledger;
CREATE INDEX genops_cost_ledger_ts ON genops_cost_ledger (ts);
` + rollups
	}
	return []string{
		// v1: the ledger, one row per priced call, and its rollups.
		table("genops_cost_ledger", "idempotency_key TEXT PRIMARY KEY", "", "") + `;
CREATE INDEX genops_cost_ledger_ts ON genops_cost_ledger (ts);
` + rollups,
		v2,
	}
}

func openStore(_ context.Context, dsn string) (*store, error) {
	db, engine, err := ledgerdb.Open(dsn)
	if err != nil {
		return nil, err
	}
	return &store{db: db, kind: engine}, nil
}

// ready migrates the schema once, before the first write.
func (s *store) ready(ctx context.Context) error {
	if s.migrated {
		return nil
	}
	if err := s.migrate(ctx, schemaVersion); err != nil {
		return fmt.Errorf("%s: schema: %w", s.kind, err)
	}
	s.migrated = true
	return nil
}

// migrate brings the schema to version target in one transaction, under a
// lock (PostgreSQL: an advisory lock; SQLite: the write lock of BEGIN
// IMMEDIATE), so that two exporters starting at once migrate once. A
// database newer than this build is refused.
func (s *store) migrate(ctx context.Context, target int) error {
	tx, err := s.db.BeginTx(ctx, nil)
	// A new SQLite file is switched to WAL as each connection opens, and
	// SQLite refuses that switch with SQLITE_BUSY, without waiting, while
	// another connection (the other pipeline's exporter) holds the file:
	// wait for it as busy_timeout would.
	for ledgerdb.Busy(err) {
		select {
		case <-ctx.Done():
			return err
		case <-time.After(50 * time.Millisecond):
		}
		tx, err = s.db.BeginTx(ctx, nil)
	}
	if err != nil {
		return err
	}
	defer tx.Rollback() //nolint:errcheck // after Commit it is a no-op
	if s.kind == "postgres" {
		if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(7406128753401372)`); err != nil {
			return err
		}
	}
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS genops_ledger_schema (version INTEGER NOT NULL)`); err != nil {
		return err
	}
	var version int
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM genops_ledger_schema`).Scan(&version); err != nil {
		return err
	}
	if version > schemaVersion {
		return fmt.Errorf("the database has ledger schema version %d; this build knows up to %d", version, schemaVersion)
	}
	steps := migrations(s.kind)
	for v := version + 1; v <= target; v++ {
		for _, stmt := range strings.Split(steps[v-1], ";\n") {
			if strings.TrimSpace(stmt) == "" {
				continue
			}
			if _, err := tx.ExecContext(ctx, stmt); err != nil {
				return fmt.Errorf("version %d: %w", v, err)
			}
		}
		if _, err := tx.ExecContext(ctx, ledgerdb.Rebind(s.kind, `INSERT INTO genops_ledger_schema (version) VALUES (?)`), v); err != nil {
			return err
		}
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	s.version = max(version, target)
	return nil
}

// insertChunk rows per statement: 25 columns × 400 rows = 10,000
// parameters, within both engines' limits (PostgreSQL 65,535; SQLite
// 32,766).
const insertChunk = 400

// insert writes rows in one transaction, each chunk one multi-row INSERT
// … ON CONFLICT (call_ts, idempotency_key) DO NOTHING, and returns how many were
// new. All or nothing: a failed batch is retried whole, and the rows it
// did write are then conflicts.
func (s *store) insert(ctx context.Context, rows []row) (int64, error) {
	if err := s.ready(ctx); err != nil {
		return 0, err
	}
	if s.kind == "postgres" {
		return s.copyInsert(ctx, rows)
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback() //nolint:errcheck // after Commit it is a no-op
	var inserted int64
	columns := s.columns()
	placeholders := "(" + strings.TrimSuffix(strings.Repeat("?,", len(columns)), ",") + ")"
	for start := 0; start < len(rows); start += insertChunk {
		chunk := rows[start:min(start+insertChunk, len(rows))]
		var q strings.Builder
		q.WriteString("INSERT INTO genops_cost_ledger (" + strings.Join(columns, ", ") + ") VALUES ")
		args := make([]any, 0, len(chunk)*len(columns))
		for i := range chunk {
			if i > 0 {
				q.WriteByte(',')
			}
			q.WriteString(placeholders)
			args = s.appendArgs(args, &chunk[i])
		}
		q.WriteString(" ON CONFLICT " + s.conflictTarget() + " DO NOTHING")
		res, err := tx.ExecContext(ctx, ledgerdb.Rebind(s.kind, q.String()), args...)
		if err != nil {
			return 0, err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return 0, err
		}
		inserted += n
	}
	if err := tx.Commit(); err != nil {
		return 0, err
	}
	return inserted, nil
}

func (s *store) appendArgs(args []any, r *row) []any {
	ts := ledgerdb.TimeArg(s.kind, r.ts)
	var cost, currency, priceRow any
	if r.priced {
		cost, currency, priceRow = r.costNanos, r.currency, r.priceRow
	}
	args = append(args, ts, r.key, r.requestID, r.reporter,
		r.team, r.project, r.customerID, r.costCenter, r.tier, r.environment, r.feature,
		r.namespace, r.workload, r.service, r.cluster, r.provider, r.model,
		r.tokens[0], r.tokens[1], r.tokens[2], r.tokens[3], r.tokens[4],
		cost, currency, priceRow)
	if s.version >= 2 {
		args = append(args, ledgerdb.TimeArg(s.kind, r.callTS))
	}
	return args
}

// columns are the columns the database's schema version has.
func (s *store) columns() []string {
	if s.version < 2 {
		return ledgerColumns[:len(ledgerColumns)-1]
	}
	return ledgerColumns
}

func (s *store) close() error { return s.db.Close() }

// copyInsert is insert for PostgreSQL: the batch is COPYed into a
// temporary table (pgx's binary COPY, several times faster than
// multi-row INSERTs), then moved into the ledger with one INSERT … SELECT
// … ON CONFLICT (call_ts, idempotency_key) DO NOTHING, in one transaction.
func (s *store) copyInsert(ctx context.Context, rows []row) (int64, error) {
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return 0, err
	}
	defer conn.Close()
	var inserted int64
	err = conn.Raw(func(driverConn any) error {
		pc := driverConn.(*stdlib.Conn).Conn()
		tx, err := pc.Begin(ctx)
		if err != nil {
			return err
		}
		defer tx.Rollback(ctx) //nolint:errcheck // after Commit it is a no-op
		if _, err := tx.Exec(ctx, `CREATE TEMPORARY TABLE IF NOT EXISTS genops_ledger_in
			(LIKE genops_cost_ledger INCLUDING DEFAULTS) ON COMMIT DELETE ROWS`); err != nil {
			return err
		}
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"genops_ledger_in"}, s.columns(),
			pgx.CopyFromSlice(len(rows), func(i int) ([]any, error) { return s.appendArgs(nil, &rows[i]), nil })); err != nil {
			return err
		}
		cols := strings.Join(s.columns(), ", ")
		tag, err := tx.Exec(ctx, "INSERT INTO genops_cost_ledger ("+cols+") SELECT "+cols+
			" FROM genops_ledger_in ON CONFLICT "+s.conflictTarget()+" DO NOTHING")
		if err != nil {
			return err
		}
		inserted = tag.RowsAffected()
		return tx.Commit(ctx)
	})
	return inserted, err
}
