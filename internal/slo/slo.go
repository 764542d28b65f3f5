// Package slo is the SLO file (config/slo.yaml) parsed and validated once
// into a model. The SLI connector reads it for latency bucket bounds; the
// rule and dashboard generators read it for everything else. Both reading
// one model is what keeps a threshold written once: the histogram bound the
// connector emits and the `le` the rules query cannot disagree.
//
// Parsing follows Sloth's pipeline (spec -> validated model): errors name
// the SLO, the field and the line in the file.
package slo

import (
	"bytes"
	"fmt"
	"io"
	"maps"
	"math"
	"os"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"gopkg.in/yaml.v3"

	"github.com/genops-mesh/otelcol-genops/internal/semconv"
)

// Sources of an SLO's events.
const (
	SourceAccessLogs = "access_logs" // genops_requests_total / genops_request_duration_seconds
	SourceIstio      = "istio"       // istio_requests_total / istio_request_duration_milliseconds
	SourceLinkerd    = "linkerd"     // response_total / response_latency_ms
)

// DefaultWindow is an SLO's window when the file gives none.
const DefaultWindow = 30 * 24 * time.Hour

// File is a parsed, validated SLO file.
type File struct {
	SLOs []SLO
}

// SLO is one service level objective.
type SLO struct {
	Name      string
	Service   string
	Namespace string
	// Team owns the SLO; alerts carry it so that Alertmanager routes by team.
	Team string
	// Objective is the target, in percent (99.9); 100 is allowed.
	Objective float64
	Window    time.Duration
	Indicator Indicator
	// By splits the SLO into one series per value of these labels.
	By []string
	// Matchers narrow the SLO's events to requests whose contract label
	// has the value (route: /checkout); equality only.
	Matchers map[string]string
	// Labels are added to every rule of the SLO (Sloth's SLO labels).
	Labels map[string]string
	// Description is the SLO's, carried into its alerts' annotations.
	Description string
	Alerting    Alerting
	Source      string
	// ProxyBuckets are the latency histogram bounds, in milliseconds, of
	// the proxies a source istio or linkerd SLO reads (set when the mesh
	// overrides them, e.g. Istio's sidecar.istio.io/statsHistogramBuckets);
	// empty means the mesh's defaults (IstioBuckets, LinkerdBuckets).
	ProxyBuckets []float64
	// Line is where the SLO starts in the file.
	Line int
}

// Indicator is what counts as a good event: exactly one is set.
type Indicator struct {
	Availability *Availability
	Latency      *Latency
}

// Availability: a request is good unless it is bad for availability (5xx or
// a failure response flag, as the connector classifies it).
type Availability struct{}

// Latency: a request is good when it took at most Threshold.
type Latency struct {
	Threshold time.Duration
}

// Alerting holds the two alert tiers of the multi-window, multi-burn-rate
// scheme.
type Alerting struct {
	// Name is the alerts' name (both tiers; severity tells them apart);
	// empty: GenOpsSLOErrorBudgetBurnPage and …Ticket.
	Name   string
	Page   AlertTier
	Ticket AlertTier
	// Policy turns on the service's policy enforcement alerts (opt-in).
	Policy PolicyAlerts
}

// PolicyAlerts are the opt-in alerts over genops_policy_events_total for
// the SLO's service (docs/slo.md, "Policy alerts").
type PolicyAlerts struct {
	// RateLimitedShare: alert when a customer is rate limited on more
	// than this share (0 to 1) of its requests for 15 minutes; 0: off.
	RateLimitedShare float64
	// NewDenialSource: alert when a team is denied by a policy (a caller
	// team and policy_name) that denied it nothing the day before.
	NewDenialSource bool
}

// AlertTier is one tier; a disabled tier generates no alert.
type AlertTier struct {
	Disabled    bool
	Labels      map[string]string
	Annotations map[string]string
	// For is how long the condition must hold before the alert fires;
	// nil: the default, none (the short window already confirms).
	For *time.Duration
}

// ID identifies an SLO across every SLO file: its namespace, service and
// name. Rules select an SLO's series by all three, so that rule files of
// SLOs with the same name (the usual "availability") load together.
func (s SLO) ID() string { return s.Namespace + "/" + s.Service + "/" + s.Name }

// ErrorBudget is the allowed ratio of bad events (0.001 for 99.9%),
// rounded to 12 decimals so that rules read 0.001, not 0.0009999999999998899.
func (s SLO) ErrorBudget() float64 { return math.Round((100-s.Objective)*1e10) / 1e12 }

// Kind is "availability" or "latency".
func (s SLO) Kind() string {
	if s.Indicator.Latency != nil {
		return "latency"
	}
	return "availability"
}

// LatencyThresholds returns every latency threshold of the file, in
// seconds, sorted and without duplicates: the bucket bounds the connector
// must emit.
func (f *File) LatencyThresholds() []float64 {
	var out []float64
	for _, s := range f.SLOs {
		if l := s.Indicator.Latency; l != nil {
			out = append(out, l.Threshold.Seconds())
		}
	}
	sort.Float64s(out)
	return slices.Compact(out)
}

// Error is one problem in the file, located.
type Error struct {
	Line  int
	SLO   string // empty for file-level problems
	Field string
	Msg   string
}

func (e Error) Error() string {
	var b strings.Builder
	if e.Line > 0 {
		fmt.Fprintf(&b, "line %d: ", e.Line)
	}
	if e.SLO != "" {
		fmt.Fprintf(&b, "slo %q: ", e.SLO)
	}
	if e.Field != "" {
		fmt.Fprintf(&b, "%s: ", e.Field)
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Errors is every problem found, in file order.
type Errors []Error

func (es Errors) Error() string {
	msgs := make([]string, len(es))
	for i, e := range es {
		msgs[i] = e.Error()
	}
	return strings.Join(msgs, "\n")
}

// The file as written: yaml.Node fields keep line numbers for errors.
type fileSpec struct {
	SLOs []sloSpec `yaml:"slos"`
}

type sloSpec struct {
	Name        string            `yaml:"name"`
	Service     string            `yaml:"service"`
	Namespace   string            `yaml:"namespace"`
	Team        string            `yaml:"team,omitempty"`
	Objective   *float64          `yaml:"objective"`
	Window      string            `yaml:"window,omitempty"`
	Indicator   indicatorSpec     `yaml:"indicator"`
	By          []string          `yaml:"by,omitempty"`
	Matchers    map[string]string `yaml:"matchers,omitempty"`
	Labels      map[string]string `yaml:"labels,omitempty"`
	Description string            `yaml:"description,omitempty"`
	Alerting    alertingSpec      `yaml:"alerting,omitempty"`
	Source      string            `yaml:"source,omitempty"`
	// ProxyBuckets: see SLO.ProxyBuckets.
	ProxyBuckets []float64 `yaml:"proxy_buckets,omitempty"`
}

type indicatorSpec struct {
	Availability *struct{} `yaml:"availability,omitempty"`
	Latency      *struct {
		Threshold string `yaml:"threshold"`
	} `yaml:"latency,omitempty"`
}

type alertingSpec struct {
	Name   string     `yaml:"name,omitempty"`
	Page   tierSpec   `yaml:"page,omitempty"`
	Ticket tierSpec   `yaml:"ticket,omitempty"`
	Policy policySpec `yaml:"policy,omitempty"`
}

type policySpec struct {
	RateLimitedShare *float64 `yaml:"rate_limited_share,omitempty"`
	NewDenialSource  bool     `yaml:"new_denial_source,omitempty"`
}

type tierSpec struct {
	Disabled    bool              `yaml:"disabled,omitempty"`
	For         string            `yaml:"for,omitempty"`
	Labels      map[string]string `yaml:"labels,omitempty"`
	Annotations map[string]string `yaml:"annotations,omitempty"`
}

// reservedLabels are the labels the rules set themselves: an SLO's labels
// may not replace them.
var reservedLabels = []string{"slo", "service", "namespace", "team", "severity", "le", "__name__"}

// alertNameRE: a Prometheus alert name (a metric name).
var alertNameRE = regexp.MustCompile(`^[a-zA-Z_:][a-zA-Z0-9_:]*$`)

// FormatThreshold writes a threshold as ParseThreshold reads it back:
// whole seconds (2s), else whole milliseconds (400ms, 2500ms), else
// decimal milliseconds (0.5ms).
func FormatThreshold(d time.Duration) string {
	switch {
	case d%time.Second == 0:
		return strconv.FormatInt(int64(d/time.Second), 10) + "s"
	case d%time.Millisecond == 0:
		return strconv.FormatInt(int64(d/time.Millisecond), 10) + "ms"
	}
	return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', -1, 64) + "ms"
}

// ParseThreshold reads a latency threshold: a Prometheus duration (500ms,
// 2s, 1m) or a decimal one (0.4s, 1.5m, 2.5s), exactly, to the
// millisecond or finer.
func ParseThreshold(v string) (time.Duration, error) {
	if d, err := model.ParseDuration(v); err == nil {
		return time.Duration(d), nil
	}
	// Go's parser reads decimal fractions exactly (integer arithmetic),
	// for the units a threshold uses.
	d, err := time.ParseDuration(v)
	if err != nil || strings.ContainsAny(v, "-+") || !strings.ContainsAny(v, ".") {
		return 0, fmt.Errorf("not a duration such as 500ms, 0.4s or 2s")
	}
	return d, nil
}

var (
	nameRE  = regexp.MustCompile(`^[a-z0-9]([a-z0-9_-]*[a-z0-9])?$`)
	labelRE = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)
)

// splittable are the labels an SLO may be split by: labels of
// genops_requests_total that do not change from request to request of one
// service in a way the SLI must not see.
var splittable = []string{
	semconv.LabelGenOpsTeam, semconv.LabelGenOpsProject, semconv.LabelGenOpsCustomerID,
	semconv.LabelGenOpsCostCenter, semconv.LabelGenOpsTier, semconv.LabelRoute,
	semconv.LabelVersion, semconv.LabelCluster, semconv.LabelApp,
}

// latencyLabels are the splittable labels the latency histogram has.
func latencyLabels() []string {
	var out []string
	for _, l := range splittable {
		if slices.Contains(semconv.RequestDurationLabels, l) {
			out = append(out, l)
		}
	}
	return out
}

// ParseFile reads and validates an SLO file.
func ParseFile(path string) (*File, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	f, err := Parse(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return f, nil
}

// Parse reads and validates an SLO file. Unknown fields are errors (a
// misspelt "objectve" must not silently become the default). The error,
// when there is one, is an Errors listing every problem.
func Parse(r io.Reader) (*File, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	var root yaml.Node
	if err := yaml.Unmarshal(b, &root); err != nil {
		return nil, Errors{{Msg: err.Error()}}
	}
	if root.Kind == 0 {
		return nil, Errors{{Msg: "empty file: expected a list under slos:"}}
	}
	var spec fileSpec
	// Unknown keys are found on the node tree, each with its line, so
	// that a misspelt key does not hide the file's other problems.
	errs := unknownKeys(&root, reflect.TypeFor[fileSpec](), "", "")
	if err := yaml.Unmarshal(b, &spec); err != nil {
		return nil, append(errs, Error{Msg: strings.TrimPrefix(err.Error(), "yaml: ")})
	}
	// Line numbers of each SLO, from the node tree.
	lines := sloLines(&root)
	f := &File{}
	seen := map[string]int{}
	if len(spec.SLOs) == 0 {
		errs = append(errs, Error{Field: "slos", Msg: "no SLOs"})
	}
	for i, s := range spec.SLOs {
		line := 0
		if i < len(lines) {
			line = lines[i]
		}
		id := s.Name
		if id == "" {
			id = fmt.Sprintf("#%d", i+1)
		}
		add := func(field, msg string, args ...any) {
			errs = append(errs, Error{Line: line, SLO: id, Field: field, Msg: fmt.Sprintf(msg, args...)})
		}
		out := SLO{Name: s.Name, Service: s.Service, Namespace: s.Namespace, Team: s.Team, By: s.By, Line: line, Source: s.Source}
		switch {
		case s.Name == "":
			add("name", "required")
		case !nameRE.MatchString(s.Name):
			add("name", "%q: use lower-case letters, digits, - and _ (it becomes part of rule names)", s.Name)
		default:
			key := s.Namespace + "/" + s.Service + "/" + s.Name
			if prev, dup := seen[key]; dup {
				add("name", "also used by the SLO of the same service on line %d", prev)
			}
			seen[key] = line
		}
		if s.Service == "" {
			add("service", "required (the service label of "+semconv.PromRequestsTotal+")")
		}
		if s.Namespace == "" {
			add("namespace", "required (the namespace label of "+semconv.PromRequestsTotal+")")
		}
		switch {
		case s.Objective == nil:
			add("objective", "required, in percent (e.g. 99.9)")
		case math.IsNaN(*s.Objective) || *s.Objective <= 0 || *s.Objective > 100:
			add("objective", "%v is not a percentage in (0, 100]", *s.Objective)
		default:
			out.Objective = *s.Objective
		}
		out.Window = DefaultWindow
		if s.Window != "" {
			d, err := model.ParseDuration(s.Window)
			switch {
			case err != nil:
				add("window", "%q: %v (use Prometheus durations: 7d, 28d, 30d)", s.Window, err)
			case time.Duration(d) < time.Hour || time.Duration(d) > 366*24*time.Hour:
				add("window", "%s is outside 1h to 366d", s.Window)
			default:
				out.Window = time.Duration(d)
			}
		}
		ind := s.Indicator
		switch {
		case ind.Availability != nil && ind.Latency != nil:
			add("indicator", "give availability or latency, not both")
		case ind.Availability != nil:
			out.Indicator.Availability = &Availability{}
		case ind.Latency != nil:
			d, err := ParseThreshold(ind.Latency.Threshold)
			switch {
			case ind.Latency.Threshold == "":
				add("indicator.latency.threshold", "required (e.g. 500ms)")
			case err != nil:
				add("indicator.latency.threshold", "%q: %v", ind.Latency.Threshold, err)
			case d <= 0:
				add("indicator.latency.threshold", "must be positive")
			default:
				out.Indicator.Latency = &Latency{Threshold: time.Duration(d)}
			}
		default:
			add("indicator", "required: availability: {} or latency: {threshold: 500ms}")
		}
		for _, l := range s.By {
			if !slices.Contains(splittable, l) {
				add("by", "%q is not a label an SLO can be split by (one of %s)", l, strings.Join(splittable, ", "))
			}
		}
		if ind.Latency != nil && (s.Source == "" || s.Source == SourceAccessLogs) {
			// The latency histogram has fewer labels than the request
			// counter: a split or a matcher on one it lacks would group
			// by nothing or match nothing.
			for _, f := range []struct {
				field  string
				labels []string
			}{{"by", s.By}, {"matchers", slices.Sorted(maps.Keys(s.Matchers))}} { // in this order: errors print alike every run
				for _, l := range f.labels {
					if slices.Contains(splittable, l) && !slices.Contains(semconv.RequestDurationLabels, l) {
						add(f.field, "%q is not a label of %s: a latency SLO can use %s", l, semconv.PromRequestDurationSeconds, strings.Join(latencyLabels(), ", "))
					}
				}
			}
		}
		switch s.Source {
		case "":
			out.Source = SourceAccessLogs
		case SourceAccessLogs, SourceIstio, SourceLinkerd:
		default:
			add("source", "%q is not one of %s, %s, %s", s.Source, SourceAccessLogs, SourceIstio, SourceLinkerd)
		}
		if out.Source == SourceIstio || out.Source == SourceLinkerd {
			for _, l := range s.By {
				if l == "genops_customer_id" {
					add("by", "proxy metrics carry no customer id (no headers): split a source %s SLO by team, project, cost centre or tier", out.Source)
				}
			}
		}
		if len(s.ProxyBuckets) > 0 {
			if out.Source != SourceIstio && out.Source != SourceLinkerd {
				add("proxy_buckets", "only for source istio or linkerd (the access log histogram takes the SLO thresholds as bounds)")
			}
			out.ProxyBuckets = slices.Clone(s.ProxyBuckets)
			slices.Sort(out.ProxyBuckets)
		}
		if l := out.Indicator.Latency; l != nil && (out.Source == SourceIstio || out.Source == SourceLinkerd) {
			// The proxy's histogram decides which thresholds exist: an SLI
			// at a bound it does not have would be silently wrong.
			bounds := out.Buckets()
			ms := float64(l.Threshold) / float64(time.Millisecond)
			if !slices.Contains(bounds, ms) {
				below, above := nearest(bounds, ms)
				add("indicator.latency.threshold", "%s is not a bucket bound of the %s proxy histogram (nearest: %s and %s; set proxy_buckets if your proxies use others)",
					ind.Latency.Threshold, out.Source, fmtMs(below), fmtMs(above))
			}
		}
		for tier, t := range map[string]tierSpec{"alerting.page": s.Alerting.Page, "alerting.ticket": s.Alerting.Ticket} {
			for k := range t.Labels {
				if !labelRE.MatchString(k) {
					add(tier+".labels", "%q is not a Prometheus label name", k)
				}
			}
		}
		out.Alerting = Alerting{
			Name:   s.Alerting.Name,
			Page:   AlertTier{Disabled: s.Alerting.Page.Disabled, Labels: s.Alerting.Page.Labels, Annotations: s.Alerting.Page.Annotations},
			Ticket: AlertTier{Disabled: s.Alerting.Ticket.Disabled, Labels: s.Alerting.Ticket.Labels, Annotations: s.Alerting.Ticket.Annotations},
		}
		if p := s.Alerting.Policy; p.RateLimitedShare != nil || p.NewDenialSource {
			if out.Source != SourceAccessLogs {
				add("alerting.policy", "only for source access_logs (genops_policy_events_total)")
			}
			if v := p.RateLimitedShare; v != nil {
				if !(*v > 0 && *v <= 1) {
					add("alerting.policy.rate_limited_share", "%v: a share of requests above 0 and at most 1 (0.05 is 5%%)", *v)
				} else {
					out.Alerting.Policy.RateLimitedShare = *v
				}
			}
			out.Alerting.Policy.NewDenialSource = p.NewDenialSource
		}
		if n := s.Alerting.Name; n != "" && !alertNameRE.MatchString(n) {
			add("alerting.name", "%q is not a Prometheus alert name", n)
		}
		for _, t := range []struct {
			field string
			spec  tierSpec
			dst   **time.Duration
		}{{"alerting.page.for", s.Alerting.Page, &out.Alerting.Page.For}, {"alerting.ticket.for", s.Alerting.Ticket, &out.Alerting.Ticket.For}} {
			if t.spec.For == "" {
				continue
			}
			d, err := model.ParseDuration(t.spec.For)
			if err != nil || time.Duration(d) > 24*time.Hour {
				add(t.field, "%q: a Prometheus duration up to 1d (0s: fire at once)", t.spec.For)
				continue
			}
			dd := time.Duration(d)
			*t.dst = &dd
		}
		for k := range s.Labels {
			switch {
			case !labelRE.MatchString(k):
				add("labels", "%q is not a Prometheus label name", k)
			case slices.Contains(reservedLabels, k) || slices.Contains(s.By, k):
				add("labels", "%q is set by the rules themselves", k)
			}
		}
		out.Labels = s.Labels
		out.Description = s.Description
		for k := range s.Matchers {
			switch {
			case out.Source != SourceAccessLogs:
				add("matchers", "only for source access_logs (the contract's labels)")
			case !slices.Contains(splittable, k):
				add("matchers", "%q is not a label an SLO can be narrowed by (one of %s)", k, strings.Join(splittable, ", "))
			case slices.Contains(s.By, k):
				add("matchers", "%q is also in by", k)
			}
		}
		out.Matchers = s.Matchers
		f.SLOs = append(f.SLOs, out)
	}
	if len(errs) > 0 {
		sort.SliceStable(errs, func(i, j int) bool { return errs[i].Line < errs[j].Line })
		return nil, errs
	}
	return f, nil
}

// unknownKeys reports every mapping key of n that t (a spec struct, by
// its yaml tags) does not have, with its line, the SLO it is in and its
// path.
func unknownKeys(n *yaml.Node, t reflect.Type, sloName, path string) Errors {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if n.Kind == yaml.DocumentNode {
		var errs Errors
		for _, c := range n.Content {
			errs = append(errs, unknownKeys(c, t, sloName, path)...)
		}
		return errs
	}
	var errs Errors
	switch {
	case t.Kind() == reflect.Slice && n.Kind == yaml.SequenceNode:
		for _, item := range n.Content {
			name, itemPath := sloName, path
			if t.Elem() == reflect.TypeFor[sloSpec]() {
				// Fields of an SLO are named from the SLO, as Parse names them.
				name, itemPath = mappingValue(item, "name"), ""
			}
			errs = append(errs, unknownKeys(item, t.Elem(), name, itemPath)...)
		}
	case t.Kind() == reflect.Struct && n.Kind == yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			key, value := n.Content[i], n.Content[i+1]
			field, ok := fieldByTag(t, key.Value)
			full := strings.TrimPrefix(path+"."+key.Value, ".")
			if !ok {
				errs = append(errs, Error{Line: key.Line, SLO: sloName, Field: full, Msg: "unknown field (misspelt?)"})
				continue
			}
			errs = append(errs, unknownKeys(value, field.Type, sloName, full)...)
		}
	}
	return errs
}

func fieldByTag(t reflect.Type, name string) (reflect.StructField, bool) {
	for i := range t.NumField() {
		f := t.Field(i)
		if tag, _, _ := strings.Cut(f.Tag.Get("yaml"), ","); tag == name {
			return f, true
		}
	}
	return reflect.StructField{}, false
}

func mappingValue(n *yaml.Node, key string) string {
	if n.Kind != yaml.MappingNode {
		return ""
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1].Value
		}
	}
	return ""
}

// sloLines returns the line of each item of the top-level "slos" list.
func sloLines(root *yaml.Node) []int {
	doc := root
	if doc.Kind == yaml.DocumentNode && len(doc.Content) > 0 {
		doc = doc.Content[0]
	}
	if doc.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(doc.Content); i += 2 {
		if doc.Content[i].Value == "slos" {
			var lines []int
			for _, item := range doc.Content[i+1].Content {
				lines = append(lines, item.Line)
			}
			return lines
		}
	}
	return nil
}

// Default latency histogram bounds, in milliseconds, of the proxies: Istio's
// istio_request_duration_milliseconds and Linkerd's response_latency_ms.
var (
	IstioBuckets   = []float64{0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000, 600000, 1800000, 3600000}
	LinkerdBuckets = []float64{1, 2, 3, 4, 5, 10, 20, 30, 40, 50, 100, 200, 300, 400, 500, 1000, 2000, 3000, 4000, 5000, 10000, 20000, 30000, 40000, 50000}
)

// Buckets are the latency bounds, in milliseconds, of the proxy histogram a
// source istio or linkerd SLO reads: ProxyBuckets, else the mesh's
// defaults; nil for access_logs.
func (s SLO) Buckets() []float64 {
	switch {
	case len(s.ProxyBuckets) > 0:
		return s.ProxyBuckets
	case s.Source == SourceIstio:
		return IstioBuckets
	case s.Source == SourceLinkerd:
		return LinkerdBuckets
	}
	return nil
}

func nearest(sorted []float64, v float64) (below, above float64) {
	below, above = math.NaN(), math.NaN()
	for _, b := range sorted {
		if b < v {
			below = b
		} else if b > v && math.IsNaN(above) {
			above = b
		}
	}
	return below, above
}

func fmtMs(ms float64) string {
	if math.IsNaN(ms) {
		return "none"
	}
	if ms < 1 || ms != math.Trunc(ms) {
		return strconv.FormatFloat(ms, 'g', -1, 64) + "ms"
	}
	if ms > 1000 && math.Mod(ms, 1000) != 0 {
		return strconv.FormatFloat(ms/1000, 'g', -1, 64) + "s"
	}
	return model.Duration(time.Duration(ms * float64(time.Millisecond))).String()
}
