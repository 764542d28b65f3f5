package accesslog

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Format is a compiled Envoy text format: the literal text between command
// operators, used as delimiters, and the operators themselves.
type Format struct {
	source string
	// lits[i] precedes ops[i]; lits[len(ops)] follows the last operator.
	lits []string
	schema
}

// schema is what text and JSON formats share: the operators whose values a
// parse fills, and how the record builder reads them.
type schema struct {
	ops []Operator
	// direction, when set, is the direction of every record (Linkerd's
	// proxy logs only inbound requests); otherwise it is derived from the
	// upstream cluster.
	direction string
}

// Operators returns the compiled operators, in the order of the format.
func (f *Format) Operators() []Operator { return f.ops }

// String returns the format string the Format was compiled from.
func (f *Format) String() string { return f.source }

// CompileError is a format string that cannot be compiled, with the byte
// offset of the fault.
type CompileError struct {
	Pos int
	Msg string
}

func (e *CompileError) Error() string { return fmt.Sprintf("position %d: %s", e.Pos, e.Msg) }

// Compile compiles an Envoy format string (as given to Envoy's text_format
// or Istio's meshConfig.accessLogFormat). Trailing newlines, which Envoy
// appends to each line, are ignored. Operators this package does not know
// compile to raw attributes named after them.
func Compile(format string) (*Format, error) {
	src := format
	format = strings.TrimRight(format, "\r\n")
	if strings.TrimSpace(format) == "" {
		return nil, &CompileError{0, "empty format string"}
	}
	f := &Format{source: src}
	var lit strings.Builder
	prevOpEnd := -1 // end of the previous operator when no literal followed it yet
	for i := 0; i < len(format); i++ {
		c := format[i]
		if c != '%' {
			lit.WriteByte(c)
			continue
		}
		if i+1 < len(format) && format[i+1] == '%' { // "%%" is a literal percent sign
			lit.WriteByte('%')
			i++
			continue
		}
		end, err := operatorEnd(format, i)
		if err != nil {
			return nil, err
		}
		text := format[i+1 : end]
		op, err := parseOperator(text, i)
		if err != nil {
			return nil, err
		}
		if lit.Len() == 0 && prevOpEnd >= 0 {
			prev := f.ops[len(f.ops)-1]
			return nil, &CompileError{i, fmt.Sprintf("operators %%%s%% and %%%s%% are adjacent: nothing separates their values, so a line cannot be split between them", prev.Text, op.Text)}
		}
		f.lits = append(f.lits, lit.String())
		lit.Reset()
		f.ops = append(f.ops, op)
		i = end
		prevOpEnd = i
	}
	f.lits = append(f.lits, lit.String())
	if len(f.ops) == 0 {
		return nil, &CompileError{0, "no command operators: the format has nothing to parse"}
	}
	return f, nil
}

// operatorEnd returns the index of the percent sign that closes the
// operator opened at start. An argument in parentheses may itself hold
// percent signs (START_TIME(%Y-%m-%d)), so it is skipped as a whole.
func operatorEnd(format string, start int) (int, error) {
	i := start + 1
	for i < len(format) && (format[i] >= 'A' && format[i] <= 'Z' || format[i] >= '0' && format[i] <= '9' || format[i] == '_') {
		i++
	}
	if i < len(format) && format[i] == '(' {
		closing := strings.IndexByte(format[i:], ')')
		if closing < 0 {
			return 0, &CompileError{start, "operator argument has no closing parenthesis"}
		}
		i += closing + 1
	}
	end := strings.IndexByte(format[i:], '%')
	if end < 0 {
		return 0, &CompileError{start, "unterminated command operator: no closing %"}
	}
	end += i
	if text := format[start+1 : end]; strings.ContainsAny(text, " \t\"") && !strings.Contains(text, "(") {
		return 0, &CompileError{start, fmt.Sprintf("%%%s%% is not a command operator (spaces or quotes inside); write a literal percent sign as %%%%", text)}
	}
	return end, nil
}

// Fields holds the values of one parsed record, aligned with the
// operators of the format that parsed it. A value "-" (Envoy's mark for
// absent) is not present. Reuse a Fields across parses: a parse reuses its
// storage and allocates nothing once it is large enough.
type Fields struct {
	vals    []string
	present []bool
	// starts is Parse's scratch space: where each value begins.
	starts []int
	// extra holds key/value pairs that no operator names (JSON keys outside
	// the key map), kept as attributes named after the key.
	extra [][2]string
	// validUTF8 is set when the whole line was checked and is valid UTF-8,
	// so that no value needs checking on its own.
	validUTF8 bool
}

func (fl *Fields) reset(n int) {
	if cap(fl.vals) < n {
		fl.vals = make([]string, n)
		fl.present = make([]bool, n)
	}
	fl.vals = fl.vals[:n]
	fl.present = fl.present[:n]
	clear(fl.vals)
	clear(fl.present)
	fl.extra = fl.extra[:0]
	fl.validUTF8 = false
}

// Len is the number of operator values.
func (fl *Fields) Len() int { return len(fl.vals) }

// Value returns the i-th operator's value and whether it is present.
func (fl *Fields) Value(i int) (string, bool) { return fl.vals[i], fl.present[i] }

func (fl *Fields) set(i int, v string) {
	if v == "-" || v == "" {
		return
	}
	fl.vals[i], fl.present[i] = v, true
}

// ParseError says why a line did not match its format. Reason is a short,
// fixed word suitable for a metric label.
type ParseError struct {
	Reason string
	Pos    int
	Msg    string
}

func (e *ParseError) Error() string {
	return fmt.Sprintf("%s at byte %d: %s", e.Reason, e.Pos, e.Msg)
}

// Reasons of a ParseError.
const (
	ReasonPrefix    = "prefix"    // the line does not start with the format's leading text
	ReasonDelimiter = "delimiter" // the text after an operator is missing
	ReasonTrailing  = "trailing"  // more fields than the format has
	ReasonEmpty     = "empty"     // nothing but whitespace
	ReasonJSON      = "json"      // not a JSON object
	ReasonAmbiguous = "ambiguous" // a value holds the text that separates fields: more than one split fits
)

// Parse splits line into the format's fields. Values are substrings of
// line: no copy is made. On error fields holds what was parsed so far.
func (f *Format) Parse(line string, fields *Fields) error {
	fields.reset(len(f.ops))
	line = strings.TrimRight(line, "\r\n")
	if strings.TrimSpace(line) == "" {
		return &ParseError{ReasonEmpty, 0, "empty line"}
	}
	fields.validUTF8 = utf8.ValidString(line)
	if !strings.HasPrefix(line, f.lits[0]) {
		return &ParseError{ReasonPrefix, 0, fmt.Sprintf("line does not start with %q", f.lits[0])}
	}
	pos := len(f.lits[0])
	last := len(f.ops) - 1
	starts := fields.starts[:0]
	for i := range f.ops {
		starts = append(starts, pos)
		next := f.lits[i+1]
		if i == last {
			rest := strings.TrimRight(line[pos:], " \t")
			if !strings.HasSuffix(rest, next) || len(rest) < len(next) {
				return &ParseError{ReasonDelimiter, pos, fmt.Sprintf("line does not end with %q after %%%s%%", next, f.ops[i].Text)}
			}
			v := rest[:len(rest)-len(next)]
			if next == "" && !strings.HasSuffix(f.lits[i], `"`) && strings.IndexByte(v, ' ') >= 0 {
				return &ParseError{ReasonTrailing, pos + strings.IndexByte(v, ' '), fmt.Sprintf("text after the last field %%%s%%: the line has more fields than the format", f.ops[i].Text)}
			}
			fields.set(i, v)
			fields.starts = starts
			return f.unambiguous(line, starts, pos+len(v))
		}
		var idx int
		if len(next) == 1 {
			idx = strings.IndexByte(line[pos:], next[0])
		} else {
			idx = strings.Index(line[pos:], next)
		}
		if idx < 0 {
			return &ParseError{ReasonDelimiter, pos, fmt.Sprintf("no %q after %%%s%%", next, f.ops[i].Text)}
		}
		fields.set(i, line[pos:pos+idx])
		pos += idx + len(next)
	}
	return nil
}

// unambiguous checks that the split Parse found (each field ending at the
// first occurrence of the text after it) is the only one: splitting from
// the end (each field starting after the last occurrence of the text
// before it) must find the same starts. Envoy's TEXT format escapes
// nothing, so a header value holding a separator (a User-Agent with
// `" "` in it) would otherwise shift every later field — the peer, the
// team, the tokens — without a parse error. end is where the last value
// ends.
//
// The split from the end starts field i after the last occurrence of the
// text before it; that is the start Parse found exactly when the text
// does not occur again after the occurrence Parse used, up to the end of
// field i. A forward search for that (strings.Index) costs a fraction of
// a backward one (strings.LastIndex).
func (f *Format) unambiguous(line string, starts []int, end int) error {
	for i := len(f.ops) - 1; i > 0; i-- {
		lit := f.lits[i]
		used := starts[i] - len(lit) // where the occurrence Parse split at begins
		if strings.Contains(line[used+1:end], lit) {
			return &ParseError{ReasonAmbiguous, starts[i], fmt.Sprintf("the value of %%%s%% or %%%s%% holds %q, which separates them: the line splits more than one way", f.ops[i-1].Text, f.ops[i].Text, lit)}
		}
		end = used
	}
	return nil
}
