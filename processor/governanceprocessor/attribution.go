package governanceprocessor

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/genops-mesh/otelcol-genops/internal/safetext"
	"github.com/genops-mesh/otelcol-genops/internal/semconv"
)

// dimension is one governance dimension, compiled from the config.
type dimension struct {
	name      string // team
	attr      string // genops.team
	headerKey string // http.request.header.x-genops-team
	label     string // genops.ai/team ("" when no label carries it)
	podAttr   string // k8s.pod.label.genops.ai/team (labels sent with ALS)
	trust     string
	allow     map[string]bool
	pattern   *regexp.Regexp
	maxLen    int
	hash      bool
	def       string
	// verdicts caches accept's answer (*verdict) for raw values seen
	// before; it is cleared when it reaches maxVerdicts (counted in
	// nVerdicts), so it stays bounded however many distinct values
	// arrive. A sync.Map: batches are processed concurrently, and values
	// once seen are read over and over without a lock.
	verdicts  *sync.Map
	nVerdicts *atomic.Int64
	// last is the most recent verdict: traffic repeats a value far more
	// often than not, and a comparison is cheaper than a map lookup.
	last *atomic.Pointer[verdict]
}

// newDimension gives d its caches.
func newDimension(d dimension) dimension {
	d.verdicts, d.nVerdicts, d.last = &sync.Map{}, &atomic.Int64{}, &atomic.Pointer[verdict]{}
	return d
}

type verdict struct {
	raw   string // a copy of the raw value, owned by the cache
	value string
	ok    bool
}

// maxVerdicts bounds each dimension's cache of validated values.
const maxVerdicts = 4096

var dimensionAttrs = map[string]string{
	DimTeam: semconv.AttrTeam, DimProject: semconv.AttrProject, DimCustomerID: semconv.AttrCustomerID,
	DimCostCenter: semconv.AttrCostCenter, DimCustomerTier: semconv.AttrCustomerTier,
	DimEnvironment: semconv.AttrEnvironment, DimFeature: semconv.AttrFeature,
}

func compileDimensions(cfg *Config) []dimension {
	out := make([]dimension, 0, len(dimensionNames))
	for _, name := range dimensionNames {
		dc := cfg.Dimensions[name]
		d := newDimension(dimension{name: name, attr: dimensionAttrs[name], trust: dc.Trust, maxLen: dc.MaxLength, hash: dc.Hash, def: dc.Default})
		if d.trust == "" {
			d.trust = TrustWhenSourceMatches
		}
		if d.maxLen == 0 {
			d.maxLen = 128
		}
		if h := cfg.Headers[name]; h != "" {
			d.headerKey = semconv.RequestHeaderPrefix + strings.ToLower(h)
		}
		if l := cfg.Labels[name]; l != "" {
			d.label, d.podAttr = l, semconv.PodLabelPrefix+l
		}
		if len(dc.Allow) > 0 {
			d.allow = map[string]bool{}
			for _, v := range dc.Allow {
				d.allow[v] = true
			}
		}
		if dc.Pattern != "" {
			d.pattern = regexp.MustCompile(dc.Pattern) // validated by Config.Validate
		}
		out = append(out, d)
	}
	return out
}

// Sanitize makes a client-supplied value safe to keep: valid UTF-8 (invalid
// bytes removed), no control characters, surrounding space trimmed. It
// reports false when nothing usable is left or the value is longer than
// maxLen bytes (a cut value would attribute to someone else). It
// allocates only when it has to remove something.
func Sanitize(v string, maxLen int) (string, bool) {
	v, _ = safetext.Strip(v)
	v = strings.TrimSpace(v)
	if v == "" || v == "-" || len(v) > maxLen {
		return "", false
	}
	return v, true
}

// accept sanitizes and validates a value for this dimension. Safe for
// concurrent use.
func (d *dimension) accept(raw string) (string, bool) {
	if last := d.last.Load(); last != nil && last.raw == raw && raw != "" {
		return last.value, last.ok
	}
	if vd, ok := d.verdicts.Load(raw); ok {
		vd := vd.(*verdict)
		d.last.Store(vd)
		return vd.value, vd.ok
	}
	v, ok := d.check(raw)
	if len(raw) <= d.maxLen { // oversized values are not worth remembering
		if d.nVerdicts.Add(1) > maxVerdicts {
			d.verdicts.Clear()
			d.nVerdicts.Store(1)
		}
		vd := &verdict{strings.Clone(raw), v, ok}
		d.verdicts.Store(vd.raw, vd)
		d.last.Store(vd)
	}
	return v, ok
}

func (d *dimension) check(v string) (string, bool) {
	if _, changed := safetext.Strip(v); changed {
		// A value with control characters or invalid UTF-8 is refused,
		// not cleaned: "vic\x00tim" cleaned is another team's "victim"
		// (third outside attempt).
		return "", false
	}
	v, ok := Sanitize(v, d.maxLen)
	if !ok {
		return "", false
	}
	if d.allow != nil && !d.allow[v] {
		return "", false
	}
	if d.pattern != nil && !d.pattern.MatchString(v) {
		return "", false
	}
	return v, true
}

// hashValue is the HMAC-SHA256 of v under key, as 32 hex digits.
func hashValue(key []byte, v string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(v))
	return hex.EncodeToString(m.Sum(nil)[:16])
}

// trustedCaller tells whether the caller of a request may set headers:
// its principal or its namespace is in the trusted lists.
type trustedCaller struct {
	principals []string
	namespaces map[string]bool
}

func (t *trustedCaller) trusts(principal, namespace string) bool {
	if principal != "" {
		for _, p := range t.principals {
			if p == principal || (strings.HasSuffix(p, "*") && strings.HasPrefix(principal, p[:len(p)-1])) {
				return true
			}
		}
		// The mesh verified the principal (mTLS); the caller's pod was
		// found by an address, which a NAT or a reused IP can change.
		namespace = spiffeNamespace(principal)
	}
	return namespace != "" && t.namespaces[namespace]
}

// spiffeNamespace reads the namespace of an Istio SPIFFE id
// (spiffe://<trust domain>/ns/<namespace>/sa/<service account>).
// Only that exact shape is read: a path with other segments, or with an
// empty, "." or ".." segment (spiffe://td/ns/api-gateway/../evil/sa/x,
// which the SPIFFE specification forbids), names no namespace.
func spiffeNamespace(id string) string {
	rest, ok := strings.CutPrefix(id, "spiffe://")
	if !ok {
		return ""
	}
	parts := strings.Split(rest, "/")
	if len(parts) != 5 || parts[1] != "ns" || parts[3] != "sa" {
		return ""
	}
	for _, p := range parts {
		if p == "" || p == "." || p == ".." {
			return ""
		}
	}
	return parts[2]
}
