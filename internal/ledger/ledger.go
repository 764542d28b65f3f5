// Package ledger opens the cost ledger's database from a DSN, for the
// cost_ledger exporter (which writes it) and genopsctl (which reports
// from it): postgres://… through pgx's database/sql driver, sqlite:PATH
// through the pure-Go modernc driver (no cgo).
package ledger

import (
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"
	"modernc.org/sqlite"               // database/sql driver "sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// Engines.
const (
	Postgres = "postgres"
	SQLite   = "sqlite"
)

// TSLayout is the SQLite ts column's fixed-width UTC text: it sorts as
// time does.
const TSLayout = "2006-01-02T15:04:05.000000000Z"

// Parse tells which engine a DSN names and the driver's data source.
func Parse(dsn string) (engine, source string, err error) {
	switch {
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		return Postgres, dsn, nil
	case strings.HasPrefix(dsn, "sqlite:"):
		path := strings.TrimPrefix(dsn, "sqlite:")
		if path == "" || strings.ContainsAny(path, "?#") {
			return "", "", fmt.Errorf("dsn: sqlite:PATH needs a file path without ? or #, got %q", dsn)
		}
		return SQLite, path, nil
	}
	return "", "", errors.New("dsn: must be postgres://… or sqlite:PATH")
}

// Open opens the database a DSN names (without connecting yet). SQLite
// files are opened in WAL mode with a busy timeout and BEGIN IMMEDIATE
// transactions: writers and readers share the file.
func Open(dsn string) (*sql.DB, string, error) {
	engine, source, err := Parse(dsn)
	if err != nil {
		return nil, "", err
	}
	driver := "pgx"
	if engine == SQLite {
		driver = "sqlite"
		source = "file:" + source + "?_pragma=busy_timeout(30000)&_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_txlock=immediate"
	}
	db, err := sql.Open(driver, source)
	if err != nil {
		return nil, "", err
	}
	if engine == SQLite {
		db.SetMaxOpenConns(1) // one writer per process; others wait on busy_timeout
	} else {
		db.SetMaxOpenConns(4)
	}
	return db, engine, nil
}

// TimeArg is t as the engine's ts column compares it.
func TimeArg(engine string, t time.Time) any {
	if engine == SQLite {
		return t.UTC().Format(TSLayout)
	}
	return t
}

// Busy is SQLite's "database is locked": another connection holds the
// file in a way that busy_timeout does not wait out (switching a new
// file to WAL as a connection opens).
func Busy(err error) bool {
	var se *sqlite.Error
	return errors.As(err, &se) && se.Code()&0xff == sqlite3.SQLITE_BUSY
}

// Rebind writes a query's ? placeholders as the engine takes them
// (PostgreSQL: $1, $2, …), so that one query text serves both engines.
func Rebind(engine, q string) string {
	if engine != Postgres {
		return q
	}
	var b strings.Builder
	n := 0
	for _, c := range q {
		if c == '?' {
			n++
			fmt.Fprintf(&b, "$%d", n)
			continue
		}
		b.WriteRune(c)
	}
	return b.String()
}
