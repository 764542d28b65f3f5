package helm_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"

	"github.com/genops-mesh/otelcol-genops/test/collectortest"
	"github.com/genops-mesh/otelcol-genops/test/kubetest"
)

// pki is a CA with a server certificate for 127.0.0.1 and a client
// certificate, written as a kubernetes.io/tls Secret's files (tls.crt,
// tls.key, ca.crt) in dir.
type pki struct {
	dir    string
	pool   *x509.CertPool
	client tls.Certificate
}

func newPKI(t *testing.T) pki {
	t.Helper()
	key := func() *ecdsa.PrivateKey {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	caKey := key()
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "genops-test-ca"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	issue := func(serial int64, usage x509.ExtKeyUsage) ([]byte, *ecdsa.PrivateKey) {
		k := key()
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: fmt.Sprint("genops-", serial)},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
			ExtKeyUsage: []x509.ExtKeyUsage{usage}, IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &k.PublicKey, caKey)
		if err != nil {
			t.Fatal(err)
		}
		return der, k
	}
	pemOf := func(typ string, b []byte) []byte { return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: b}) }
	keyPEM := func(k *ecdsa.PrivateKey) []byte {
		b, err := x509.MarshalECPrivateKey(k)
		if err != nil {
			t.Fatal(err)
		}
		return pemOf("EC PRIVATE KEY", b)
	}
	dir := t.TempDir()
	serverDER, serverKey := issue(2, x509.ExtKeyUsageServerAuth)
	for name, b := range map[string][]byte{"tls.crt": pemOf("CERTIFICATE", serverDER), "tls.key": keyPEM(serverKey), "ca.crt": pemOf("CERTIFICATE", caDER)} {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	clientDER, clientKey := issue(3, x509.ExtKeyUsageClientAuth)
	client, err := tls.X509KeyPair(pemOf("CERTIFICATE", clientDER), keyPEM(clientKey))
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	return pki{dir: dir, pool: pool, client: client}
}

// ingestTLS is what the chart writes on every ingest listener for
// ingestTLS.enabled with clientCA.
var ingestTLS = map[string]any{
	"cert_file": "/etc/otelcol-genops/tls/tls.crt", "key_file": "/etc/otelcol-genops/tls/tls.key",
	"client_ca_file": "/etc/otelcol-genops/tls/ca.crt", "min_version": "1.2",
}

// renderedConfig is the collector config (and the pod spec) the chart
// renders for sets.
func renderedConfig(t *testing.T, sets ...string) (map[string]any, *corev1.PodSpec, map[string]string) {
	t.Helper()
	var conf map[string]any
	var spec *corev1.PodSpec
	var data map[string]string
	for _, o := range objects(t, render(t, sets...)) {
		switch o := o.(type) {
		case *corev1.ConfigMap:
			if o.Name == release {
				data = o.Data
				if err := yaml.Unmarshal([]byte(o.Data["config.yaml"]), &conf); err != nil {
					t.Fatal(err)
				}
			}
		case *appsv1.DaemonSet:
			spec = &o.Spec.Template.Spec
		case *appsv1.Deployment:
			spec = &o.Spec.Template.Spec
		}
	}
	if conf == nil || spec == nil {
		t.Fatal("no config or no pod template rendered")
	}
	return conf, spec, data
}

func dig(m map[string]any, path ...string) any {
	var v any = m
	for _, k := range path {
		mm, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = mm[k]
	}
	return v
}

// ingestTLS.enabled puts TLS (and with clientCA, client certificates) on
// every ingest listener of both modes and mounts the Secret; then the
// gateway the chart renders, run on those very files with a real CA,
// takes spans only over TLS from a client with a certificate.
func TestIngestTLS(t *testing.T) {
	listeners := [][]string{
		{"receivers", "zipkin"}, {"receivers", "otlp", "protocols", "grpc"},
		{"receivers", "otlp", "protocols", "http"}, {"receivers", "mesh_access_log", "als"},
	}
	for _, mode := range []string{"daemonset", "gateway"} {
		conf, spec, _ := renderedConfig(t, "mode="+mode, "ingestTLS.enabled=true", "ingestTLS.secretName=genops-ingest-tls", "ingestTLS.clientCA=true")
		n := 0
		for _, l := range listeners {
			listener := dig(conf, l...)
			if listener == nil {
				continue
			}
			n++
			if got := dig(listener.(map[string]any), "tls"); fmt.Sprint(got) != fmt.Sprint(ingestTLS) {
				t.Errorf("%s %s: tls %v, want %v", mode, strings.Join(l, "."), got, ingestTLS)
			}
		}
		if n < 3 {
			t.Errorf("%s: only %d ingest listeners found", mode, n)
		}
		mounted := false
		for _, v := range spec.Volumes {
			mounted = mounted || (v.Secret != nil && v.Secret.SecretName == "genops-ingest-tls")
		}
		if !mounted {
			t.Errorf("%s: the Secret is not mounted: %v", mode, spec.Volumes)
		}
	}
	if out := renderErr(t, "ingestTLS.enabled=true"); !strings.Contains(out, "ingestTLS.secretName") {
		t.Errorf("no Secret named: %s", out)
	}
	// Off by default: no listener has TLS.
	conf, _, _ := renderedConfig(t, "mode=gateway")
	if dig(conf, "receivers", "zipkin", "tls") != nil {
		t.Error("TLS on by default")
	}

	// The rendered gateway, for real.
	p := newPKI(t)
	_, _, data := renderedConfig(t, "mode=gateway", "ingestTLS.enabled=true", "ingestTLS.secretName=x", "ingestTLS.clientCA=true")
	dir := t.TempDir()
	for k, v := range data {
		v = strings.ReplaceAll(v, "/etc/otelcol-genops/tls/", p.dir+"/")
		if err := os.WriteFile(filepath.Join(dir, k), []byte(v), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cluster := kubetest.Start(t)
	zipkin, otlpHTTP, otlpGRPC, als := collectortest.FreeAddr(t), collectortest.FreeAddr(t), collectortest.FreeAddr(t), collectortest.FreeAddr(t)
	health, prom, telemetry := collectortest.FreeAddr(t), collectortest.FreeAddr(t), collectortest.FreeAddr(t)
	// Only where the listeners bind and how the cluster is reached differ
	// from the chart's config.
	col := collectortest.StartConfigs(t, map[string]string{
		"E2E_HEALTH": health, "E2E_STORAGE": t.TempDir(), "E2E_ALS": als, "E2E_ZIPKIN": zipkin, "E2E_OTLP_GRPC": otlpGRPC, "E2E_OTLP_HTTP": otlpHTTP,
		"E2E_PROM": prom, "E2E_TELEMETRY_PORT": strconv.Itoa(collectortest.Port(t, telemetry)),
		"KUBECONFIG": cluster.Kubeconfig, "GENOPS_SLO_FILE": filepath.Join(dir, "slo.yaml"), "GENOPS_PRICING_FILE": filepath.Join(dir, "pricing.yaml"),
	}, filepath.Join(dir, "config.yaml"), "testdata/tls-overlay.yaml")
	col.WaitHealthy(t, health)

	span := `[{"traceId":"5af7183fb1d4cf5f5af7183fb1d4cf01","id":"6b221d5bc9e64901","kind":"SERVER","name":"get","timestamp":1764583200000000,"duration":1000,"localEndpoint":{"serviceName":"svc"}}]`
	post := func(client *http.Client, scheme string) (int, error) {
		resp, err := client.Post(scheme+"://"+zipkin+"/api/v2/spans", "application/json", strings.NewReader(span))
		if err != nil {
			return 0, err
		}
		resp.Body.Close()
		return resp.StatusCode, nil
	}
	withCert := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: p.pool, Certificates: []tls.Certificate{p.client}}}}
	withoutCert := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: p.pool}}}
	if code, err := post(withCert, "https"); err != nil || code/100 != 2 {
		t.Errorf("TLS with a client certificate: %d %v", code, err)
	}
	if code, err := post(withoutCert, "https"); err == nil {
		t.Errorf("TLS without a client certificate was answered %d", code)
	}
	if code, err := post(http.DefaultClient, "http"); err == nil && code/100 == 2 {
		t.Errorf("plain HTTP was taken: %d", code)
	}
	// Every other listener serves TLS with the Secret's certificate and
	// asks for the client's.
	for name, addr := range map[string]string{"otlp http": otlpHTTP, "otlp grpc": otlpGRPC, "als": als} {
		asked := false
		conn, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: p.pool, NextProtos: []string{"h2"},
			GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
				asked = true
				return &p.client, nil
			}})
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		conn.Close()
		if !asked {
			t.Errorf("%s: no client certificate asked for", name)
		}
	}
}

// Every listener follows ports.*, as the Service, containerPorts and
// probes do: a port moved in values moves the collector with it.
func TestListenersFollowPorts(t *testing.T) {
	for _, mode := range []string{"daemonset", "gateway"} {
		conf, spec, _ := renderedConfig(t, "mode="+mode, "ports.metrics=9999", "ports.health=14000", "ports.telemetry=9000",
			"ports.zipkin=9412", "ports.otlp-grpc=5317", "ports.otlp-http=5318", "ports.als=19002")
		endpoint := func(path ...string) string {
			var cur any = conf
			for _, p := range path {
				m, _ := cur.(map[string]any)
				cur = m[p]
			}
			s, _ := cur.(string)
			return s
		}
		want := map[string][]string{
			":9999":  {"exporters", "prometheus", "endpoint"},
			":14000": {"extensions", "health_check", "endpoint"},
			":9412":  {"receivers", "zipkin", "endpoint"},
			":5317":  {"receivers", "otlp", "protocols", "grpc", "endpoint"},
			":5318":  {"receivers", "otlp", "protocols", "http", "endpoint"},
		}
		if mode == "gateway" {
			want[":19002"] = []string{"receivers", "mesh_access_log", "als", "endpoint"}
		}
		for port, path := range want {
			if got := endpoint(path...); !strings.HasSuffix(got, port) {
				t.Errorf("%s: %s = %q, want the port %s", mode, strings.Join(path, "."), got, port)
			}
		}
		readers := conf["service"].(map[string]any)["telemetry"].(map[string]any)["metrics"].(map[string]any)["readers"].([]any)
		prom := readers[0].(map[string]any)["pull"].(map[string]any)["exporter"].(map[string]any)["prometheus"].(map[string]any)
		if fmt.Sprint(prom["port"]) != "9000" {
			t.Errorf("%s: telemetry port %v", mode, prom["port"])
		}
		// The probes name the port: its containerPort is the value.
		c := spec.Containers[0]
		if c.ReadinessProbe == nil || c.ReadinessProbe.HTTPGet == nil || c.ReadinessProbe.HTTPGet.Port.String() != "health" {
			t.Errorf("%s: readiness probe %+v", mode, c.ReadinessProbe)
		}
		ports := map[string]int32{}
		for _, p := range c.Ports {
			ports[p.Name] = p.ContainerPort
		}
		if ports["health"] != 14000 || ports["metrics"] != 9999 {
			t.Errorf("%s: containerPorts %v", mode, ports)
		}
	}
}
