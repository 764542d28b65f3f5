package ledger

import (
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		dsn, engine, source, err string
	}{
		{dsn: "postgres://genops@127.0.0.1:5432/ledger", engine: Postgres, source: "postgres://genops@127.0.0.1:5432/ledger"},
		{dsn: "postgresql://genops@db/ledger?sslmode=require", engine: Postgres, source: "postgresql://genops@db/ledger?sslmode=require"},
		{dsn: "sqlite:/var/lib/genops/ledger.db", engine: SQLite, source: "/var/lib/genops/ledger.db"},
		{dsn: "sqlite:", err: `sqlite:PATH needs a file path without ? or #, got "sqlite:"`},
		{dsn: "sqlite:/tmp/l.db?mode=ro", err: "without ? or #"},
		{dsn: "sqlite:/tmp/l.db#x", err: "without ? or #"},
		{dsn: "mysql://x", err: "must be postgres://… or sqlite:PATH"},
		{dsn: "/tmp/ledger.db", err: "must be postgres://… or sqlite:PATH"},
	} {
		engine, source, err := Parse(tc.dsn)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("Parse(%q): error %v, want %q", tc.dsn, err, tc.err)
			}
			continue
		}
		if err != nil || engine != tc.engine || source != tc.source {
			t.Errorf("Parse(%q) = %q, %q, %v; want %q, %q", tc.dsn, engine, source, err, tc.engine, tc.source)
		}
	}
}

// An SQLite ledger is one writer per process in WAL mode; PostgreSQL gets
// a small pool.
func TestOpen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ledger.db")
	db, engine, err := Open("sqlite:" + path)
	if err != nil || engine != SQLite {
		t.Fatalf("Open sqlite: %q %v", engine, err)
	}
	defer db.Close()
	if n := db.Stats().MaxOpenConnections; n != 1 {
		t.Errorf("sqlite max open connections %d, want 1", n)
	}
	var mode string
	if err := db.QueryRow("PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
		t.Errorf("journal_mode %q %v, want wal", mode, err)
	}
	var timeout int
	if err := db.QueryRow("PRAGMA busy_timeout").Scan(&timeout); err != nil || timeout != 30000 {
		t.Errorf("busy_timeout %d %v, want 30000", timeout, err)
	}
	pg, engine, err := Open("postgres://genops@127.0.0.1:1/ledger") // not connected yet
	if err != nil || engine != Postgres {
		t.Fatalf("Open postgres: %q %v", engine, err)
	}
	defer pg.Close()
	if n := pg.Stats().MaxOpenConnections; n != 4 {
		t.Errorf("postgres max open connections %d, want 4", n)
	}
	if _, _, err := Open("sqlite:"); err == nil {
		t.Error("Open accepted an empty sqlite path")
	}
}

func TestTimeArg(t *testing.T) {
	at := time.Date(2026, 12, 2, 9, 30, 0, 5, time.FixedZone("CET", 3600))
	if got := TimeArg(SQLite, at); got != "2026-12-02T08:30:00.000000005Z" {
		t.Errorf("sqlite: %v", got)
	}
	if got := TimeArg(Postgres, at); got != any(at) {
		t.Errorf("postgres: %v", got)
	}
}

func TestRebind(t *testing.T) {
	const q = "SELECT cost FROM ledger WHERE team = ? AND ts >= ? AND ts < ?"
	if got := Rebind(Postgres, q); got != "SELECT cost FROM ledger WHERE team = $1 AND ts >= $2 AND ts < $3" {
		t.Errorf("postgres: %s", got)
	}
	if got := Rebind(SQLite, q); got != q {
		t.Errorf("sqlite: %s", got)
	}
}

// A second writer on a locked SQLite file is told apart from other errors.
func TestBusy(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ledger.db")
	a, _, err := Open("sqlite:" + path)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if _, err := a.Exec("CREATE TABLE t (x INTEGER)"); err != nil {
		t.Fatal(err)
	}
	tx, err := a.Begin() // BEGIN IMMEDIATE: holds the write lock
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	b, _, err := Open("sqlite:" + path)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if _, err := b.Exec("PRAGMA busy_timeout = 0"); err != nil {
		t.Fatal(err)
	}
	_, err = b.Exec("INSERT INTO t VALUES (1)")
	if !Busy(err) {
		t.Errorf("Busy(%v) = false for a locked database", err)
	}
	if Busy(nil) || Busy(errNotBusy{}) {
		t.Error("Busy is true for an error that is not SQLite's")
	}
}

type errNotBusy struct{}

func (errNotBusy) Error() string { return "database is locked" }
