// Command mutate reads the JSON reports that gremlins writes (`gremlins
// unleash -o report.json <pkg>`, one per package), takes out the mutants
// listed as equivalent in a list with a reason each, and prints per
// package what `make mutate` promises: killed, lived, not covered, test
// efficacy and mutator coverage. It exits non-zero when a package is below
// the thresholds, or when the list names a mutant that no longer exists or
// that a test kills (an entry that is not equivalent is a lowered
// threshold in disguise).
//
// gremlins cannot be told that a mutant is equivalent, and a list keyed by
// line numbers goes stale with the first edit above it, so an entry names
// the file, the mutator and the text of the mutated line:
//
//	internal/accesslog/format.go | CONDITIONALS_BOUNDARY | for j < len(f) && isOpChar(f[j]) { | a scan that stops one byte early finds the same '%'
//
// Every mutant of that type on a line whose trimmed text equals the third
// field is equivalent; the fourth field says why, and must not be empty.
// Where a line has two mutants of one type and only one is equivalent, the
// mutator is followed by its column: CONDITIONALS_BOUNDARY@17.
package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// report is the part of gremlins' JSON output (internal/report/internal in
// gremlins v0.6.0) that this command reads.
type report struct {
	GoModule string `json:"go_module"`
	Files    []struct {
		Filename  string     `json:"file_name"`
		Mutations []mutation `json:"mutations"`
	} `json:"files"`
}

type mutation struct {
	Type   string `json:"type"`
	Status string `json:"status"`
	Line   int    `json:"line"`
	Column int    `json:"column"`
	// Rerun: gremlins did not run it, this command did (rerun.go).
	Rerun bool `json:"-"`
}

// equivalent is one entry of the list.
type equivalent struct {
	file, mutator, line, reason string
	where                       string // list file:line, for messages
	used                        int
}

func (e *equivalent) key() string { return e.file + "|" + e.mutator + "|" + e.line }

// tally is what one package's report adds up to.
type tally struct {
	pkg                                 string
	killed, lived, notCovered, timedOut int
	equivalent                          int
	survivors                           []string
}

func (t tally) efficacy() float64 {
	if t.killed+t.lived == 0 {
		return 100
	}
	return 100 * float64(t.killed) / float64(t.killed+t.lived)
}

func (t tally) coverage() float64 {
	if t.killed+t.lived+t.notCovered == 0 {
		return 100
	}
	return 100 * float64(t.killed+t.lived) / float64(t.killed+t.lived+t.notCovered)
}

func main() {
	list := flag.String("equivalent", "test/mutate/equivalent.txt", "the list of equivalent mutants")
	minEfficacy := flag.Float64("efficacy", 90, "the lowest test efficacy (%) a package may have")
	minCoverage := flag.Float64("coverage", 95, "the lowest mutator coverage (%) a package may have")
	rerun := flag.Bool("rerun", true, "run the mutants gremlins reports NOT COVERED without running them (case conditions, package-level expressions)")
	timeout := flag.Duration("timeout", 5*time.Minute, "the test timeout of a mutant this command runs")
	tags := flag.String("tags", "", "build tags of the test runs (as gremlins' --tags)")
	flag.Usage = func() {
		fmt.Fprintln(flag.CommandLine.Output(), "usage: mutate [flags] package-dir=report.json...")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() == 0 {
		flag.Usage()
		os.Exit(2)
	}
	var r *rerunner
	if *rerun {
		r = &rerunner{timeout: *timeout, tags: *tags}
	}
	if err := run(os.Stdout, *list, flag.Args(), *minEfficacy, *minCoverage, r); err != nil {
		fmt.Fprintln(os.Stderr, "mutate:", err)
		os.Exit(1)
	}
}

// run reads the reports, each given as package-dir=report.json: gremlins
// names the files it mutated relative to the package it ran on.
func run(w io.Writer, listPath string, reports []string, minEfficacy, minCoverage float64, r *rerunner) error {
	eqs, err := readList(listPath)
	if err != nil {
		return err
	}
	byKey := map[string]*equivalent{}
	for _, e := range eqs {
		byKey[e.key()] = e
	}
	var problems []string
	var tallies []tally
	files := map[string]bool{}
	for _, arg := range reports {
		dir, path, ok := strings.Cut(arg, "=")
		if !ok {
			return fmt.Errorf("%q: want package-dir=report.json", arg)
		}
		t, seen, errs := tallyReport(path, filepath.Clean(dir), byKey, r)
		problems = append(problems, errs...)
		tallies = append(tallies, t)
		for f := range seen {
			files[f] = true
		}
	}
	for _, e := range eqs {
		// An entry for a file none of the reports mutated belongs to a
		// package not run this time: it cannot be judged.
		if files[e.file] && e.used == 0 {
			problems = append(problems, fmt.Sprintf("%s: no mutant that lived or was not covered matches %s %s %q: remove the entry", e.where, e.file, e.mutator, e.line))
		}
	}
	fmt.Fprintf(w, "%-40s %6s %6s %6s %6s %6s %9s %9s\n", "package", "killed", "lived", "n/cov", "t/out", "equiv", "efficacy", "coverage")
	for _, t := range tallies {
		fmt.Fprintf(w, "%-40s %6d %6d %6d %6d %6d %8.1f%% %8.1f%%\n", t.pkg, t.killed, t.lived, t.notCovered, t.timedOut, t.equivalent, t.efficacy(), t.coverage())
		for _, s := range t.survivors {
			fmt.Fprintln(w, "    "+s)
		}
		if t.efficacy() < minEfficacy {
			problems = append(problems, fmt.Sprintf("%s: test efficacy %.1f%% is below %.0f%%", t.pkg, t.efficacy(), minEfficacy))
		}
		if t.coverage() < minCoverage {
			problems = append(problems, fmt.Sprintf("%s: mutator coverage %.1f%% is below %.0f%%", t.pkg, t.coverage(), minCoverage))
		}
	}
	if len(problems) > 0 {
		return errors.New(strings.Join(problems, "\n"))
	}
	return nil
}

// tallyReport adds up one gremlins report of the package in dir, leaving
// out the equivalent mutants, and returns the module-relative files it
// mutated.
func tallyReport(path, dir string, byKey map[string]*equivalent, rr *rerunner) (tally, map[string]bool, []string) {
	var problems []string
	seen := map[string]bool{}
	data, err := os.ReadFile(path)
	if err != nil {
		return tally{pkg: path}, seen, []string{err.Error()}
	}
	var r report
	if err := json.Unmarshal(data, &r); err != nil {
		return tally{pkg: path}, seen, []string{fmt.Sprintf("%s: %v", path, err)}
	}
	t := tally{pkg: filepath.ToSlash(dir)}
	if rr != nil {
		if err := rr.rerun(os.Stderr, dir, &r); err != nil {
			return t, seen, []string{err.Error()}
		}
	}
	sort.Slice(r.Files, func(i, j int) bool { return r.Files[i].Filename < r.Files[j].Filename })
	for _, f := range r.Files {
		name := filepath.ToSlash(filepath.Join(dir, f.Filename))
		seen[name] = true
		lines, err := readLines(name)
		if err != nil {
			problems = append(problems, err.Error())
			continue
		}
		sort.Slice(f.Mutations, func(i, j int) bool {
			a, b := f.Mutations[i], f.Mutations[j]
			return a.Line < b.Line || a.Line == b.Line && a.Column < b.Column
		})
		for _, m := range f.Mutations {
			text := ""
			if m.Line >= 1 && m.Line <= len(lines) {
				text = strings.TrimSpace(lines[m.Line-1])
			}
			e := byKey[fmt.Sprintf("%s|%s@%d|%s", name, m.Type, m.Column, text)]
			if e == nil {
				e = byKey[name+"|"+m.Type+"|"+text]
			}
			switch m.Status {
			case "KILLED":
				if e != nil {
					problems = append(problems, fmt.Sprintf("%s: %s:%d:%d %s is killed by a test: it is not equivalent", e.where, name, m.Line, m.Column, m.Type))
					e.used++
				}
				t.killed++
			case "TIMED OUT":
				t.timedOut++
			case "LIVED", "NOT COVERED":
				if e != nil {
					e.used++
					t.equivalent++
					continue
				}
				if m.Status == "LIVED" {
					t.lived++
				} else {
					t.notCovered++
				}
				how := ""
				if m.Rerun {
					how = " (run by test/mutate)"
				}
				t.survivors = append(t.survivors, fmt.Sprintf("%-11s %s:%d:%d %s%s: %s", m.Status, name, m.Line, m.Column, m.Type, how, text))
			}
		}
	}
	return t, seen, problems
}

func readLines(path string) ([]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return strings.Split(string(data), "\n"), nil
}

// readList parses the list of equivalent mutants: one entry per line,
// four fields separated by " | ", '#' starts a comment line.
func readList(path string) ([]*equivalent, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []*equivalent
	seen := map[string]string{}
	sc := bufio.NewScanner(f)
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		where := fmt.Sprintf("%s:%d", path, n)
		fields := strings.SplitN(line, " | ", 4)
		if len(fields) != 4 {
			return nil, fmt.Errorf("%s: want 4 fields separated by \" | \" (file, mutator, line text, reason), got %d", where, len(fields))
		}
		for i := range fields {
			fields[i] = strings.TrimSpace(fields[i])
			if fields[i] == "" {
				return nil, fmt.Errorf("%s: field %d is empty", where, i+1)
			}
		}
		e := &equivalent{file: fields[0], mutator: fields[1], line: fields[2], reason: fields[3], where: where}
		if prev, dup := seen[e.key()]; dup {
			return nil, fmt.Errorf("%s: the same mutant as %s", where, prev)
		}
		seen[e.key()] = where
		out = append(out, e)
	}
	return out, sc.Err()
}
