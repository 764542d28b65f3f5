package meshaccesslogreceiver

import (
	"context"
	"fmt"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/open-telemetry/opentelemetry-collector-contrib/extension/storage/filestorage"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/extension"
	"go.opentelemetry.io/collector/extension/extensiontest"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/receiver"
	"go.opentelemetry.io/collector/receiver/receivertest"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/sdk/metric/metricdata/metricdatatest"
	"go.uber.org/zap/zaptest"

	"github.com/genops-mesh/otelcol-genops/internal/accesslog"
	"github.com/genops-mesh/otelcol-genops/internal/fixtures"
	"github.com/genops-mesh/otelcol-genops/receiver/meshaccesslogreceiver/internal/metadata"
	"github.com/genops-mesh/otelcol-genops/receiver/meshaccesslogreceiver/internal/metadatatest"
)

// host offers extensions (file_storage) to the receiver under test.
type host struct {
	component.Host
	ext map[component.ID]component.Component
}

func (h host) GetExtensions() map[component.ID]component.Component { return h.ext }

func nopHost() host {
	return host{Host: componenttest.NewNopHost(), ext: map[component.ID]component.Component{}}
}

// podLogPath makes the kubelet layout under dir and returns the path of the
// istio-proxy container's log.
func podLogPath(t *testing.T, dir string) string {
	t.Helper()
	p := filepath.Join(dir, "var", "log", "pods", "shop_checkout-7d9f8b6c5-x2x9z_5b1c6d9e-1111-2222-3333-444455556666", "istio-proxy", "0.log")
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

func cri(line string) string { return "2026-11-20T10:00:00.000000000Z stdout F " + line + "\n" }

func appendLines(t *testing.T, path string, lines ...string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, l := range lines {
		if _, err := f.WriteString(l); err != nil {
			t.Fatal(err)
		}
	}
}

func testConfig(dir string) *Config {
	cfg := createDefaultConfig().(*Config)
	cfg.Include = []string{filepath.Join(dir, "var", "log", "pods", "*", "istio-proxy", "*.log")}
	cfg.StartAt = "beginning"
	cfg.PollInterval = 20 * time.Millisecond
	return cfg
}

func start(t *testing.T, cfg *Config, set receiver.Settings, h component.Host) (receiver.Logs, *consumertest.LogsSink) {
	t.Helper()
	sink := new(consumertest.LogsSink)
	r, err := NewFactory().CreateLogs(context.Background(), set, cfg, sink)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Start(context.Background(), h); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Shutdown(context.Background()) })
	return r, sink
}

// waitRecords waits until the sink holds n records (an upper bound for
// readiness, not a performance assertion), then checks that no more come.
func waitRecords(t *testing.T, sink *consumertest.LogsSink, n int) []plog.LogRecord {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for sink.LogRecordCount() < n {
		if time.Now().After(deadline) {
			t.Fatalf("got %d records, want %d", sink.LogRecordCount(), n)
		}
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond) // several more polls: nothing extra may arrive
	if got := sink.LogRecordCount(); got != n {
		t.Fatalf("got %d records, want exactly %d", got, n)
	}
	var out []plog.LogRecord
	for _, ld := range sink.AllLogs() {
		for i := 0; i < ld.ResourceLogs().Len(); i++ {
			for j := 0; j < ld.ResourceLogs().At(i).ScopeLogs().Len(); j++ {
				lrs := ld.ResourceLogs().At(i).ScopeLogs().At(j).LogRecords()
				for k := 0; k < lrs.Len(); k++ {
					out = append(out, lrs.At(k))
				}
			}
		}
	}
	return out
}

func fixtureLines(t *testing.T, file string) []string {
	return fixtures.Lines(t, "envoy-access-logs", file)
}

// Real Istio lines, wrapped by the kubelet as containerd writes them (one
// of them split into P parts), become one record each with the pod from the
// path on the resource.
func TestFileTailIstioFixtures(t *testing.T) {
	lines := append(fixtureLines(t, "istio-io-access-log-task.log"), fixtureLines(t, "istio-io-egress-gateway-default.log")...)
	dir := t.TempDir()
	path := podLogPath(t, dir)
	var wrapped []string
	for i, l := range lines {
		if i == 1 { // the runtime split this line in three
			wrapped = append(wrapped,
				"2026-11-20T10:00:00.000000000Z stdout P "+l[:10]+"\n",
				"2026-11-20T10:00:00.000000000Z stdout P "+l[10:50]+"\n",
				cri(l[50:]))
			continue
		}
		wrapped = append(wrapped, cri(l))
	}
	appendLines(t, path, wrapped...)

	_, sink := start(t, testConfig(dir), receivertest.NewNopSettings(metadata.Type), nopHost())
	records := waitRecords(t, sink, len(lines))

	res := sink.AllLogs()[0].ResourceLogs().At(0).Resource().Attributes().AsRaw()
	for k, v := range map[string]any{
		"k8s.namespace.name": "shop", "k8s.pod.name": "checkout-7d9f8b6c5-x2x9z",
		"k8s.pod.uid": "5b1c6d9e-1111-2222-3333-444455556666", "k8s.container.name": "istio-proxy", "log.file.path": path,
	} {
		if res[k] != v {
			t.Errorf("resource %s = %v, want %v", k, res[k], v)
		}
	}
	directions := map[string]int{}
	for _, lr := range records {
		d, _ := lr.Attributes().Get("envoy.direction")
		directions[d.Str()]++
		if lr.Timestamp() == 0 || lr.ObservedTimestamp() == 0 {
			t.Error("record without timestamps")
		}
	}
	if directions["inbound"] != 1 || directions["outbound"] != 4 {
		t.Errorf("directions %v, want 1 inbound and 4 outbound", directions)
	}
	inbound := records[1].Attributes().AsRaw()
	if inbound["envoy.upstream_cluster"] != "inbound|8000||" || inbound["http.response.status_code"] != int64(418) {
		t.Errorf("the joined line parsed wrong: %v", inbound)
	}
}

// The form a GenOps user configures: the governance headers land as
// http.request.header.* attributes, ready for the governance processor.
func TestFileTailGenOpsFormat(t *testing.T) {
	dir := t.TempDir()
	path := podLogPath(t, dir)
	appendLines(t, path, cri(`[2026-11-20T10:00:00.000Z] "POST /v1/chat/completions HTTP/2" 200 - via_upstream - "-" 512 2048 1234 1200 "-" "python-httpx/0.27.0" "3c1f0b9e" "llm:8080" "10.0.0.7:8080" inbound|8080|| 127.0.0.6:51515 10.0.0.7:8080 10.0.0.9:40000 - default "ml-platform" "cust-42" "support-bot"`))
	cfg := testConfig(dir)
	cfg.Format = accesslog.IstioGenOpsFormat
	_, sink := start(t, cfg, receivertest.NewNopSettings(metadata.Type), nopHost())
	got := waitRecords(t, sink, 1)[0].Attributes().AsRaw()
	for k, v := range map[string]any{
		"http.request.header.x-genops-team":        "ml-platform",
		"http.request.header.x-genops-customer-id": "cust-42",
		"http.request.header.x-genops-project":     "support-bot",
		"envoy.duration_ms":                        int64(1234),
	} {
		if got[k] != v {
			t.Errorf("%s = %v, want %v", k, got[k], v)
		}
	}
}

// Malformed, binary, truncated and oversized lines among good ones: every
// good line is a record, every bad one is counted by reason, and in
// passthrough mode it arrives raw with envoy.parse_error.
func TestFileTailBadLines(t *testing.T) {
	good := `[2020-11-25T21:26:18.409Z] "GET /status/418 HTTP/1.1" 418 - via_upstream - "-" 0 135 3 1 "-" "curl/7.73.0-DEV" "84961386-6d84-929d-98bd-c5aee93b5c88" "httpbin:8000" "127.0.0.1:80" inbound|8000|| 127.0.0.1:41854 10.44.1.27:80 10.44.1.23:37652 - default`
	badValue := strings.Replace(good, " 418 - via_upstream", " 4x8 - via_upstream", 1)
	for _, mode := range []string{OnErrorDrop, OnErrorPassthrough} {
		t.Run(mode, func(t *testing.T) {
			dir := t.TempDir()
			path := podLogPath(t, dir)
			appendLines(t, path,
				cri(good),
				cri("garbage that is no access log"),
				cri("\x00\x01\xff\xfe binary"),
				cri(good[:80]), // truncated mid-line
				"not even a CRI line\n",
				cri(badValue),
				cri("2024-04-12T10:17:44.123456Z\tinfo\tEnvoy proxy is ready"), // the proxy's own log
				cri(good),
			)
			tt := componenttest.NewTelemetry()
			t.Cleanup(func() { _ = tt.Shutdown(context.Background()) })
			cfg := testConfig(dir)
			cfg.OnError = mode
			_, sink := start(t, cfg, metadatatest.NewSettings(tt), nopHost())

			want := 3 // two good lines and the one with a bad status code
			if mode == OnErrorPassthrough {
				want = 8
			}
			records := waitRecords(t, sink, want)
			withError := 0
			for _, lr := range records {
				if v, ok := lr.Attributes().Get("envoy.parse_error"); ok {
					withError++
					if v.Str() == "" {
						t.Error("empty envoy.parse_error")
					}
				}
			}
			if wantErr := want - 2; withError != wantErr {
				t.Errorf("%d records carry envoy.parse_error, want %d", withError, wantErr)
			}
			metadatatest.AssertEqualReceiverMeshAccessLogParseErrors(t, tt, []metricdata.DataPoint[int64]{
				{Value: 2, Attributes: attribute.NewSet(attribute.String("receiver", "mesh_access_log"), attribute.String("reason", "prefix"), attribute.String("transport", "file"))},
				{Value: 1, Attributes: attribute.NewSet(attribute.String("receiver", "mesh_access_log"), attribute.String("reason", "delimiter"), attribute.String("transport", "file"))},
				{Value: 1, Attributes: attribute.NewSet(attribute.String("receiver", "mesh_access_log"), attribute.String("reason", "wrapper"), attribute.String("transport", "file"))},
				{Value: 1, Attributes: attribute.NewSet(attribute.String("receiver", "mesh_access_log"), attribute.String("reason", "value"), attribute.String("transport", "file"))},
				{Value: 1, Attributes: attribute.NewSet(attribute.String("receiver", "mesh_access_log"), attribute.String("reason", "proxy_log"), attribute.String("transport", "file"))},
			}, metricdatatest.IgnoreTimestamp())
			// The same, per file (the proxy's own line is read, and no
			// error of the file's format): which pod's log does not parse.
			file := attribute.NewSet(attribute.String("receiver", "mesh_access_log"), attribute.String("log.file.path", path))
			metadatatest.AssertEqualReceiverMeshAccessLogFileLines(t, tt, []metricdata.DataPoint[int64]{{Value: 8, Attributes: file}}, metricdatatest.IgnoreTimestamp())
			metadatatest.AssertEqualReceiverMeshAccessLogFileParseErrors(t, tt, []metricdata.DataPoint[int64]{{Value: 5, Attributes: file}}, metricdatatest.IgnoreTimestamp())
		})
	}
}

// A wrong log path is not silent: the receiver warns at start with what
// exists instead, files_matched says 0 (GenOpsCollectorNoLogFiles), and
// when files appear and go, the gauge and the per-file series follow.
func TestFileTailNoFilesMatched(t *testing.T) {
	dir := t.TempDir()
	tt := componenttest.NewTelemetry()
	t.Cleanup(func() { _ = tt.Shutdown(context.Background()) })
	set := metadatatest.NewSettings(tt)
	core, logs := observer.New(zap.InfoLevel)
	set.Logger = zap.New(core)
	start(t, testConfig(dir), set, nopHost())

	warned := logs.FilterMessageSnippet("no access log file matches include").All()
	if len(warned) != 1 {
		t.Fatalf("warnings: %v", logs.All())
	}
	found := fmt.Sprint(warned[0].ContextMap()["found"])
	if !strings.Contains(found, filepath.Join(dir, "var", "log", "pods")+" does not exist") || !strings.Contains(found, "nearest directory that does is "+dir) {
		t.Errorf("the warning does not say what exists: %s", found)
	}
	matched := func() int64 {
		m, err := tt.GetMetric("otelcol.receiver.mesh_access_log.files_matched")
		if err != nil {
			t.Fatal(err)
		}
		return m.Data.(metricdata.Gauge[int64]).DataPoints[0].Value
	}
	if n := matched(); n != 0 {
		t.Errorf("files_matched %d with no file", n)
	}

	path := podLogPath(t, dir)
	appendLines(t, path, cri("garbage"))
	eventually(t, func() bool { return matched() == 1 && perFile(t, tt) == 1 })
	if len(logs.FilterMessageSnippet("match include again").All()) != 1 {
		t.Errorf("no notice when files match again: %v", logs.All())
	}
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	eventually(t, func() bool { return matched() == 0 && perFile(t, tt) == 0 })
	if n := len(logs.FilterMessageSnippet("no access log file matches include").All()); n != 2 {
		t.Errorf("%d warnings, want 2 (at start, and when the files went)", n)
	}
}

// perFile is the number of files with a file_lines series.
func perFile(t *testing.T, tt *componenttest.Telemetry) int {
	m, err := tt.GetMetric("otelcol.receiver.mesh_access_log.file_lines")
	if err != nil {
		return 0
	}
	return len(m.Data.(metricdata.Sum[int64]).DataPoints)
}

// eventually waits for cond (an upper bound for readiness, not a
// performance assertion).
func eventually(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in 30 s")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// kubelet-style rotation (the file is renamed, a new one created) loses no
// line and reads none twice.
func TestFileTailRotation(t *testing.T) {
	dir := t.TempDir()
	path := podLogPath(t, dir)
	line := func(i int) string {
		return cri(fmt.Sprintf(`[2020-11-25T21:26:18.409Z] "GET /n/%d HTTP/1.1" 200 - via_upstream - "-" 0 1 1 1 "-" "c" "id" "h:80" "10.0.0.1:80" inbound|80|| 127.0.0.1:1 10.0.0.1:80 10.0.0.2:3 - default`, i))
	}
	for i := range 5 {
		appendLines(t, path, line(i))
	}
	_, sink := start(t, testConfig(dir), receivertest.NewNopSettings(metadata.Type), nopHost())
	waitRecords(t, sink, 5)
	appendLines(t, path, line(5), line(6))
	if err := os.Rename(path, path+".20261120-100000"); err != nil {
		t.Fatal(err)
	}
	for i := 7; i < 10; i++ {
		appendLines(t, path, line(i))
	}
	records := waitRecords(t, sink, 10)
	seen := map[string]int{}
	for _, lr := range records {
		p, _ := lr.Attributes().Get("url.path")
		seen[p.Str()]++
	}
	for i := range 10 {
		if n := seen[fmt.Sprintf("/n/%d", i)]; n != 1 {
			t.Errorf("/n/%d seen %d times", i, n)
		}
	}
}

// With file_storage, a restarted receiver resumes where it stopped: the
// lines read before the restart are not read again, and the ones written
// while it was down are read once.
func TestFileTailCheckpoint(t *testing.T) {
	dir := t.TempDir()
	path := podLogPath(t, dir)
	line := cri(`[2020-11-25T21:26:18.409Z] "GET /x HTTP/1.1" 200 - via_upstream - "-" 0 1 1 1 "-" "c" "id" "h:80" "10.0.0.1:80" inbound|80|| 127.0.0.1:1 10.0.0.1:80 10.0.0.2:3 - default`)
	for range 5 {
		appendLines(t, path, line)
	}

	storageID := component.MustNewID("file_storage")
	newHost := func() (host, extension.Extension) {
		f := filestorage.NewFactory()
		cfg := f.CreateDefaultConfig().(*filestorage.Config)
		cfg.Directory = filepath.Join(dir, "checkpoints")
		cfg.CreateDirectory = true
		ext, err := f.Create(context.Background(), extensiontest.NewNopSettings(f.Type()), cfg)
		if err != nil {
			t.Fatal(err)
		}
		if err := ext.Start(context.Background(), componenttest.NewNopHost()); err != nil {
			t.Fatal(err)
		}
		return host{Host: componenttest.NewNopHost(), ext: map[component.ID]component.Component{storageID: ext}}, ext
	}
	cfg := testConfig(dir)
	cfg.Storage = &storageID

	h, ext := newHost()
	set := receivertest.NewNopSettings(metadata.Type)
	set.Logger = zaptest.NewLogger(t)
	r, sink := start(t, cfg, set, h)
	waitRecords(t, sink, 5)
	if err := r.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := ext.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}

	for range 3 {
		appendLines(t, path, line)
	}
	h, ext = newHost()
	t.Cleanup(func() { _ = ext.Shutdown(context.Background()) })
	_, sink = start(t, cfg, set, h)
	waitRecords(t, sink, 3)
}

// A symlink planted among the pods' logs that leads out of the include
// root (to /etc/shadow, say) is not read as an access log: nothing of it
// goes on, and each line is counted as outside_root.
func TestFileTailRefusesSymlinksOutOfRoot(t *testing.T) {
	dir := t.TempDir()
	secret := filepath.Join(dir, "etc", "shadow")
	if err := os.MkdirAll(filepath.Dir(secret), 0o755); err != nil {
		t.Fatal(err)
	}
	good := `[2020-11-25T21:26:18.409Z] "GET /status/418 HTTP/1.1" 418 - via_upstream - "-" 0 135 3 1 "-" "curl/7.73.0-DEV" "84961386-6d84-929d-98bd-c5aee93b5c88" "httpbin:8000" "127.0.0.1:80" inbound|8000|| 127.0.0.1:41854 10.44.1.27:80 10.44.1.23:37652 - default`
	// Even a line that parses is refused: the file is not a pod's.
	appendLines(t, secret, cri(good), cri("root:$6$secret:19000:0:99999:7:::"))
	link := podLogPath(t, dir)
	if err := os.Symlink(secret, link); err != nil {
		t.Fatal(err)
	}
	// A pod's real log beside it is read as usual.
	real := filepath.Join(filepath.Dir(filepath.Dir(filepath.Dir(link))), "shop_real-0_uid", "istio-proxy", "0.log")
	if err := os.MkdirAll(filepath.Dir(real), 0o755); err != nil {
		t.Fatal(err)
	}
	appendLines(t, real, cri(good))

	tt := componenttest.NewTelemetry()
	t.Cleanup(func() { _ = tt.Shutdown(context.Background()) })
	_, sink := start(t, testConfig(dir), metadatatest.NewSettings(tt), nopHost())
	records := waitRecords(t, sink, 1)
	if v, _ := records[0].Attributes().Get("http.response.status_code"); v.Int() != 418 {
		t.Errorf("record %v", records[0].Attributes().AsRaw())
	}
	metadatatest.AssertEqualReceiverMeshAccessLogParseErrors(t, tt, []metricdata.DataPoint[int64]{
		{Value: 2, Attributes: attribute.NewSet(attribute.String("receiver", "mesh_access_log"), attribute.String("reason", "outside_root"), attribute.String("transport", "file"))},
	}, metricdatatest.IgnoreTimestamp())
}
