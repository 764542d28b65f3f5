package main

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const source = `package p

func f(a, b int) bool {
	if a < b {
		return a > 0 && b > 0
	}
	return false
}
`

// write puts a source file, a gremlins report over it and a list in a
// temporary module root.
func write(t *testing.T, report, list string) (root, reportPath, listPath string) {
	t.Helper()
	root = t.TempDir()
	for name, body := range map[string]string{"p/p.go": source, "p.json": report, "equivalent.txt": list} {
		path := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root, filepath.Join(root, "p.json"), filepath.Join(root, "equivalent.txt")
}

const sample = `{"go_module":"m","files":[{"file_name":"p.go","mutations":[
 {"type":"CONDITIONALS_BOUNDARY","status":"KILLED","line":4,"column":7},
 {"type":"CONDITIONALS_NEGATION","status":"KILLED","line":4,"column":7},
 {"type":"CONDITIONALS_BOUNDARY","status":"LIVED","line":5,"column":12},
 {"type":"CONDITIONALS_BOUNDARY","status":"KILLED","line":5,"column":23},
 {"type":"CONDITIONALS_NEGATION","status":"NOT COVERED","line":5,"column":12},
 {"type":"INVERT_LOGICAL","status":"TIMED OUT","line":5,"column":17}]}]}`

func TestTally(t *testing.T) {
	for _, tc := range []struct {
		name, list    string
		eff, cov      float64
		wantErr       []string
		wantSurvivors int
	}{
		{name: "no list", list: "", eff: 90, cov: 95, wantSurvivors: 2,
			wantErr: []string{"p: test efficacy 75.0% is below 90%", "p: mutator coverage 80.0% is below 95%"}},
		{name: "thresholds met", list: "", eff: 75, cov: 80, wantSurvivors: 2},
		{name: "an equivalent by column",
			list: "# comment\np/p.go | CONDITIONALS_BOUNDARY@12 | return a > 0 && b > 0 | a is never 0 here\n",
			eff:  100, cov: 75, wantSurvivors: 1},
		{name: "an entry that a test kills",
			list: "p/p.go | CONDITIONALS_BOUNDARY | return a > 0 && b > 0 | wrong\n",
			eff:  0, cov: 0,
			wantErr: []string{"is killed by a test: it is not equivalent"}},
		{name: "a stale entry",
			list: "p/p.go | CONDITIONALS_BOUNDARY | if a <= b { | the line changed\n",
			eff:  0, cov: 0, wantSurvivors: 2,
			wantErr: []string{"no mutant that lived or was not covered matches"}},
		{name: "an entry without a reason",
			list:    "p/p.go | CONDITIONALS_BOUNDARY | if a < b { |  \n",
			wantErr: []string{"want 4 fields"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root, rep, list := write(t, sample, tc.list)
			t.Chdir(root) // the list names files from the module root
			var out strings.Builder
			err := run(&out, list, []string{"./p=" + rep}, tc.eff, tc.cov, nil)
			if len(tc.wantErr) == 0 && err != nil {
				t.Fatalf("unexpected error: %v\n%s", err, out.String())
			}
			for _, want := range tc.wantErr {
				if err == nil || !strings.Contains(err.Error(), want) {
					t.Errorf("error %v, want it to say %q", err, want)
				}
			}
			if got := strings.Count(out.String(), "\n    "); err == nil || tc.wantSurvivors > 0 {
				if got != tc.wantSurvivors {
					t.Errorf("%d survivors printed, want %d:\n%s", got, tc.wantSurvivors, out.String())
				}
			}
		})
	}
}

func TestMutate(t *testing.T) {
	src := []byte("package p\n\nconst week = 7 * 24\n\nfunc f(a, b int) bool {\n\tswitch {\n\tcase a <= b:\n\t\treturn a-1 > 0\n\t}\n\treturn false\n}\n")
	for _, tc := range []struct {
		typ       string
		line, col int
		want      string
	}{
		{"CONDITIONALS_BOUNDARY", 7, 9, "case a < b:"},
		{"CONDITIONALS_NEGATION", 7, 9, "case a > b:"},
		{"ARITHMETIC_BASE", 3, 16, "const week = 7 / 24"},
		{"ARITHMETIC_BASE", 8, 11, "return a+1 > 0"},
		{"CONDITIONALS_NEGATION", 8, 14, "return a-1 <= 0"},
	} {
		got, err := mutate(src, tc.typ, tc.line, tc.col)
		if err != nil {
			t.Errorf("%s %d:%d: %v", tc.typ, tc.line, tc.col, err)
			continue
		}
		if line := strings.Split(string(got), "\n")[tc.line-1]; strings.TrimSpace(line) != tc.want {
			t.Errorf("%s %d:%d: %q, want %q", tc.typ, tc.line, tc.col, line, tc.want)
		}
	}
	if _, err := mutate(src, "CONDITIONALS_BOUNDARY", 8, 11); err == nil {
		t.Error("a boundary mutation of '-' was applied")
	}
	if _, err := mutate(src, "INVERT_LOOPCTRL", 7, 9); err == nil {
		t.Error("an unknown mutator was applied")
	}
}

// Which NOT COVERED mutants gremlins skipped wrongly: a switch case's
// condition (decided by the switch statement's coverage) and a
// package-level expression; not a condition in a function's body.
func TestWhere(t *testing.T) {
	src := "package p\n\nconst week = 7 * 24\n\nfunc f(a, b int) bool {\n\tswitch {\n\tcase a <= b:\n\t\treturn a-1 > 0\n\t}\n\treturn false\n}\n"
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "p.go", src, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		line, col int
		skipped   bool
		stmtLine  int
	}{
		{3, 16, true, 0},
		{7, 9, true, 6},
		{8, 14, false, 0},
	} {
		skipped, stmt := where(fset, f, tc.line, tc.col)
		if skipped != tc.skipped || stmt.Line != tc.stmtLine {
			t.Errorf("%d:%d: skipped %v at line %d, want %v at %d", tc.line, tc.col, skipped, stmt.Line, tc.skipped, tc.stmtLine)
		}
	}
}
