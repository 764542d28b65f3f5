// Package costledgerexporter writes one row per priced AI call into a
// ledger table, genops_cost_ledger, in PostgreSQL (pgx) or an embedded
// SQLite file (pure Go), so that chargeback is a SQL query over exact
// numbers rather than an extrapolated Prometheus counter.
//
// Exactness: a call's cost is the governance processor's exact nano-unit
// amount (an integer column); a row's idempotency key is derived from the
// record itself, and every insert is ON CONFLICT DO NOTHING, so a record
// delivered twice (a retry after a database outage, a replay after a
// crash) is one row. The hourly and daily rollups are views over the
// ledger: they always equal its sum.
//
// The SQL is written here (not through an ORM) because it is short, must
// be the same for both engines where it can be, and is the contract a
// finance team reads.
package costledgerexporter

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.uber.org/zap"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/genops-mesh/otelcol-genops/exporter/costledgerexporter/internal/metadata"
	"github.com/genops-mesh/otelcol-genops/internal/semconv"
)

type ledger struct {
	cfg       *Config
	logger    *zap.Logger
	telemetry *metadata.TelemetryBuilder
	store     *store
	// dest and src: which reporter sides become rows.
	dest, src bool
}

func newLedger(cfg *Config, set exporter.Settings) (*ledger, error) {
	tb, err := metadata.NewTelemetryBuilder(set.TelemetrySettings)
	if err != nil {
		return nil, err
	}
	return &ledger{
		cfg: cfg, logger: set.Logger, telemetry: tb,
		dest: cfg.Reporter != ReporterSource, src: cfg.Reporter != ReporterDestination,
	}, nil
}

// start opens the database and creates or migrates the schema. A
// database that cannot be reached is logged, not fatal: rows wait in the
// queue and the schema is made at the first write that reaches it (a
// collector restarted during a database outage must not crash-loop).
func (l *ledger) start(ctx context.Context, _ component.Host) error {
	s, err := openStore(ctx, l.cfg.DSN)
	if err != nil {
		return fmt.Errorf("cost_ledger: %w", err)
	}
	l.store = s
	readyCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := s.ready(readyCtx); err != nil {
		l.logger.Warn("cost_ledger: database not ready at start; rows wait in the queue and are retried", zap.Error(err))
	}
	return nil
}

func (l *ledger) shutdown(context.Context) error {
	l.telemetry.Shutdown()
	if l.store == nil {
		return nil
	}
	return l.store.close()
}

func (l *ledger) wants(reporter string) bool {
	if reporter == semconv.ReporterSource {
		return l.src
	}
	return l.dest
}

func (l *ledger) pushLogs(ctx context.Context, ld plog.Logs) error {
	var rows []row
	for _, rl := range ld.ResourceLogs().All() {
		res := rl.Resource().Attributes()
		for _, sl := range rl.ScopeLogs().All() {
			for _, lr := range sl.LogRecords().All() {
				a := attrs{res: res, rec: lr.Attributes()}
				if _, ok := lr.Attributes().Get(semconv.AttrRequestError); ok {
					// A span's request record (requestlog connector, on a
					// tiered agent): billed as the span itself, so that
					// either form is the same row. The governance processor
					// removes this attribute from every other record.
					if r, ok := l.spanRow(a, lr.Timestamp(), lr.TraceID(), lr.SpanID(), a.str(semconv.AttrSide), lr.Attributes()); ok {
						rows = append(rows, r)
					}
					continue
				}
				reporter := semconv.ReporterDestination
				if a.str(semconv.AttrEnvoyDirection) == semconv.DirectionOutbound {
					reporter = semconv.ReporterSource
				}
				if !l.wants(reporter) {
					continue
				}
				// The key and call_ts hold the time the record states, or
				// none: never its arrival, which a replay does not share
				// (an ALS entry whose start time is out of range has none).
				ts, billed := lr.Timestamp(), lr.Timestamp()
				if ts == 0 {
					billed = lr.ObservedTimestamp()
				}
				r, ok := newRow(a, ts, billed, reporter)
				if !ok {
					continue
				}
				if r.requestID = a.str(semconv.AttrEnvoyRequestID); r.requestID != "" {
					// The line itself (its body, the model and the token
					// counts) too: a client that reuses one request id for
					// calls in the same millisecond on one connection has
					// each billed, while a replayed line is the same row.
					r.key = idempotencyKey("log2", ts, r.requestID, reporter, r.namespace, r.workload,
						a.str(semconv.AttrNetworkPeerAddress), a.str("network.peer.port"), a.str(semconv.AttrClientAddress), a.str("client.port"),
						scalar(lr.Body()), r.model, tokenString(r.tokens))
				} else {
					// Its content, and the serving workload (as the
					// processor verified it): an identical record another
					// workload sends first does not drop this one (fourth
					// outside attempt).
					r.key = contentKey("log-content2", ts, lr.Attributes(), reporter, r.namespace, r.workload, r.service)
				}
				rows = append(rows, r)
			}
		}
	}
	return l.write(ctx, rows)
}

// pushTraces: SERVER spans are the destination's, CLIENT spans the
// source's (as the sli connector counts them); other kinds are no calls
// between services.
func (l *ledger) pushTraces(ctx context.Context, td ptrace.Traces) error {
	var rows []row
	for _, rs := range td.ResourceSpans().All() {
		res := rs.Resource().Attributes()
		for _, ss := range rs.ScopeSpans().All() {
			for _, span := range ss.Spans().All() {
				var reporter string
				switch span.Kind() {
				case ptrace.SpanKindServer:
					reporter = semconv.ReporterDestination
				case ptrace.SpanKindClient:
					reporter = semconv.ReporterSource
				default:
					continue
				}
				r, ok := l.spanRow(attrs{res: res, rec: span.Attributes()}, span.StartTimestamp(), span.TraceID(), span.SpanID(), reporter, span.Attributes())
				if !ok {
					continue
				}
				rows = append(rows, r)
			}
		}
	}
	return l.write(ctx, rows)
}

// spanRow is the row of a span (or of its request record) that reporter
// (destination: a SERVER span, source: a CLIENT span) reported, if it is
// a priced call this ledger keeps.
func (l *ledger) spanRow(a attrs, start pcommon.Timestamp, trace pcommon.TraceID, id pcommon.SpanID, reporter string, spanAttrs pcommon.Map) (row, bool) {
	if (reporter != semconv.ReporterDestination && reporter != semconv.ReporterSource) || !l.wants(reporter) {
		return row{}, false
	}
	r, ok := newRow(a, start, start, reporter)
	if !ok {
		return row{}, false
	}
	r.requestID = trace.String()
	if trace.IsEmpty() || id.IsEmpty() {
		r.key = contentKey("span-content2", start, spanAttrs, reporter, r.namespace, r.workload, r.service)
	} else {
		// The serving workload too (as the governance processor
		// verified it): a span another workload sends first with
		// the same ids is another row, not a replay.
		r.key = idempotencyKey("span2", start, trace.String(), id.String(), reporter, r.namespace, r.workload, r.service)
	}
	return r, true
}

func (l *ledger) write(ctx context.Context, rows []row) error {
	if len(rows) == 0 {
		return nil
	}
	if l.store == nil {
		return errors.New("cost_ledger: not started")
	}
	l.telemetry.LedgerRows.Add(ctx, int64(len(rows)))
	cleaned := 0
	for i := range rows {
		cleaned += rows[i].clean()
	}
	if cleaned > 0 {
		l.telemetry.LedgerCleanedValues.Add(ctx, int64(cleaned))
	}
	n, err := l.store.insert(ctx, rows)
	if err != nil && dataError(err) && len(rows) > 1 {
		// A row the database refuses as data (not an outage) would fail
		// its batch on every retry, and the queue would hold back every
		// other team's rows behind it: write the rows one by one and
		// drop, counted and logged, those refused.
		return l.writeEach(ctx, rows)
	}
	if err != nil {
		if dataError(err) {
			l.refused(ctx, rows[0], err)
			return nil
		}
		// Retried by exporterhelper (retry_on_failure), from the queue.
		return fmt.Errorf("cost_ledger: %d rows: %w", len(rows), err)
	}
	l.telemetry.LedgerInserted.Add(ctx, n)
	return nil
}

func (l *ledger) writeEach(ctx context.Context, rows []row) error {
	for i := range rows {
		n, err := l.store.insert(ctx, rows[i:i+1])
		switch {
		case err == nil:
			l.telemetry.LedgerInserted.Add(ctx, n)
		case dataError(err):
			l.refused(ctx, rows[i], err)
		default:
			// An outage meanwhile: the batch is retried whole; the rows
			// already written are conflicts then.
			return fmt.Errorf("cost_ledger: %d rows: %w", len(rows), err)
		}
	}
	return nil
}

func (l *ledger) refused(ctx context.Context, r row, err error) {
	l.telemetry.LedgerRefused.Add(ctx, 1)
	l.logger.Error("cost_ledger: the database refused a row; it is dropped",
		zap.String("idempotency_key", r.key), zap.String("model", r.model), zap.Time("ts", r.ts), zap.Error(err))
}

// dataError is a database's refusal of a value (PostgreSQL's SQLSTATE
// class 22, data exception; SQLite's constraint and mismatch errors):
// retrying the same row cannot succeed.
func dataError(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return strings.HasPrefix(pe.Code, "22")
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() & 0xff {
		case sqlite3.SQLITE_MISMATCH, sqlite3.SQLITE_TOOBIG:
			return true
		}
	}
	return false
}
