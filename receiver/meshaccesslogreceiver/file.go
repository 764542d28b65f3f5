package meshaccesslogreceiver

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/stanza/fileconsumer"
	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/stanza/fileconsumer/attrs"
	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/stanza/fileconsumer/matcher"
	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/stanza/operator"
	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/stanza/split"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/receiver/receiverhelper"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.uber.org/zap"
	"golang.org/x/text/encoding/unicode"

	"github.com/genops-mesh/otelcol-genops/internal/accesslog"
	"github.com/genops-mesh/otelcol-genops/internal/globhint"
	"github.com/genops-mesh/otelcol-genops/internal/semconv"
	"github.com/genops-mesh/otelcol-genops/receiver/meshaccesslogreceiver/internal/kubeletlog"
)

// fileTail tails access log files through contrib's fileconsumer, which
// handles globs, rotation, truncation, fingerprints and checkpoints.
type fileTail struct {
	r       *meshReceiver
	obs     *receiverhelper.ObsReport
	manager *fileconsumer.Manager

	mu    sync.Mutex
	files map[string]*fileState // by path

	// matcher checks the include patterns apart from fileconsumer, every
	// matchInterval: fileconsumer says nothing when they match no file.
	matcher *matcher.Matcher
	matched atomic.Int64
	done    chan struct{}
	wg      sync.WaitGroup
}

// matchInterval is how often watch checks the include patterns: ten poll
// intervals, at least 2 s.
func (t *fileTail) matchInterval() time.Duration {
	return max(10*t.r.cfg.PollInterval, 2*time.Second)
}

// fileState is what is kept per file between batches: the kubelet wrapping
// with any split line in progress, and the resource built from its path.
type fileState struct {
	mu       sync.Mutex
	lines    atomic.Int64 // complete lines read
	errors   atomic.Int64 // of which did not parse or lost a field
	joiner   *kubeletlog.Joiner
	resource pcommon.Resource
	// outside is set when the file's real path (symlinks resolved) leaves
	// every include root: its lines are dropped unread by the parser.
	outside bool
}

const attrLogFilePath = "log.file.path"

func newFileTail(r *meshReceiver, obs *receiverhelper.ObsReport) *fileTail {
	return &fileTail{r: r, obs: obs, files: map[string]*fileState{}}
}

func (t *fileTail) start(persister operator.Persister) error {
	cfg := t.r.cfg
	fc := fileconsumer.NewConfig()
	fc.Criteria = cfg.Criteria
	fc.StartAt = cfg.StartAt
	fc.PollInterval = cfg.PollInterval
	fc.MaxConcurrentFiles = cfg.MaxConcurrentFiles
	fc.MaxLogSize = cfg.MaxLogSize
	fc.FingerprintSize = cfg.FingerprintSize
	// Bytes are handed over undecoded ("nop"): the parser checks UTF-8
	// itself and copies only a value that is not valid. Lines are still
	// split at newlines (nop alone would not split at all).
	fc.Encoding = "nop"
	fc.Resolver = attrs.Resolver{IncludeFilePath: true}
	splitLines, err := split.NewlineSplitFunc(unicode.UTF8, false)
	if err != nil {
		return err
	}
	manager, err := fc.Build(t.r.set.TelemetrySettings, t.emit, fileconsumer.WithSplitFunc(splitLines))
	if err != nil {
		return err
	}
	t.manager = manager
	if t.matcher, err = matcher.New(cfg.Criteria); err != nil {
		return err
	}
	if err := t.register(); err != nil {
		return err
	}
	t.done = make(chan struct{})
	t.check(true)
	t.wg.Add(1)
	go t.watch()
	return manager.Start(operator.NewScopedPersister("mesh_access_log", persister))
}

func (t *fileTail) stop() error {
	if t.done != nil {
		close(t.done)
		t.wg.Wait()
	}
	if t.manager == nil {
		return nil
	}
	return t.manager.Stop()
}

// register reports the files matched and each matched file's lines and
// parse errors (the receiver's own telemetry, at each collection).
func (t *fileTail) register() error {
	tb := t.r.telemetry
	self := attribute.String("receiver", t.r.set.ID.String())
	perFile := func(value func(*fileState) int64) metric.Int64Callback {
		return func(_ context.Context, o metric.Int64Observer) error {
			t.mu.Lock()
			defer t.mu.Unlock()
			for path, st := range t.files {
				o.Observe(value(st), metric.WithAttributes(self, attribute.String(attrLogFilePath, path)))
			}
			return nil
		}
	}
	return errors.Join(
		tb.RegisterReceiverMeshAccessLogFilesMatchedCallback(func(_ context.Context, o metric.Int64Observer) error {
			o.Observe(t.matched.Load(), metric.WithAttributes(self))
			return nil
		}),
		tb.RegisterReceiverMeshAccessLogFileLinesCallback(perFile(func(st *fileState) int64 { return st.lines.Load() })),
		tb.RegisterReceiverMeshAccessLogFileParseErrorsCallback(perFile(func(st *fileState) int64 { return st.errors.Load() })),
	)
}

func (t *fileTail) watch() {
	defer t.wg.Done()
	tick := time.NewTicker(t.matchInterval())
	defer tick.Stop()
	for {
		select {
		case <-t.done:
			return
		case <-tick.C:
			t.check(false)
		}
	}
}

// check matches the include patterns: it sets files_matched, warns when
// none matches (at start, and again whenever that begins), with what
// exists instead, and forgets the files that no longer match, so the
// per-file state and telemetry follow the node's pods instead of growing
// with every pod the node ever ran.
func (t *fileTail) check(first bool) {
	paths, _ := t.matcher.MatchFiles() // an error with no files is "no files match"
	before := t.matched.Swap(int64(len(paths)))
	if len(paths) == 0 && (first || before > 0) {
		var hints []string
		for _, pattern := range t.r.cfg.Include {
			hints = append(hints, globhint.Explain(pattern))
		}
		t.r.set.Logger.Warn("no access log file matches include: nothing is read until one does",
			zap.Strings("include", t.r.cfg.Include), zap.Strings("found", hints))
	}
	if len(paths) > 0 && before == 0 && !first {
		t.r.set.Logger.Info("access log files match include again", zap.Int("files", len(paths)))
	}
	current := make(map[string]bool, len(paths))
	for _, p := range paths {
		current[p] = true
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	for path := range t.files {
		if !current[path] {
			delete(t.files, path)
		}
	}
}

func (t *fileTail) state(path string) *fileState {
	t.mu.Lock()
	defer t.mu.Unlock()
	st, ok := t.files[path]
	if ok {
		return st
	}
	wrapper := map[string]kubeletlog.Wrapper{
		UnwrapAuto: kubeletlog.Unknown, UnwrapCRI: kubeletlog.CRI, UnwrapDocker: kubeletlog.Docker, UnwrapNone: kubeletlog.None,
	}[t.r.cfg.Unwrap]
	st = &fileState{joiner: kubeletlog.NewJoiner(wrapper, int(t.r.cfg.MaxLogSize)), resource: pcommon.NewResource(),
		outside: !insideRoots(path, t.r.cfg.Include)}
	if meta, ok := kubeletlog.ParsePath(path); ok {
		res := st.resource.Attributes()
		res.PutStr(semconv.AttrK8sNamespace, meta.Namespace)
		res.PutStr(semconv.AttrK8sPodName, meta.PodName)
		if meta.PodUID != "" {
			res.PutStr(semconv.AttrK8sPodUID, meta.PodUID)
		}
		res.PutStr(semconv.AttrK8sContainerName, meta.Container)
	}
	st.resource.Attributes().PutStr(attrLogFilePath, path)
	t.files[path] = st
	return st
}

// emit receives a batch of lines of one file from fileconsumer and sends
// them on as one plog.Logs. A line that does not parse is counted and
// dropped or passed through; it never stops the batch.
func (t *fileTail) emit(ctx context.Context, tokens [][]byte, attributes map[string]any, _ int64, _ []int64) error {
	path, _ := attributes[attrLogFilePath].(string)
	st := t.state(path)
	st.mu.Lock()
	defer st.mu.Unlock()
	fail := func(reason string, err error) {
		st.errors.Add(1)
		t.r.parseError(ctx, reason, transportFile, err)
	}
	if st.outside {
		// A symlink out of the log directory (to /etc/shadow, say): not
		// a pod's log. fileconsumer has opened it; nothing of it goes on.
		for range tokens {
			fail("outside_root", nil)
		}
		return nil
	}

	logs := plog.NewLogs()
	rl := logs.ResourceLogs().AppendEmpty()
	st.resource.CopyTo(rl.Resource())
	sl := rl.ScopeLogs().AppendEmpty()
	sl.Scope().SetName(scopeName)
	records := sl.LogRecords()
	records.EnsureCapacity(len(tokens))
	observed := pcommon.NewTimestampFromTime(time.Now())
	var fields accesslog.Fields
	// The lines of a batch are one string, each record's values
	// substrings of it: one allocation per batch, not per line. A
	// strings.Builder never changes what it has written (it copies to
	// grow), so every line stays valid.
	var text strings.Builder
	size := 0
	for _, token := range tokens {
		size += len(token)
	}
	text.Grow(size)

	truncatedBefore := st.joiner.Truncated
	for _, token := range tokens {
		content, complete, err := st.joiner.Line(token)
		if err != nil {
			st.lines.Add(1)
			fail("wrapper", err)
			if t.r.cfg.OnError == OnErrorPassthrough {
				t.passthrough(records, string(token), err, observed)
			}
			continue
		}
		if !complete {
			continue
		}
		st.lines.Add(1)
		start := text.Len()
		text.Write(content)
		line := text.String()[start:]
		if err := t.r.parser.Parse(line, &fields); err != nil {
			if accesslog.ProxyLog(line) {
				// The proxy's own log in the same stream: counted, but
				// not against the file (no sign of a wrong format).
				t.r.parseError(ctx, accesslog.ReasonProxyLog, transportFile, err)
			} else {
				fail(errorReason(err), err)
			}
			if t.r.cfg.OnError == OnErrorPassthrough {
				t.passthrough(records, line, err, observed)
			}
			continue
		}
		lr := records.AppendEmpty()
		lr.SetObservedTimestamp(observed)
		if err := t.r.parser.WriteRecord(&fields, lr); err != nil {
			// The record keeps every field but the one that failed.
			fail(errorReason(err), err)
			lr.Attributes().PutStr(semconv.AttrEnvoyParseError, err.Error())
		}
		// A line without a valid start time keeps none (its observed time
		// is set): the time a record states must be the same when it is
		// read or sent again, or a ledger keyed by it bills it twice.
	}
	for range st.joiner.Truncated - truncatedBefore {
		st.lines.Add(1)
		fail("too_long", nil)
	}
	n := records.Len()
	if n == 0 {
		return nil
	}
	ctx = t.obs.StartLogsOp(ctx)
	err := t.r.next.ConsumeLogs(ctx, logs)
	t.obs.EndLogsOp(ctx, "mesh_access_log", n, err)
	return err
}

// insideRoots tells whether a file's real path lies under the real path
// of one include pattern's root (the part before its first wildcard).
// fileconsumer follows symlinks, so a link a pod plants in a watched
// directory could otherwise make the collector read any file of the node.
func insideRoots(path string, include []string) bool {
	real, err := filepath.EvalSymlinks(path)
	if err != nil {
		return false
	}
	for _, pattern := range include {
		root := pattern
		if i := strings.IndexAny(root, "*?[{"); i >= 0 {
			root = filepath.Dir(root[:i+1])
		}
		rootReal, err := filepath.EvalSymlinks(root)
		if err != nil {
			continue
		}
		if rel, err := filepath.Rel(rootReal, real); err == nil && rel != ".." && !strings.HasPrefix(rel, "../") {
			return true
		}
	}
	return false
}

func (t *fileTail) passthrough(records plog.LogRecordSlice, line string, err error, observed pcommon.Timestamp) {
	lr := records.AppendEmpty()
	lr.SetObservedTimestamp(observed)
	lr.SetTimestamp(observed)
	lr.Body().SetStr(strings.ToValidUTF8(line, "\uFFFD"))
	lr.Attributes().PutStr(semconv.AttrEnvoyParseError, err.Error())
}
