package main

// gremlins v0.6.0 reports two kinds of mutants NOT COVERED without running
// them, although the tests reach them
// (https://github.com/go-gremlins/gremlins/issues/298): conditions of a
// switch's case clauses (Go's coverage blocks start after the colon), and
// expressions outside any function (constants and package variables, which
// coverage does not instrument). Counting them as not covered would make
// 95% mutator coverage depend on writing `if` chains instead of switches,
// so this file runs those mutants itself: it applies the mutation to a copy
// of the file, hands it to `go test -overlay` (the tree is not touched),
// and records killed or lived. A case condition counts as covered when the
// statement that holds its switch was run (the package's own coverage
// profile says so); a package-level expression always is.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/scanner"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// replacements are gremlins' default mutators (the ones `make mutate`
// runs), token by token.
var replacements = map[string]map[token.Token]token.Token{
	"CONDITIONALS_BOUNDARY": {token.LSS: token.LEQ, token.LEQ: token.LSS, token.GTR: token.GEQ, token.GEQ: token.GTR},
	"CONDITIONALS_NEGATION": {token.EQL: token.NEQ, token.NEQ: token.EQL, token.LSS: token.GEQ, token.LEQ: token.GTR,
		token.GTR: token.LEQ, token.GEQ: token.LSS},
	"ARITHMETIC_BASE":     {token.ADD: token.SUB, token.SUB: token.ADD, token.MUL: token.QUO, token.QUO: token.MUL, token.REM: token.MUL},
	"INCREMENT_DECREMENT": {token.INC: token.DEC, token.DEC: token.INC},
	"INVERT_NEGATIVES":    {token.SUB: token.ADD},
}

// rerunner runs the mutants gremlins could not.
type rerunner struct {
	timeout time.Duration
	tags    string // build tags, as gremlins' --tags
	// covered caches each package's coverage profile: file → blocks.
	covered map[string]map[string][]block
}

type block struct{ startLine, startCol, endLine, endCol, count int }

// where tells whether a mutant at line:col of a parsed file is one that
// gremlins skips wrongly, and whether the tests reach it: the position
// of the statement whose coverage decides (zero for a package-level
// expression, always run).
func where(fset *token.FileSet, f *ast.File, line, col int) (skipped bool, stmt token.Position) {
	inFunc := false
	var found *ast.SwitchStmt
	ast.Inspect(f, func(n ast.Node) bool {
		if n == nil || found != nil {
			return false
		}
		start, end := fset.Position(n.Pos()), fset.Position(n.End())
		if !contains(start, end, line, col) {
			return false
		}
		switch n := n.(type) {
		case *ast.FuncDecl, *ast.FuncLit:
			inFunc = true
		case *ast.SwitchStmt:
			for _, c := range n.Body.List {
				for _, e := range c.(*ast.CaseClause).List {
					if contains(fset.Position(e.Pos()), fset.Position(e.End()), line, col) {
						found = n
						stmt = fset.Position(n.Pos())
						return false
					}
				}
			}
		}
		return true
	})
	switch {
	case found != nil:
		return true, stmt
	case !inFunc:
		return true, token.Position{}
	}
	return false, token.Position{}
}

func contains(start, end token.Position, line, col int) bool {
	after := line > start.Line || line == start.Line && col >= start.Column
	before := line < end.Line || line == end.Line && col < end.Column
	return after && before
}

// reached tells whether the package's tests ran the statement at pos.
func (r *rerunner) reached(dir, file string, pos token.Position) (bool, error) {
	if pos.Line == 0 {
		return true, nil
	}
	if r.covered == nil {
		r.covered = map[string]map[string][]block{}
	}
	blocks, ok := r.covered[dir]
	if !ok {
		var err error
		if blocks, err = coverage(dir, r.tags); err != nil {
			return false, err
		}
		r.covered[dir] = blocks
	}
	for _, b := range blocks[filepath.Base(file)] {
		if b.count > 0 && contains(token.Position{Line: b.startLine, Column: b.startCol}, token.Position{Line: b.endLine, Column: b.endCol}, pos.Line, pos.Column) {
			return true, nil
		}
	}
	return false, nil
}

// coverage runs a package's tests once with a coverage profile.
func coverage(dir, tags string) (map[string][]block, error) {
	prof, err := os.CreateTemp("", "mutate-cover-*.out")
	if err != nil {
		return nil, err
	}
	prof.Close()
	defer os.Remove(prof.Name())
	cmd := exec.Command("go", "test", "-count=1", "-tags="+tags, "-coverprofile="+prof.Name(), "./"+dir)
	if out, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("coverage of %s: %v\n%s", dir, err, out)
	}
	data, err := os.ReadFile(prof.Name())
	if err != nil {
		return nil, err
	}
	out := map[string][]block{}
	for _, line := range strings.Split(string(data), "\n")[1:] {
		// name.go:12.34,15.2 3 1
		name, rest, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		var b block
		var stmts int
		if _, err := fmt.Sscanf(rest, "%d.%d,%d.%d %d %d", &b.startLine, &b.startCol, &b.endLine, &b.endCol, &stmts, &b.count); err != nil {
			continue
		}
		out[filepath.Base(name)] = append(out[filepath.Base(name)], b)
	}
	return out, nil
}

// mutate returns src with the mutation of type typ applied to the token
// at line:col.
func mutate(src []byte, typ string, line, col int) ([]byte, error) {
	repl, ok := replacements[typ]
	if !ok {
		return nil, fmt.Errorf("mutator %s is not one this command applies", typ)
	}
	fset := token.NewFileSet()
	file := fset.AddFile("", fset.Base(), len(src))
	var s scanner.Scanner
	s.Init(file, src, nil, 0)
	for {
		pos, tok, _ := s.Scan()
		if tok == token.EOF {
			return nil, fmt.Errorf("no token at %d:%d", line, col)
		}
		p := fset.Position(pos)
		if p.Line != line || p.Column != col {
			continue
		}
		to, ok := repl[tok]
		if !ok {
			return nil, fmt.Errorf("%s does not mutate %s at %d:%d", typ, tok, line, col)
		}
		off := file.Offset(pos)
		var out bytes.Buffer
		out.Write(src[:off])
		out.WriteString(to.String())
		out.Write(src[off+len(tok.String()):])
		return out.Bytes(), nil
	}
}

// run runs the package's tests with the mutated file in place (an
// overlay) and returns KILLED, LIVED, TIMED OUT or NOT VIABLE.
func (r *rerunner) run(dir, file string, m mutation) (string, error) {
	src, err := os.ReadFile(file)
	if err != nil {
		return "", err
	}
	mutated, err := mutate(src, m.Type, m.Line, m.Column)
	if err != nil {
		return "", err
	}
	tmp, err := os.MkdirTemp("", "mutate-*")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	copyPath := filepath.Join(tmp, filepath.Base(file))
	if err := os.WriteFile(copyPath, mutated, 0o644); err != nil {
		return "", err
	}
	abs, err := filepath.Abs(file)
	if err != nil {
		return "", err
	}
	overlay, _ := json.Marshal(map[string]map[string]string{"Replace": {abs: copyPath}})
	overlayPath := filepath.Join(tmp, "overlay.json")
	if err := os.WriteFile(overlayPath, overlay, 0o644); err != nil {
		return "", err
	}
	ctx, cancel := context.WithTimeout(context.Background(), r.timeout+time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "test", "-count=1", "-failfast", "-tags="+r.tags, "-overlay="+overlayPath,
		"-timeout="+r.timeout.String(), "./"+dir)
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return "LIVED", nil
	case bytes.Contains(out, []byte("[build failed]")), bytes.Contains(out, []byte("[setup failed]")):
		return "NOT VIABLE", nil
	case ctx.Err() != nil, bytes.Contains(out, []byte("panic: test timed out")):
		return "TIMED OUT", nil
	case errors.As(err, &exit):
		return "KILLED", nil
	}
	return "", fmt.Errorf("go test %s: %v", dir, err)
}

// rerun replaces the status of every NOT COVERED mutant of a report that
// gremlins skipped wrongly by the outcome of running it, and says on w
// what it does.
func (r *rerunner) rerun(w *os.File, dir string, rep *report) error {
	for fi := range rep.Files {
		f := &rep.Files[fi]
		path := filepath.Join(dir, f.Filename)
		fset := token.NewFileSet()
		parsed, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		for mi := range f.Mutations {
			m := &f.Mutations[mi]
			if m.Status != "NOT COVERED" {
				continue
			}
			skipped, stmt := where(fset, parsed, m.Line, m.Column)
			if !skipped {
				continue
			}
			if ok, err := r.reached(dir, path, stmt); err != nil || !ok {
				if err != nil {
					return err
				}
				continue
			}
			status, err := r.run(dir, path, *m)
			if err != nil {
				return fmt.Errorf("%s:%d:%d %s: %w", path, m.Line, m.Column, m.Type, err)
			}
			fmt.Fprintf(w, "rerun %-11s %s:%d:%d %s\n", status, path, m.Line, m.Column, m.Type)
			m.Status = status
			m.Rerun = true
		}
	}
	return nil
}
