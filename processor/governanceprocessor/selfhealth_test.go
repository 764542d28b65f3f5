package governanceprocessor

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/processor"
	"go.opentelemetry.io/collector/processor/processortest"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/genops-mesh/otelcol-genops/processor/governanceprocessor/internal/metadata"
	"github.com/genops-mesh/otelcol-genops/processor/governanceprocessor/internal/metadatatest"
)

// point is the value of an int64 sum or gauge of the processor's own
// telemetry at the attributes given (0 when there is none).
func point(t *testing.T, tt *componenttest.Telemetry, name string, attrs map[string]string) int64 {
	t.Helper()
	n, _ := pointFound(t, tt, name, attrs)
	return n
}

// hasPoint tells whether there is a point at all (point cannot tell a
// zero from none).
func hasPoint(t *testing.T, tt *componenttest.Telemetry, name string, attrs map[string]string) bool {
	t.Helper()
	_, found := pointFound(t, tt, name, attrs)
	return found
}

func pointFound(t *testing.T, tt *componenttest.Telemetry, name string, attrs map[string]string) (int64, bool) {
	t.Helper()
	m, err := tt.GetMetric(name)
	if err != nil {
		return 0, false
	}
	var points []metricdata.DataPoint[int64]
	switch d := m.Data.(type) {
	case metricdata.Sum[int64]:
		points = d.DataPoints
	case metricdata.Gauge[int64]:
		points = d.DataPoints
	default:
		t.Fatalf("%s: %T", name, m.Data)
	}
next:
	for _, dp := range points {
		for k, v := range attrs {
			if got, _ := dp.Attributes.Value(attribute.Key(k)); got.AsString() != v {
				continue next
			}
		}
		return dp.Value, true
	}
	return 0, false
}

// Every record counts once per dimension under the source its value came
// from: the share a dashboard shows as "unknown" is source="default"
// (GenOpsCollectorUnknownAttribution).
func TestAttributionRecordsBySource(t *testing.T) {
	tt := newTelemetry(t)
	g := newTestGovernance(t, kubeConfig(), tt)
	attrsOf(t, g, inbound("llm-5d-abc", "10.0.0.2", "", nil)) // team from the pod's label
	ld := inbound("nolabels-0", "10.0.0.2", "", nil)
	ld.ResourceLogs().At(0).Resource().Attributes().PutStr("k8s.namespace.name", "sandbox")
	attrsOf(t, g, ld)                                          // from the namespace's label
	attrsOf(t, g, inbound("unknown-pod", "10.0.0.2", "", nil)) // no pod: the default
	for _, tc := range []struct {
		dimension, source string
		want              int64
	}{
		{"team", "pod_label", 1}, {"team", "namespace_label", 1}, {"team", "default", 1},
		{"customer_id", "default", 3}, {"team", "header", 0},
	} {
		if got := point(t, tt, "genops.attribution.records", map[string]string{"dimension": tc.dimension, "source": tc.source}); got != tc.want {
			t.Errorf("%s from %s: %d records, want %d", tc.dimension, tc.source, got, tc.want)
		}
	}
}

// The price table's size is a gauge (0 without one), and a call with
// tokens but no price is counted by why (GenOpsCollectorUnpricedCalls).
func TestPricingRowsAndUnpricedCalls(t *testing.T) {
	g, tt := pricingGovernance(t, openConfig())
	if got := point(t, tt, "genops.pricing.rows", nil); got != 4 {
		t.Errorf("rows: %d, want 4", got)
	}
	attrsOf(t, g, aiCall(time.Time{}, map[string]any{"gen_ai.request.model": "my-llama", "gen_ai.usage.input_tokens": 500}))
	attrsOf(t, g, aiCall(time.Time{}, map[string]any{"gen_ai.request.model": "o3", "gen_ai.usage.input_tokens": 500}))
	if got := point(t, tt, "genops.pricing.unpriced_calls", map[string]string{"reason": "no_row"}); got != 1 {
		t.Errorf("unpriced (no row): %d, want 1", got)
	}

	tt = newTelemetry(t)
	g = newTestGovernance(t, openConfig(), tt) // no pricing_file
	attrsOf(t, g, aiCall(time.Time{}, map[string]any{"gen_ai.request.model": "o3", "gen_ai.usage.input_tokens": 500}))
	attrsOf(t, g, inbound("x", "10.0.0.2", "", nil)) // no tokens: not a call to price
	if rows := point(t, tt, "genops.pricing.rows", nil); rows != 0 {
		t.Errorf("rows without a table: %d", rows)
	}
	if got := point(t, tt, "genops.pricing.unpriced_calls", map[string]string{"reason": "no_table"}); got != 1 {
		t.Errorf("unpriced (no table): %d, want 1", got)
	}
}

// startRefused starts a processor (cluster mode) on an API server that
// refuses every list of pods as unauthorized ("token expired"), waiting
// syncTimeout for its caches, and returns the start's error; a start that
// succeeds fails the test.
func startRefused(t *testing.T, set processor.Settings, syncTimeout time.Duration) error {
	t.Helper()
	cfg := kubeConfig()
	cfg.Kubernetes.SyncTimeout = syncTimeout
	g, err := newGovernance(set, cfg)
	if err != nil {
		t.Fatal(err)
	}
	client := fake.NewClientset()
	client.PrependReactor("list", "pods", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, apierrors.NewUnauthorized("token expired")
	})
	g.newClient, g.clientID = func(*Config) (kubernetes.Interface, error) { return client, nil }, fmt.Sprintf("%p", client)
	err = g.start(context.Background(), componenttest.NewNopHost())
	if err == nil {
		_ = g.shutdown(context.Background())
		t.Fatal("started with an API server that refuses every list")
	}
	return err
}

// An API server that refuses the collector's token: start fails naming
// the refusal (not only "context deadline exceeded"), every error is
// counted by kind, and the synced gauge stays 0.
func TestKubernetesErrorIsNamed(t *testing.T) {
	tt := newTelemetry(t)
	err := startRefused(t, metadatatest.NewSettings(tt), 2*time.Second)
	if msg := err.Error(); !strings.Contains(msg, "unauthorized") || !strings.Contains(msg, "pods") || !strings.Contains(msg, "token expired") {
		t.Errorf("start error does not name the cause: %v", err)
	}
	if n := point(t, tt, "genops.kubernetes.api_errors", map[string]string{"resource": "pods", "error": "unauthorized"}); n < 1 {
		t.Errorf("API errors counted: %d", n)
	}
	if m, err := tt.GetMetric("genops.kubernetes.synced"); err != nil || m.Data.(metricdata.Gauge[int64]).DataPoints[0].Value != 0 {
		t.Errorf("synced gauge: %+v %v", m, err)
	}

	// Forbidden (RBAC) is told apart; a synced store says 1.
	cfg := kubeConfig()
	cfg.Kubernetes.SyncTimeout = 2 * time.Second
	tt = newTelemetry(t)
	client := fake.NewClientset(clusterObjects()...)
	client.PrependReactor("list", "replicasets", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, apierrors.NewForbidden(schema.GroupResource{Group: "apps", Resource: "replicasets"}, "", nil)
	})
	g, err := newGovernance(metadatatest.NewSettings(tt), cfg)
	if err != nil {
		t.Fatal(err)
	}
	g.newClient, g.clientID = func(*Config) (kubernetes.Interface, error) { return client, nil }, fmt.Sprintf("%p", client)
	if err := g.start(context.Background(), componenttest.NewNopHost()); err == nil || !strings.Contains(err.Error(), "forbidden") {
		t.Errorf("forbidden: %v", err)
	}
	tt = newTelemetry(t)
	newTestGovernanceWith(t, cfg, tt)
	if got := point(t, tt, "genops.kubernetes.synced", nil); got != 1 {
		t.Errorf("synced gauge after sync: %d", got)
	}
}

// A value taken from a header counts under source="header" (the first
// source), and a source no record used has no series, not a zero.
func TestAttributionRecordsFromHeaders(t *testing.T) {
	tt := newTelemetry(t)
	g := newTestGovernance(t, openConfig(), tt)
	attrsOf(t, g, inbound("llm-5d-abc", "10.0.0.2", "", map[string]string{"x-genops-customer-id": "acme"}))
	if got := point(t, tt, "genops.attribution.records", map[string]string{"dimension": "customer_id", "source": "header"}); got != 1 {
		t.Errorf("customer from a header: %d records, want 1", got)
	}
	for _, source := range []string{"pod_label", "namespace_label", "span_tag", "default", "none"} {
		if hasPoint(t, tt, "genops.attribution.records", map[string]string{"dimension": "customer_id", "source": source}) {
			t.Errorf("a customer_id series for source %s, which no record used", source)
		}
	}
}

// In node mode (a DaemonSet) the processor lists only its node's pods;
// in cluster mode every pod.
func TestNodeModeListsItsNodesPods(t *testing.T) {
	for _, tc := range []struct {
		mode, node, want string
	}{{KubernetesNode, "node-1", "spec.nodeName=node-1"}, {KubernetesCluster, "", ""}} {
		cfg := kubeConfig()
		cfg.Kubernetes.Mode, cfg.Kubernetes.NodeName = tc.mode, tc.node
		client := fake.NewClientset(clusterObjects()...)
		var selectors []string
		var mu sync.Mutex
		client.PrependReactor("list", "pods", func(a k8stesting.Action) (bool, runtime.Object, error) {
			mu.Lock()
			defer mu.Unlock()
			selectors = append(selectors, a.(k8stesting.ListAction).GetListRestrictions().Fields.String())
			return false, nil, nil
		})
		startGovernance(t, processortest.NewNopSettings(metadata.Type), cfg, client)
		mu.Lock()
		if len(selectors) == 0 || selectors[0] != tc.want {
			t.Errorf("%s mode: pods listed with field selector %q, want %q", tc.mode, selectors, tc.want)
		}
		mu.Unlock()
	}
}

// An API error is logged at warn when its kind is new, at debug when it
// repeats (client-go retries with backoff and would repeat it), with the
// resource and kind.
func TestKubernetesErrorLoggedOncePerKind(t *testing.T) {
	core, logs := observer.New(zap.DebugLevel)
	set := processortest.NewNopSettings(metadata.Type)
	set.Logger = zap.New(core)
	startRefused(t, set, 3*time.Second)
	errs := logs.FilterMessage("Kubernetes API error")
	warns, debugs := errs.FilterLevelExact(zap.WarnLevel), errs.FilterLevelExact(zap.DebugLevel)
	if warns.Len() != 1 || debugs.Len() < 1 || errs.All()[0].Level != zap.WarnLevel {
		t.Fatalf("%d warnings and %d debug lines for one kind of error repeated, want 1, the first, and at least 1: %v", warns.Len(), debugs.Len(), errs.All())
	}
	if f := warns.All()[0].ContextMap(); f["api_resource"] != "pods" || f["kind"] != "unauthorized" {
		t.Errorf("warning fields %v", f)
	}
}
