package governanceprocessor

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"os"
	"path"
	"strings"

	"gopkg.in/yaml.v3"
)

// PriceTable is config/pricing.yaml: list prices per million tokens by
// model glob, first match wins, with a default row.
type PriceTable struct {
	Currency string     `yaml:"currency"`
	AsOf     string     `yaml:"as_of"`
	Source   string     `yaml:"source"`
	Models   []PriceRow `yaml:"models"`
	Default  *PriceRow  `yaml:"default"`
}

// PriceRow prices one model (or glob of models).
type PriceRow struct {
	Match            string  `yaml:"match"`
	Provider         string  `yaml:"provider"`
	InputPerMillion  float64 `yaml:"input_per_million"`
	OutputPerMillion float64 `yaml:"output_per_million"`
}

// LoadPriceTable reads and checks a price table.
func LoadPriceTable(file string) (*PriceTable, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	var t PriceTable
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&t); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	if t.Currency == "" {
		return nil, fmt.Errorf("%s: currency: required (e.g. USD)", file)
	}
	var errs []error
	for i, r := range t.Models {
		if r.Match == "" {
			errs = append(errs, fmt.Errorf("%s: models[%d].match: required", file, i))
		}
		if _, err := path.Match(r.Match, ""); err != nil {
			errs = append(errs, fmt.Errorf("%s: models[%d].match %q: %w", file, i, r.Match, err))
		}
		errs = append(errs, r.checkPrices(fmt.Sprintf("%s: models[%d] (%s)", file, i, r.Match))...)
	}
	if t.Default != nil {
		errs = append(errs, t.Default.checkPrices(file+": default")...)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return &t, nil
}

// maxPricePerMillion bounds a price: no model costs a million currency
// units per million tokens, and a typo that large would bill absurdly.
const maxPricePerMillion = 1e6

// checkPrices refuses a price that is not a finite number from 0 to
// maxPricePerMillion (YAML reads .nan, .inf and -1 as floats).
func (r *PriceRow) checkPrices(where string) []error {
	var errs []error
	for _, p := range []struct {
		key string
		v   float64
	}{{"input_per_million", r.InputPerMillion}, {"output_per_million", r.OutputPerMillion}} {
		if math.IsNaN(p.v) || p.v < 0 || p.v > maxPricePerMillion {
			errs = append(errs, fmt.Errorf("%s.%s: %v is not a price from 0 to %g", where, p.key, p.v, float64(maxPricePerMillion)))
		}
	}
	return errs
}

// Lookup finds the price row of a model: the first glob that matches, else
// the default row.
func (t *PriceTable) Lookup(model string) (PriceRow, bool) {
	for _, r := range t.Models {
		if ok, _ := path.Match(r.Match, model); ok {
			return r, true
		}
	}
	if t.Default != nil {
		return *t.Default, true
	}
	return PriceRow{}, false
}

// maxPricedModels and maxPricedModelLen bound a priceCache: model names
// come from headers, and a client that sends a new or a huge one with
// every call must not grow it. Longer names are looked up, not remembered.
const (
	maxPricedModels   = 1024
	maxPricedModelLen = 256
)

// priceCache remembers the row each model name found. Without it every
// priced record ran path.Match over the table's globs (about 8% of the
// processor's time on fresh records). Not safe for concurrent use; the
// processor serializes batches.
type priceCache struct {
	*PriceTable
	rows map[string]priceHit
}

type priceHit struct {
	row PriceRow
	ok  bool
}

func newPriceCache(t *PriceTable) *priceCache {
	return &priceCache{PriceTable: t, rows: make(map[string]priceHit)}
}

// Lookup is PriceTable.Lookup, remembered.
func (c *priceCache) Lookup(model string) (PriceRow, bool) {
	if h, found := c.rows[model]; found {
		return h.row, h.ok
	}
	row, ok := c.PriceTable.Lookup(model)
	if len(model) > maxPricedModelLen {
		return row, ok
	}
	if len(c.rows) >= maxPricedModels {
		clear(c.rows)
	}
	// A copy: model points into the record, and a key would keep the
	// whole access log line alive.
	c.rows[strings.Clone(model)] = priceHit{row: row, ok: ok}
	return row, ok
}

// Cost of a call in the table's currency. Prices are finite and bounded
// (LoadPriceTable) and so are token counts (limits), so the result is
// finite; the caller checks it against max_cost_per_request.
func (r PriceRow) Cost(inputTokens, outputTokens int64) float64 {
	return (float64(inputTokens)*r.InputPerMillion + float64(outputTokens)*r.OutputPerMillion) / 1e6
}
