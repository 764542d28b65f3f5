// Package mesh_test validates the mesh integration snippets in deploy/mesh:
// every file parses; Istio's meshConfig and Telemetry decode strictly into
// istio.io/api's own types and the Telemetry resources pass a real
// kube-apiserver's validation against Istio's CRD schemas (envtest with
// the CRDs shipped in istio.io/api); Consul's Envoy escape hatches decode
// strictly into go-control-plane's Envoy protos; namespaces decode into
// k8s.io/api; and every access log format is exactly the one the receiver's
// istio_genops preset parses. (The chart values files here are rendered
// and validated by the chart test in deploy/helm.)
package mesh_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	tracev3 "github.com/envoyproxy/go-control-plane/envoy/config/trace/v3"
	localratelimitv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/local_ratelimit/v3"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	meshv1alpha1 "istio.io/api/mesh/v1alpha1"
	networkingv1alpha3 "istio.io/api/networking/v1alpha3"
	securityv1 "istio.io/api/security/v1"
	telemetryv1 "istio.io/api/telemetry/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	kjson "k8s.io/apimachinery/pkg/runtime/serializer/json"
	kyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/dynamic"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	"sigs.k8s.io/yaml"

	"github.com/genops-mesh/otelcol-genops/internal/accesslog"
	"github.com/genops-mesh/otelcol-genops/internal/semconv"
	"github.com/genops-mesh/otelcol-genops/test/kubetest"
)

// docs reads every YAML document of a file.
func docs(t *testing.T, path string) []map[string]any {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []map[string]any
	r := kyaml.NewYAMLReader(bufioReader(b))
	for {
		doc, err := r.Read()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		var m map[string]any
		if err := yaml.UnmarshalStrict(doc, &m); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if len(m) > 0 {
			out = append(out, m)
		}
	}
}

// strictProto decodes a YAML or JSON value into a proto message, refusing
// unknown fields.
func strictProto(t *testing.T, what string, v any, msg proto.Message) {
	t.Helper()
	j, err := yaml.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if j, err = yaml.YAMLToJSON(j); err != nil {
		t.Fatal(err)
	}
	if err := (protojson.UnmarshalOptions{}).Unmarshal(j, msg); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func TestEveryFileParses(t *testing.T) {
	var n int
	err := filepath.WalkDir(".", func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".yaml") {
			return err
		}
		if len(docs(t, path)) == 0 {
			t.Errorf("%s: no document", path)
		}
		n++
		return nil
	})
	if err != nil || n < 8 {
		t.Fatalf("walked %d files: %v", n, err)
	}
}

func sameFormat(t *testing.T, where, got string) {
	t.Helper()
	if got != accesslog.GenOpsMeshFormat {
		t.Errorf("%s is not the istio_genops format:\n got %q\nwant %q", where, got, accesslog.GenOpsMeshFormat)
	}
}

var (
	requestHeaders  = []string{semconv.HeaderTeam, semconv.HeaderProject, semconv.HeaderCustomerID, semconv.HeaderCostCenter, semconv.HeaderCustomerTier, semconv.HeaderEnvironment, semconv.HeaderFeature}
	responseHeaders = []string{semconv.HeaderModel, semconv.HeaderProvider, semconv.HeaderTokensInput, semconv.HeaderTokensOutput, semconv.HeaderCost}
)

func meshConfig(t *testing.T) *meshv1alpha1.MeshConfig {
	t.Helper()
	values := docs(t, "istio/istiod-values.yaml")[0]
	mc := &meshv1alpha1.MeshConfig{}
	strictProto(t, "meshConfig", values["meshConfig"], mc)
	return mc
}

// meshConfig decodes into Istio's MeshConfig; the file access log is the
// istio_genops_json format, the OTel ALS provider writes istio_genops; the gRPC ALS provider
// logs every governance header.
func TestIstioMeshConfig(t *testing.T) {
	mc := meshConfig(t)
	if mc.GetAccessLogEncoding() != meshv1alpha1.MeshConfig_JSON || mc.GetAccessLogFormat() != accesslog.GenOpsMeshJSONFormat() {
		t.Errorf("meshConfig access log is not the istio_genops_json format: %v\n got %q\nwant %q",
			mc.GetAccessLogEncoding(), mc.GetAccessLogFormat(), accesslog.GenOpsMeshJSONFormat())
	}
	providers := map[string]*meshv1alpha1.MeshConfig_ExtensionProvider{}
	for _, p := range mc.GetExtensionProviders() {
		providers[p.GetName()] = p
	}
	sameFormat(t, "genops-otel-als logFormat", providers["genops-otel-als"].GetEnvoyOtelAls().GetLogFormat().GetText())
	als := providers["genops-grpc-als"].GetEnvoyHttpAls()
	if strings.Join(als.GetAdditionalRequestHeadersToLog(), ",") != strings.Join(requestHeaders, ",") ||
		strings.Join(als.GetAdditionalResponseHeadersToLog(), ",") != strings.Join(responseHeaders, ",") {
		t.Errorf("gRPC ALS headers: %v %v", als.GetAdditionalRequestHeadersToLog(), als.GetAdditionalResponseHeadersToLog())
	}
	if z := providers["genops-zipkin"].GetZipkin(); z.GetPort() != 9411 {
		t.Errorf("zipkin provider: %v", z)
	}
}

// The Telemetry resources decode into Istio's type, name only providers
// that exist, and tag spans with every governance header under the
// attribute name the governance processor reads.
func TestIstioTelemetry(t *testing.T) {
	providers := map[string]bool{"envoy": true}
	for _, p := range meshConfig(t).GetExtensionProviders() {
		providers[p.GetName()] = true
	}
	var tagged []string
	for i, d := range docs(t, "istio/telemetry.yaml") {
		tel := &telemetryv1.Telemetry{}
		strictProto(t, "Telemetry", d["spec"], tel)
		for _, al := range tel.GetAccessLogging() {
			for _, p := range al.GetProviders() {
				if !providers[p.GetName()] {
					t.Errorf("doc %d: access log provider %q is not in meshConfig", i, p.GetName())
				}
			}
		}
		for _, tr := range tel.GetTracing() {
			for _, p := range tr.GetProviders() {
				if !providers[p.GetName()] {
					t.Errorf("doc %d: tracing provider %q is not in meshConfig", i, p.GetName())
				}
			}
			for tag, ct := range tr.GetCustomTags() {
				h := ct.GetHeader().GetName()
				if want := "genops." + strings.ReplaceAll(strings.TrimPrefix(h, "x-genops-"), "-", "_"); tag != want {
					t.Errorf("custom tag %q for header %s, want %q", tag, h, want)
				}
				tagged = append(tagged, h)
			}
		}
	}
	sort.Strings(tagged)
	want := append([]string(nil), requestHeaders...)
	sort.Strings(want)
	if strings.Join(tagged, ",") != strings.Join(want, ",") {
		t.Errorf("custom tags cover %v, want %v", tagged, want)
	}
}

// Consul's escape hatches are Envoy JSON: they decode strictly into the
// Envoy protos, and the access log is the istio_genops_json format (JSON,
// never TEXT: docs/trust.md).
func TestConsulProxyDefaults(t *testing.T) {
	d := docs(t, "consul/proxy-defaults.yaml")[0]
	spec := d["spec"].(map[string]any)
	logs := spec["accessLogs"].(map[string]any)
	if got := logs["jsonFormat"]; got != accesslog.GenOpsMeshJSONFormat() {
		t.Errorf("accessLogs.jsonFormat is not the istio_genops_json format:\n got %q\nwant %q", got, accesslog.GenOpsMeshJSONFormat())
	}
	if _, ok := logs["textFormat"]; ok {
		t.Error("accessLogs.textFormat is set: Consul takes one format, and TEXT escapes nothing")
	}
	values := docs(t, "consul/values.yaml")[0]
	if f := values["config"].(map[string]any)["receivers"].(map[string]any)["mesh_access_log"].(map[string]any)["format"]; f != "istio_genops_json" {
		t.Errorf("consul/values.yaml reads format %v, the snippet writes istio_genops_json", f)
	}
	cfg := spec["config"].(map[string]any)
	tracing := &tracev3.Tracing{}
	if err := protojson.Unmarshal([]byte(cfg["envoy_tracing_json"].(string)), tracing); err != nil {
		t.Fatalf("envoy_tracing_json: %v", err)
	}
	zipkin := &tracev3.ZipkinConfig{}
	if err := tracing.GetHttp().GetTypedConfig().UnmarshalTo(zipkin); err != nil {
		t.Fatalf("zipkin config: %v", err)
	}
	cluster := &clusterv3.Cluster{}
	if err := protojson.Unmarshal([]byte(cfg["envoy_extra_static_clusters_json"].(string)), cluster); err != nil {
		t.Fatalf("envoy_extra_static_clusters_json: %v", err)
	}
	if zipkin.GetCollectorCluster() != cluster.GetName() {
		t.Errorf("tracer sends to cluster %q, the extra cluster is %q", zipkin.GetCollectorCluster(), cluster.GetName())
	}
	if err := cluster.ValidateAll(); err != nil {
		t.Errorf("cluster: %v", err)
	}
	if err := zipkin.ValidateAll(); err != nil {
		t.Errorf("zipkin: %v", err)
	}
}

// The snippets a real apiserver can check: namespaces (core) and Istio's
// Telemetry resources, with Istio's CRDs from istio.io/api installed, by
// server-side dry run with strict field validation.
func TestServerSideValidation(t *testing.T) {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "istio.io/api").Output()
	if err != nil {
		t.Fatalf("locating istio.io/api: %v", err)
	}
	cluster := kubetest.Start(t)
	if _, err := envtest.InstallCRDs(cluster.Config, envtest.CRDInstallOptions{
		Paths:              []string{filepath.Join(strings.TrimSpace(string(out)), "kubernetes", "customresourcedefinitions.gen.yaml")},
		ErrorIfPathMissing: true,
	}); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, ns := range []string{"istio-system", "ai"} {
		if _, err := cluster.Client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	dyn, err := dynamic.NewForConfig(cluster.Config)
	if err != nil {
		t.Fatal(err)
	}
	strict := kjson.NewSerializerWithOptions(kjson.DefaultMetaFactory, clientgoscheme.Scheme, clientgoscheme.Scheme, kjson.SerializerOptions{Yaml: true, Strict: true})
	dryRun := metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}, FieldValidation: "Strict"}
	resources := map[string]schema.GroupVersionResource{
		"Namespace":           {Version: "v1", Resource: "namespaces"},
		"Telemetry":           {Group: "telemetry.istio.io", Version: "v1", Resource: "telemetries"},
		"AuthorizationPolicy": {Group: "security.istio.io", Version: "v1", Resource: "authorizationpolicies"},
		"EnvoyFilter":         {Group: "networking.istio.io", Version: "v1alpha3", Resource: "envoyfilters"},
	}
	for _, path := range []string{"istio/telemetry.yaml", "istio/policy.yaml", "linkerd/namespace.yaml", "osm/namespace.yaml"} {
		for _, d := range docs(t, path) {
			u := &unstructured.Unstructured{Object: d}
			if u.GetKind() == "Namespace" {
				b, _ := yaml.Marshal(d)
				if _, _, err := strict.Decode(b, nil, nil); err != nil {
					t.Errorf("%s: %v", path, err)
				}
				u.SetName(u.GetName() + "-dry-run") // "ai" exists already
			}
			gvr, ok := resources[u.GetKind()]
			if !ok {
				t.Fatalf("%s: no resource for %s", path, u.GetKind())
			}
			ri := dyn.Resource(gvr)
			var err error
			if ns := u.GetNamespace(); ns != "" {
				_, err = ri.Namespace(ns).Create(ctx, u, dryRun)
			} else {
				_, err = ri.Create(ctx, u, dryRun)
			}
			if err != nil {
				t.Errorf("%s %s/%s: %v", path, u.GetKind(), u.GetName(), err)
			}
		}
	}
}

// The policy snippets decode strictly into Istio's and Envoy's own types:
// the AuthorizationPolicy and EnvoyFilter specs into istio.io/api, the
// local rate limit filter into go-control-plane's LocalRateLimit and the
// route's rate limit actions into its RateLimit, and the descriptor the
// filter limits is the one the route's action makes from the team header.
func TestIstioPolicies(t *testing.T) {
	var kinds []string
	for _, d := range docs(t, "istio/policy.yaml") {
		u := &unstructured.Unstructured{Object: d}
		kinds = append(kinds, u.GetKind())
		switch u.GetKind() {
		case "AuthorizationPolicy":
			ap := &securityv1.AuthorizationPolicy{}
			strictProto(t, "AuthorizationPolicy", d["spec"], ap)
			if ap.GetAction() != securityv1.AuthorizationPolicy_DENY || len(ap.GetRules()) != 2 ||
				ap.GetRules()[1].GetWhen()[0].GetKey() != "request.headers["+semconv.HeaderTeam+"]" {
				t.Errorf("AuthorizationPolicy: %v", ap)
			}
		case "EnvoyFilter":
			ef := &networkingv1alpha3.EnvoyFilter{}
			strictProto(t, "EnvoyFilter", d["spec"], ef)
			patches := d["spec"].(map[string]any)["configPatches"].([]any)
			filter := patches[0].(map[string]any)["patch"].(map[string]any)["value"].(map[string]any)["typed_config"].(map[string]any)
			if filter["type_url"] != "type.googleapis.com/envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit" {
				t.Fatalf("typed_config: %v", filter["type_url"])
			}
			lrl := &localratelimitv3.LocalRateLimit{}
			strictProto(t, "LocalRateLimit", filter["value"], lrl)
			if err := lrl.ValidateAll(); err != nil {
				t.Errorf("LocalRateLimit: %v", err)
			}
			route := patches[1].(map[string]any)["patch"].(map[string]any)["value"].(map[string]any)["route"].(map[string]any)
			rl := &routev3.RateLimit{}
			strictProto(t, "RateLimit", route["rate_limits"].([]any)[0], rl)
			rh := rl.GetActions()[0].GetRequestHeaders()
			if rh.GetHeaderName() != semconv.HeaderTeam || rh.GetDescriptorKey() != lrl.GetDescriptors()[0].GetEntries()[0].GetKey() {
				t.Errorf("the route's action (%s as %s) is not the descriptor the filter limits (%v)", rh.GetHeaderName(), rh.GetDescriptorKey(), lrl.GetDescriptors())
			}
		}
	}
	if strings.Join(kinds, " ") != "AuthorizationPolicy EnvoyFilter" {
		t.Errorf("kinds: %v", kinds)
	}
}

func bufioReader(b []byte) *bufio.Reader { return bufio.NewReader(bytes.NewReader(b)) }
