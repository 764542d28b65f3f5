package accesslog

import (
	"fmt"

	"go.opentelemetry.io/collector/pdata/plog"
)

// Builder writes records from values that arrive already split, as in
// Envoy's gRPC access log service: each value is set by the index of its
// operator, and the record is written exactly as a parsed line would be,
// so both paths give the same attributes.
type Builder struct {
	schema
}

// NewBuilder compiles the operators (without percent signs, e.g.
// "RESPONSE_CODE", "REQ(:METHOD)"); values are then set by their index in
// this list.
func NewBuilder(operators ...string) (*Builder, error) {
	b := &Builder{}
	for i, text := range operators {
		op, err := parseOperator(text, 0)
		if err != nil {
			return nil, fmt.Errorf("operator %d %q: %w", i, text, err)
		}
		b.ops = append(b.ops, op)
	}
	return b, nil
}

// Reset prepares fields for a new record.
func (b *Builder) Reset(fields *Fields) { fields.reset(len(b.ops)) }

// WriteRecord writes the values set in fields onto lr.
func (b *Builder) WriteRecord(fields *Fields, lr plog.LogRecord) error {
	return b.schema.writeRecord(fields, lr)
}

// Set sets the value of operator i ("" and "-" mean absent).
func (fl *Fields) Set(i int, v string) { fl.set(i, v) }

// AddExtra adds an attribute that no operator names (a header outside the
// format, say).
func (fl *Fields) AddExtra(key, value string) {
	if value == "" {
		return
	}
	fl.extra = append(fl.extra, [2]string{key, value})
}
