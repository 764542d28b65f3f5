// Package helm_test tests the otelcol-genops Helm chart with a pinned Helm
// (test/peers/helm): `helm lint`, `helm template` in every mode and with
// every switch on, strict decoding of every rendered object into its Go type
// (k8s.io/api, prometheus-operator, Kiali), server-side dry-run of the
// built-in kinds against a real kube-apiserver (envtest), the rendered
// collector config through `otelcol-genops validate`, the mesh injection
// opt-out on every pod template, and the committed examples under
// deploy/examples.
package helm_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/kiali/kiali/config/dashboards"
	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	kjson "k8s.io/apimachinery/pkg/runtime/serializer/json"
	kyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/restmapper"
	"sigs.k8s.io/yaml"

	"github.com/genops-mesh/otelcol-genops/test/collectortest"
	"github.com/genops-mesh/otelcol-genops/test/kubetest"
)

var update = flag.Bool("update", false, "rewrite deploy/examples from the chart")

const (
	chart     = "otelcol-genops"
	release   = "otelcol-genops"
	namespace = "observability"
)

var (
	helmOnce sync.Once
	helmPath string
	helmErr  error
)

// helm builds the pinned Helm once per test process (the build cache makes
// later runs instant).
func helm(t *testing.T, args ...string) []byte {
	t.Helper()
	helmOnce.Do(func() {
		dir, err := os.MkdirTemp("", "genops-helm-")
		if err != nil {
			helmErr = err
			return
		}
		helmPath = filepath.Join(dir, "helm")
		cmd := exec.Command("go", "build", "-o", helmPath, "helm.sh/helm/v3/cmd/helm")
		cmd.Dir = filepath.Join("..", "..", "test", "peers", "helm")
		if out, err := cmd.CombinedOutput(); err != nil {
			helmErr = fmt.Errorf("building helm: %v\n%s", err, out)
		}
	})
	if helmErr != nil {
		t.Fatal(helmErr)
	}
	cmd := exec.Command(helmPath, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	// Helm's own state (repositories, cache) stays out of the user's home.
	home := t.TempDir()
	cmd.Env = append(os.Environ(), "HELM_CACHE_HOME="+home, "HELM_CONFIG_HOME="+home, "HELM_DATA_HOME="+home)
	if err := cmd.Run(); err != nil {
		t.Fatalf("helm %s: %v\n%s%s", strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	return stdout.Bytes()
}

func render(t *testing.T, sets ...string) []byte {
	t.Helper()
	args := []string{"template", release, chart, "--namespace", namespace}
	for _, s := range sets {
		if v, ok := strings.CutPrefix(s, "string:"); ok {
			args = append(args, "--set-string", v)
		} else if v, ok := strings.CutPrefix(s, "file:"); ok {
			args = append(args, "--values", v)
		} else {
			args = append(args, "--set", s)
		}
	}
	return helm(t, args...)
}

// everySwitch turns on every optional object.
var everySwitch = []string{
	"serviceMonitor.enabled=true", "podMonitor.enabled=true", "prometheusRule.enabled=true", "collectorAlerts.enabled=true",
	"grafanaDashboards.enabled=true", "kialiDashboards.enabled=true",
	"podLabels.team=platform", "podAnnotations.owner=platform",
	"additionalJobLabels.job-label=x", "additionalJobAnnotations.job-annotation=y",
	"cluster=eu-west-1", "tracesEndpoint=jaeger:4317",
}

var cases = map[string][]string{
	"daemonset":            nil,
	"gateway":              {"mode=gateway"},
	"daemonset-all":        everySwitch,
	"gateway-all":          append([]string{"mode=gateway"}, everySwitch...),
	"gateway-no-autoscale": {"mode=gateway", "gateway.autoscaling.enabled=false", "gateway.podDisruptionBudget.enabled=false", "rbac.create=false", "serviceAccount.create=false", "networkPolicy.enabled=false"},
	"tiered":               {"mode=tiered"},
	"tiered-all": append([]string{"mode=tiered", "tiered.remoteWrite.url=http://thanos-receive:19291/api/v1/receive", "ledger.enabled=true",
		"ledger.dsnSecret.name=ledger"}, everySwitch...),
	"tiered-no-proxies": {"mode=tiered", "proxyMetrics.enabled=false", "gateway.autoscaling.enabled=false"},
}

func TestLint(t *testing.T) {
	for name, sets := range cases {
		t.Run(name, func(t *testing.T) {
			args := []string{"lint", "--strict", chart}
			for _, s := range sets {
				args = append(args, "--set", s)
			}
			helm(t, args...)
		})
	}
}

// A typo in mode is refused by values.schema.json, with the allowed values.
func TestSchemaRejectsBadMode(t *testing.T) {
	out := renderErr(t, "mode=deamonset")
	if !strings.Contains(out, "mode") || !strings.Contains(out, "daemonset") {
		t.Fatalf("error does not name the value and the choices:\n%s", out)
	}
}

// The schema refuses unknown keys at every level (values.yaml says so): a
// misspelt podMonitr.enabled must not render a chart without a
// PodMonitor; config, the Kubernetes objects passed through and the
// label maps are the only open ones.
func TestSchemaRejectsUnknownKeys(t *testing.T) {
	for _, set := range []string{"podMonitr.enabled=true", "serviceMonitor.intervall=1m", "ports.metric=9999",
		"ledger.dsnSecrets.name=x", "checkpoints.chown.enable=false", "gateway.autoscaling.maxReplica=3"} {
		out := renderErr(t, set)
		if !strings.Contains(out, "Additional property") && !strings.Contains(out, "additional propert") {
			t.Errorf("--set %s: not refused as an unknown key:\n%s", set, out)
		}
	}
	render(t, "config.processors.batch.timeout=1s", "podLabels.team=ml", "resources.limits.cpu=1")
}

// The shipped rules and SLO dashboard are generated from the shipped SLO
// file: with a sloFile of one's own the chart does not ship them as if
// they were that file's.
func TestSLOFileOfYourOwn(t *testing.T) {
	if out := renderErr(t, "sloFile=slos: []", "prometheusRule.enabled=true"); !strings.Contains(out, "genopsctl generate --slo FILE") {
		t.Errorf("prometheusRule with a sloFile of one's own:\n%s", out)
	}
	// The collector's own alerts do not depend on the SLO file.
	if out := string(render(t, "sloFile=slos: []", "collectorAlerts.enabled=true")); !strings.Contains(out, "alert: GenOpsCollectorNoLogFiles") {
		t.Errorf("collectorAlerts with a sloFile of one's own:\n%s", out)
	}
	own := string(render(t, "sloFile=slos: []", "grafanaDashboards.enabled=true"))
	shipped := string(render(t, "grafanaDashboards.enabled=true"))
	if strings.Contains(own, "genops-service-slos.json") || !strings.Contains(shipped, "genops-service-slos.json") ||
		!strings.Contains(own, "genops-cost-by-team.json") {
		t.Error("with a sloFile of one's own the SLO dashboard of the example SLOs is shipped (or the others are not)")
	}
}

func renderErr(t *testing.T, sets ...string) string {
	t.Helper()
	helm(t, "version", "--short") // builds helm
	args := []string{"template", release, chart}
	for _, s := range sets {
		args = append(args, "--set", s)
	}
	out, err := exec.Command(helmPath, args...).CombinedOutput()
	if err == nil {
		t.Fatalf("helm template %v succeeded:\n%s", sets, out)
	}
	return string(out)
}

func bufioReader(b []byte) *bufio.Reader { return bufio.NewReader(bytes.NewReader(b)) }

func scheme(t *testing.T) *runtime.Scheme {
	t.Helper()
	s := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(s); err != nil {
		t.Fatal(err)
	}
	if err := monitoringv1.AddToScheme(s); err != nil {
		t.Fatal(err)
	}
	return s
}

// objects splits a rendering into documents and decodes each strictly
// (unknown or duplicate fields are errors) into its Go type.
func objects(t *testing.T, rendered []byte) []runtime.Object {
	t.Helper()
	s := scheme(t)
	strict := kjson.NewSerializerWithOptions(kjson.DefaultMetaFactory, s, s, kjson.SerializerOptions{Yaml: true, Strict: true})
	var objs []runtime.Object
	r := kyaml.NewYAMLReader(bufioReader(rendered))
	for {
		doc, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		var probe map[string]any
		if err := yaml.Unmarshal(doc, &probe); err != nil {
			t.Fatalf("invalid YAML: %v\n%s", err, doc)
		}
		if len(probe) == 0 {
			continue
		}
		if probe["kind"] == "Kiali" {
			objs = append(objs, decodeKiali(t, doc))
			continue
		}
		obj, _, err := strict.Decode(doc, nil, nil)
		if err != nil {
			t.Fatalf("%v\n%s", err, doc)
		}
		objs = append(objs, obj)
	}
	return objs
}

// decodeKiali checks the Kiali CR's custom dashboards against Kiali's own
// Go type (the CR itself has no Go type: the operator is Ansible).
func decodeKiali(t *testing.T, doc []byte) runtime.Object {
	t.Helper()
	var cr struct {
		metav1.TypeMeta   `json:",inline"`
		metav1.ObjectMeta `json:"metadata"`
		Spec              struct {
			CustomDashboards []dashboards.MonitoringDashboard `json:"custom_dashboards"`
		} `json:"spec"`
	}
	if err := yaml.UnmarshalStrict(doc, &cr); err != nil {
		t.Fatalf("Kiali CR: %v", err)
	}
	if len(cr.Spec.CustomDashboards) == 0 || cr.Spec.CustomDashboards[0].Name != "genops-governance" {
		t.Fatalf("Kiali CR carries no genops dashboard: %+v", cr.Spec)
	}
	u := &unstructured.Unstructured{}
	if err := yaml.Unmarshal(doc, &u.Object); err != nil {
		t.Fatal(err)
	}
	return u
}

func kinds(objs []runtime.Object) []string {
	var out []string
	for _, o := range objs {
		out = append(out, o.GetObjectKind().GroupVersionKind().Kind)
	}
	sort.Strings(out)
	return out
}

func TestTemplateKinds(t *testing.T) {
	want := map[string]string{
		"daemonset":            "ClusterRole ClusterRoleBinding ConfigMap DaemonSet Job NetworkPolicy Service ServiceAccount",
		"gateway":              "ClusterRole ClusterRoleBinding ConfigMap Deployment HorizontalPodAutoscaler Job NetworkPolicy PodDisruptionBudget Service ServiceAccount",
		"daemonset-all":        "ClusterRole ClusterRoleBinding ConfigMap ConfigMap ConfigMap ConfigMap ConfigMap ConfigMap DaemonSet Job Kiali NetworkPolicy PodMonitor PrometheusRule PrometheusRule Service ServiceAccount ServiceMonitor",
		"gateway-all":          "ClusterRole ClusterRoleBinding ConfigMap ConfigMap ConfigMap ConfigMap ConfigMap ConfigMap Deployment HorizontalPodAutoscaler Job Kiali NetworkPolicy PodDisruptionBudget PodMonitor PrometheusRule PrometheusRule Service ServiceAccount ServiceMonitor",
		"gateway-no-autoscale": "ConfigMap Deployment Job Service",
		"tiered":               "ClusterRole ClusterRoleBinding ConfigMap ConfigMap DaemonSet Deployment HorizontalPodAutoscaler Job NetworkPolicy NetworkPolicy PodDisruptionBudget Role RoleBinding Service Service ServiceAccount",
		"tiered-all":           "ClusterRole ClusterRoleBinding ConfigMap ConfigMap ConfigMap ConfigMap ConfigMap ConfigMap ConfigMap DaemonSet Deployment HorizontalPodAutoscaler Job Kiali NetworkPolicy NetworkPolicy PodDisruptionBudget PodMonitor PrometheusRule PrometheusRule Role RoleBinding Service Service ServiceAccount ServiceMonitor",
		"tiered-no-proxies":    "ClusterRole ClusterRoleBinding ConfigMap ConfigMap DaemonSet Deployment Job NetworkPolicy NetworkPolicy PodDisruptionBudget Role RoleBinding Service Service ServiceAccount",
	}
	for name, sets := range cases {
		t.Run(name, func(t *testing.T) {
			got := strings.Join(kinds(objects(t, render(t, sets...))), " ")
			if got != want[name] {
				t.Fatalf("kinds:\n got %s\nwant %s", got, want[name])
			}
		})
	}
}

// podTemplates are every pod template of a rendering, Helm hook Jobs
// included, with the object that holds them.
func podTemplates(objs []runtime.Object) map[string]corev1.PodTemplateSpec {
	out := map[string]corev1.PodTemplateSpec{}
	for _, o := range objs {
		switch v := o.(type) {
		case *appsv1.DaemonSet:
			out["DaemonSet/"+v.Name] = v.Spec.Template
		case *appsv1.Deployment:
			out["Deployment/"+v.Name] = v.Spec.Template
		case *batchv1.Job:
			out["Job/"+v.Name] = v.Spec.Template
		case *corev1.Pod:
			out["Pod/"+v.Name] = corev1.PodTemplateSpec{ObjectMeta: v.ObjectMeta, Spec: v.Spec}
		}
	}
	return out
}

var optOutAnnotations = map[string]string{
	"sidecar.istio.io/inject":              "false",
	"linkerd.io/inject":                    "disabled",
	"openservicemesh.io/sidecar-injection": "disabled",
	"consul.hashicorp.com/connect-inject":  "false",
}

// Every pod the chart makes, hook Jobs included, opts out of every mesh's
// sidecar injection; a user's labels and annotations are added, and the
// switch turns the opt-out off.
func TestMeshInjectionOptOut(t *testing.T) {
	for name, sets := range cases {
		t.Run(name, func(t *testing.T) {
			pods := podTemplates(objects(t, render(t, sets...)))
			if len(pods) < 2 {
				t.Fatalf("want the collector and the test Job, got %v", pods)
			}
			for obj, p := range pods {
				for k, v := range optOutAnnotations {
					if p.Annotations[k] != v {
						t.Errorf("%s: annotation %s=%q, want %q", obj, k, p.Annotations[k], v)
					}
				}
				if p.Labels["sidecar.istio.io/inject"] != "false" {
					t.Errorf("%s: label sidecar.istio.io/inject=%q", obj, p.Labels["sidecar.istio.io/inject"])
				}
			}
		})
	}
	t.Run("user additions", func(t *testing.T) {
		for obj, p := range podTemplates(objects(t, render(t, everySwitch...))) {
			wantLabel, wantAnn := "team", "owner"
			if strings.HasPrefix(obj, "Job/") {
				wantLabel, wantAnn = "job-label", "job-annotation"
			}
			if _, ok := p.Labels[wantLabel]; !ok {
				t.Errorf("%s: label %s missing: %v", obj, wantLabel, p.Labels)
			}
			if _, ok := p.Annotations[wantAnn]; !ok {
				t.Errorf("%s: annotation %s missing: %v", obj, wantAnn, p.Annotations)
			}
		}
	})
	t.Run("switched off", func(t *testing.T) {
		for obj, p := range podTemplates(objects(t, render(t, "meshInjectionOptOut=false", "string:podLabels.sidecar\\.istio\\.io/inject=true"))) {
			for k := range optOutAnnotations {
				if _, ok := p.Annotations[k]; ok {
					t.Errorf("%s: opt-out annotation %s still set", obj, k)
				}
			}
			if strings.HasPrefix(obj, "DaemonSet/") && p.Labels["sidecar.istio.io/inject"] != "true" {
				t.Errorf("%s: the user's injection label is lost: %v", obj, p.Labels)
			}
		}
	})
}

// Every container runs without root, privileges or a writable root
// filesystem, with all capabilities dropped and seccomp RuntimeDefault; the
// one exception is the checkpoint chown init container, which runs as root
// with CAP_CHOWN alone.
func TestSecurityContext(t *testing.T) {
	for name, sets := range cases {
		t.Run(name, func(t *testing.T) {
			for obj, p := range podTemplates(objects(t, render(t, sets...))) {
				psc := p.Spec.SecurityContext
				if psc == nil || psc.SeccompProfile == nil || psc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
					t.Errorf("%s: pod seccomp is not RuntimeDefault", obj)
				}
				if psc == nil || psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot {
					t.Errorf("%s: pod is not runAsNonRoot", obj)
				}
				all := append(append([]corev1.Container{}, p.Spec.InitContainers...), p.Spec.Containers...)
				for _, c := range all {
					sc := c.SecurityContext
					if sc == nil || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem ||
						sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation ||
						sc.Capabilities == nil || len(sc.Capabilities.Drop) != 1 || sc.Capabilities.Drop[0] != "ALL" {
						t.Errorf("%s/%s: security context %+v", obj, c.Name, sc)
						continue
					}
					if c.Name == "chown-checkpoints" {
						if len(sc.Capabilities.Add) != 1 || sc.Capabilities.Add[0] != "CHOWN" {
							t.Errorf("%s/%s: adds %v, want CHOWN alone", obj, c.Name, sc.Capabilities.Add)
						}
						continue
					}
					if len(sc.Capabilities.Add) != 0 || (sc.RunAsUser != nil && *sc.RunAsUser == 0) {
						t.Errorf("%s/%s: runs as root or adds capabilities", obj, c.Name)
					}
					if c.Resources.Limits.Memory().IsZero() {
						t.Errorf("%s/%s: no memory limit", obj, c.Name)
					}
				}
			}
		})
	}
}

// The collector container: the DaemonSet mounts pod logs read-only and the
// checkpoint hostPath, takes its node name from the downward API, tolerates
// every taint, and sets GOMEMLIMIT to 80% of the memory limit.
func TestCollectorPod(t *testing.T) {
	pods := podTemplates(objects(t, render(t, "resources.limits.memory=1Gi")))
	p, ok := pods["DaemonSet/"+release]
	if !ok {
		t.Fatalf("no DaemonSet in %v", pods)
	}
	c := p.Spec.Containers[0]
	env := map[string]corev1.EnvVar{}
	for _, e := range c.Env {
		env[e.Name] = e
	}
	if e := env["K8S_NODE_NAME"]; e.ValueFrom == nil || e.ValueFrom.FieldRef.FieldPath != "spec.nodeName" {
		t.Errorf("K8S_NODE_NAME: %+v", e)
	}
	if got, want := env["GOMEMLIMIT"].Value, fmt.Sprint(1<<30*8/10); got != want {
		t.Errorf("GOMEMLIMIT %s, want %s", got, want)
	}
	mounts := map[string]corev1.VolumeMount{}
	for _, m := range c.VolumeMounts {
		mounts[m.MountPath] = m
	}
	if m, ok := mounts["/var/log/pods"]; !ok || !m.ReadOnly {
		t.Errorf("/var/log/pods mount: %+v", m)
	}
	if _, ok := mounts["/var/lib/otelcol-genops"]; !ok {
		t.Error("no checkpoint mount")
	}
	if len(p.Spec.Tolerations) != 1 || p.Spec.Tolerations[0].Operator != corev1.TolerationOpExists {
		t.Errorf("tolerations %+v", p.Spec.Tolerations)
	}
	if c.LivenessProbe == nil || c.ReadinessProbe == nil || c.LivenessProbe.HTTPGet.Port.String() != "health" {
		t.Error("probes are not on the health check extension")
	}
	for _, bad := range []string{"1.5Gi", "lots"} {
		if out := renderErr(t, "resources.limits.memory="+bad); !strings.Contains(out, "resources.limits.memory") {
			t.Errorf("limit %q: error does not name the value:\n%s", bad, out)
		}
	}
}

// The rendered collector config, SLO file and price table pass the
// distribution's own `validate`, in both modes, with a config override
// merged in, and with each mesh's values file from deploy/mesh.
func TestRenderedConfigValidates(t *testing.T) {
	bin := collectortest.Binary(t)
	cases := map[string][]string{
		"daemonset":  nil,
		"gateway":    {"mode=gateway"},
		"override":   {"config.exporters.debug.verbosity=detailed", "config.processors.batch.timeout=2s"},
		"no-proxies": {"proxyMetrics.enabled=false"},
		"keep-all":   {"proxyMetrics.keepAll=true"},
		"ledger":     {"mode=gateway", "ledger.enabled=true", "ledger.dsnSecret.name=genops-ledger"},
		"tiered":     {"mode=tiered"},
		"tiered-remote-write": {"mode=tiered", "tiered.remoteWrite.url=http://thanos-receive:19291/api/v1/receive",
			"ledger.enabled=true", "ledger.dsnSecret.name=genops-ledger", "proxyMetrics.enabled=false"},
	}
	meshValues, err := filepath.Glob(filepath.Join("..", "mesh", "*", "values*.yaml"))
	if err != nil || len(meshValues) < 4 {
		t.Fatalf("mesh values files: %v %v", meshValues, err)
	}
	for _, f := range meshValues {
		cases[strings.TrimPrefix(f, filepath.Join("..", "mesh")+"/")] = []string{"file:" + f}
	}
	for name, sets := range cases {
		t.Run(name, func(t *testing.T) {
			var cms []*corev1.ConfigMap
			for _, o := range objects(t, render(t, sets...)) {
				if c, ok := o.(*corev1.ConfigMap); ok && c.Data["config.yaml"] != "" {
					cms = append(cms, c)
				}
			}
			if want := map[bool]int{false: 1, true: 2}[strings.HasPrefix(name, "tiered")]; len(cms) != want {
				t.Fatalf("%d config ConfigMaps, want %d", len(cms), want)
			}
			for _, cm := range cms {
				validateRendered(t, bin, name, cm)
			}
		})
	}
}

// validateRendered checks one rendered ConfigMap's config for what case
// name asks, then runs the distribution's validate on it.
func validateRendered(t *testing.T, bin, name string, cm *corev1.ConfigMap) {
	t.Helper()
	{
		{
			dir := t.TempDir()
			for k, v := range cm.Data {
				if err := os.WriteFile(filepath.Join(dir, k), []byte(v), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			conf := cm.Data["config.yaml"]
			switch {
			case name == "override" && !strings.Contains(conf, "verbosity: detailed"):
				t.Fatalf("override not merged:\n%s", conf)
			case name == "no-proxies" && (strings.Contains(conf, "prometheus/proxies") || strings.Contains(conf, "metrics/proxies")):
				t.Fatalf("proxy scraping still configured:\n%s", conf)
			case name == "keep-all" && (strings.Contains(conf, "metric_relabel_configs") || !strings.Contains(conf, "prometheus/proxies")):
				t.Fatalf("keepAll: metric_relabel_configs still there or scraping gone:\n%s", conf)
			case name == "daemonset" && !strings.Contains(conf, "metric_relabel_configs"):
				t.Fatalf("default keeps every proxy series:\n%s", conf)
			case name == "gateway" && strings.Contains(conf, "cost_ledger"):
				t.Fatalf("the ledger is on without ledger.enabled:\n%s", conf)
			case name == "ledger" && strings.Count(conf, "cost_ledger") != 3:
				t.Fatalf("ledger.enabled: the exporter and both pipelines:\n%s", conf)
			case cm.Name == release+"-agent" && (strings.Count(conf, "service: "+release+"-gateway."+namespace) != 2 || strings.Contains(conf, "static:")):
				t.Fatalf("the agents find the gateways through their headless Service:\n%s", conf)
			case cm.Name == release+"-agent" && strings.Contains(name, "remote-write") == strings.Contains(conf, "prometheus/proxies"):
				t.Fatalf("proxy scraping on the tiered agent follows proxyMetrics.enabled:\n%s", conf)
			case name == "tiered" && cm.Name == release+"-gateway" && strings.Contains(conf, "cost_ledger"):
				t.Fatalf("the ledger is on without ledger.enabled:\n%s", conf)
			}
			cmd := exec.Command(bin, "validate", "--config", filepath.Join(dir, "config.yaml"))
			cmd.Env = append(os.Environ(), "K8S_NODE_NAME=node-1", "GENOPS_LEDGER_DSN=postgres://genops@127.0.0.1:5432/ledger",
				"GENOPS_SLO_FILE="+filepath.Join(dir, "slo.yaml"), "GENOPS_PRICING_FILE="+filepath.Join(dir, "pricing.yaml"),
				"GENOPS_METRICS_EXPORTERS=[prometheus, prometheus_remote_write]", "GENOPS_REMOTE_WRITE_URL=http://thanos-receive:19291/api/v1/receive")
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("validate %s: %v\n%s", cm.Name, err, out)
			}
		}
	}
}

// The built-in kinds of every rendering are accepted by a real
// kube-apiserver (server-side dry run, strict field validation), so
// admission-time validation is covered too, not only the schema.
func TestServerDryRun(t *testing.T) {
	cluster := kubetest.Start(t)
	ctx := context.Background()
	if _, err := cluster.Client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: namespace}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	dc, err := discovery.NewDiscoveryClientForConfig(cluster.Config)
	if err != nil {
		t.Fatal(err)
	}
	mapper := restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(dc))
	dyn, err := dynamic.NewForConfig(cluster.Config)
	if err != nil {
		t.Fatal(err)
	}
	for name, sets := range cases {
		t.Run(name, func(t *testing.T) {
			r := kyaml.NewYAMLReader(bufioReader(render(t, sets...)))
			checked := 0
			defer func() {
				if checked < 4 {
					t.Errorf("only %d objects reached the apiserver", checked)
				}
			}()
			for {
				doc, err := r.Read()
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				u := &unstructured.Unstructured{}
				if err := yaml.Unmarshal(doc, &u.Object); err != nil {
					t.Fatal(err)
				}
				if len(u.Object) == 0 {
					continue
				}
				gvk := u.GroupVersionKind()
				m, err := mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
				if err != nil {
					// CRDs (prometheus-operator, Kiali) are not installed
					// here: their objects were decoded strictly above.
					continue
				}
				ri := dyn.Resource(m.Resource)
				opts := metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}, FieldValidation: "Strict"}
				if m.Scope.Name() == "namespace" {
					_, err = ri.Namespace(u.GetNamespace()).Create(ctx, u, opts)
				} else {
					_, err = ri.Create(ctx, u, opts)
				}
				if err != nil {
					t.Errorf("%s %s: %v", gvk.Kind, u.GetName(), err)
				}
				checked++
			}
		})
	}
}

// deploy/examples holds `helm template` of both modes, as a reader sees
// them; `go test ./deploy/helm -update` rewrites them.
func TestExamples(t *testing.T) {
	for mode, sets := range map[string][]string{"daemonset": nil, "gateway": {"mode=gateway"}, "tiered": {"mode=tiered"}} {
		t.Run(mode, func(t *testing.T) {
			got := append([]byte("# `helm template otelcol-genops deploy/helm/otelcol-genops --namespace observability"+
				map[string]string{"daemonset": "", "gateway": " --set mode=gateway", "tiered": " --set mode=tiered"}[mode]+
				"`\n# Generated by `go test ./deploy/helm -update`. Do not edit.\n"), render(t, sets...)...)
			path := filepath.Join("..", "examples", "helm-"+mode+".yaml")
			if *update {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test ./deploy/helm -update)", err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("%s is stale: run go test ./deploy/helm -update", path)
			}
		})
	}
}

// The NetworkPolicy (on by default) admits senders on the ingest ports
// only from pods a mesh injected and from the chart's own pods; ALS only
// in gateway mode; the metrics, telemetry and health ports stay open.
func TestNetworkPolicy(t *testing.T) {
	for mode, sets := range map[string][]string{"daemonset": nil, "gateway": {"mode=gateway"}} {
		t.Run(mode, func(t *testing.T) {
			var np *networkingv1.NetworkPolicy
			for _, o := range objects(t, render(t, sets...)) {
				if p, ok := o.(*networkingv1.NetworkPolicy); ok {
					np = p
				}
			}
			if np == nil || len(np.Spec.Ingress) != 2 {
				t.Fatalf("network policy: %+v", np)
			}
			ports := func(r networkingv1.NetworkPolicyIngressRule) string {
				var out []string
				for _, p := range r.Ports {
					out = append(out, p.Port.String())
				}
				return strings.Join(out, " ")
			}
			wantIngest := map[string]string{"daemonset": "4317 4318 9411", "gateway": "4317 4318 9411 19001"}[mode]
			ingest, open := np.Spec.Ingress[0], np.Spec.Ingress[1]
			if ports(ingest) != wantIngest || ports(open) != "8889 8888 13133" || len(open.From) != 0 {
				t.Errorf("ports: ingest %s, open %s from %v", ports(ingest), ports(open), open.From)
			}
			var meshed []string
			own := false
			for _, peer := range ingest.From {
				switch {
				case peer.NamespaceSelector != nil && peer.PodSelector != nil && len(peer.PodSelector.MatchExpressions) == 1:
					meshed = append(meshed, peer.PodSelector.MatchExpressions[0].Key)
				case peer.NamespaceSelector == nil && peer.PodSelector != nil && peer.PodSelector.MatchLabels["app.kubernetes.io/name"] == chart && len(peer.PodSelector.MatchLabels) == 1:
					own = true
				default:
					t.Errorf("unexpected peer %+v", peer)
				}
			}
			if strings.Join(meshed, " ") != "security.istio.io/tlsMode linkerd.io/control-plane-ns consul.hashicorp.com/connect-inject-status" || !own {
				t.Errorf("senders: meshed %v, own pods %v", meshed, own)
			}
		})
	}
	for _, o := range objects(t, render(t, "networkPolicy.enabled=false")) {
		if _, ok := o.(*networkingv1.NetworkPolicy); ok {
			t.Error("networkPolicy.enabled=false still renders one")
		}
	}
}

// Tiered mode: the agents (a DaemonSet with the node's logs) reach the
// gateway tier (a Deployment with its HorizontalPodAutoscaler and
// PodDisruptionBudget) through a headless Service they may resolve (a
// Role on EndpointSlices); every listener of both comes from the pod's
// IP; each gateway replica writes under its pod's name, and remote write
// is on when its URL is set. The gateways' ingest port admits the
// release's agents only.
func TestTieredObjects(t *testing.T) {
	objs := objects(t, render(t, "mode=tiered", "tiered.remoteWrite.url=http://receive:19291/api/v1/receive"))
	pods := podTemplates(objs)
	env := func(key string) map[string]corev1.EnvVar {
		p, ok := pods[key]
		if !ok {
			t.Fatalf("no %s in %v", key, pods)
		}
		out := map[string]corev1.EnvVar{}
		for _, e := range p.Spec.Containers[0].Env {
			out[e.Name] = e
		}
		return out
	}
	agent, gateway := env("DaemonSet/"+release+"-agent"), env("Deployment/"+release+"-gateway")
	if agent["GENOPS_OTLP_GRPC_ENDPOINT"].Value != "$(MY_POD_IP):4317" || gateway["GENOPS_OTLP_GRPC_ENDPOINT"].Value != "$(MY_POD_IP):4317" {
		t.Errorf("OTLP listeners: agent %+v, gateway %+v", agent["GENOPS_OTLP_GRPC_ENDPOINT"], gateway["GENOPS_OTLP_GRPC_ENDPOINT"])
	}
	if e := gateway["GENOPS_REPLICA"]; e.ValueFrom == nil || e.ValueFrom.FieldRef.FieldPath != "metadata.name" {
		t.Errorf("GENOPS_REPLICA: %+v", e)
	}
	if gateway["GENOPS_REMOTE_WRITE_URL"].Value != "http://receive:19291/api/v1/receive" ||
		gateway["GENOPS_METRICS_EXPORTERS"].Value != "[prometheus, prometheus_remote_write]" || gateway["GENOPS_FORWARDERS"].Value != namespace {
		t.Errorf("gateway env: %+v", gateway)
	}
	if _, ok := agent["GENOPS_REMOTE_WRITE_URL"]; ok {
		t.Error("the agents write remotely")
	}
	var headless, role, hpa, onlyAgents bool
	for _, o := range objs {
		switch o := o.(type) {
		case *networkingv1.NetworkPolicy:
			if o.Name == release+"-gateway" {
				from := o.Spec.Ingress[0].From
				onlyAgents = len(from) == 1 && from[0].NamespaceSelector == nil &&
					from[0].PodSelector.MatchLabels["app.kubernetes.io/component"] == "tiered-agent" &&
					from[0].PodSelector.MatchLabels["app.kubernetes.io/instance"] == release
			}
		case *corev1.Service:
			headless = headless || (o.Name == release+"-gateway" && o.Spec.ClusterIP == corev1.ClusterIPNone)
		case *rbacv1.Role:
			role = len(o.Rules) == 1 && o.Rules[0].Resources[0] == "endpointslices"
		case *autoscalingv2.HorizontalPodAutoscaler:
			hpa = o.Spec.ScaleTargetRef.Name == release+"-gateway"
		}
	}
	if !headless || !role || !hpa || !onlyAgents {
		t.Errorf("headless gateway Service %v, EndpointSlices Role %v, HPA on the gateways %v, gateway ingest only from the release's agents %v",
			headless, role, hpa, onlyAgents)
	}
}
