// Package kubeletlog undoes the kubelet's wrapping of container output —
// the CRI format of containerd and CRI-O ("<time> <stream> <P|F> <line>",
// with long lines split into P parts) and docker's json-file format — and
// reads pod metadata from the kubelet's log paths.
//
// Why by hand: contrib's stanza "container" operator does the same, but
// only as part of a stanza pipeline of entries and maps; here it runs
// inline on the bytes of each line before the access log parser, with no
// allocation for the common complete CRI line.
package kubeletlog

import (
	"bytes"
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
)

// Wrapper is how the kubelet wrapped a file's lines.
type Wrapper uint8

const (
	// Unknown: not detected yet.
	Unknown Wrapper = iota
	None
	CRI
	Docker
)

func (w Wrapper) String() string {
	switch w {
	case None:
		return "none"
	case CRI:
		return "cri"
	case Docker:
		return "docker"
	}
	return "unknown"
}

// Detect tells the wrapping from one line.
func Detect(line []byte) Wrapper {
	if len(line) > 0 && line[0] == '{' && bytes.Contains(line, []byte(`"log":`)) {
		return Docker
	}
	if _, _, _, err := splitCRI(line); err == nil {
		return CRI
	}
	return None
}

// ErrMalformed is a line that does not have the file's wrapping.
var ErrMalformed = errors.New("line does not have the kubelet's wrapping")

// splitCRI splits "<time> <stream> <tag> <content>".
func splitCRI(line []byte) (ts, tag, content []byte, err error) {
	i := bytes.IndexByte(line, ' ')
	if i < 20 || line[4] != '-' || line[10] != 'T' {
		return nil, nil, nil, ErrMalformed
	}
	ts = line[:i]
	rest := line[i+1:]
	j := bytes.IndexByte(rest, ' ')
	if j < 0 {
		return nil, nil, nil, ErrMalformed
	}
	if stream := rest[:j]; !bytes.Equal(stream, []byte("stdout")) && !bytes.Equal(stream, []byte("stderr")) {
		return nil, nil, nil, ErrMalformed
	}
	rest = rest[j+1:]
	if len(rest) < 1 || (rest[0] != 'F' && rest[0] != 'P') || (len(rest) > 1 && rest[1] != ' ') {
		return nil, nil, nil, ErrMalformed
	}
	tag = rest[:1]
	if len(rest) > 1 {
		content = rest[2:]
	}
	return ts, tag, content, nil
}

// Joiner reassembles the lines of one file. It keeps the parts of a line
// that the runtime split (CRI "P" parts, docker lines without a trailing
// newline) until the last part arrives, never holding more than maxSize
// bytes. Not safe for concurrent use: one Joiner per file.
type Joiner struct {
	wrapper Wrapper
	maxSize int
	partial []byte
	cut     bool // the line being joined was cut at maxSize
	// Truncated counts lines that exceeded maxSize and were cut.
	Truncated int
}

// NewJoiner returns a Joiner for a file with the given wrapping (Unknown
// detects it from the first line).
func NewJoiner(w Wrapper, maxSize int) *Joiner {
	return &Joiner{wrapper: w, maxSize: maxSize}
}

// Wrapper returns the file's wrapping (Unknown until the first line).
func (j *Joiner) Wrapper() Wrapper { return j.wrapper }

// Line unwraps one physical line. It returns the complete logical line and
// true, or false while a split line is incomplete. The returned slice is
// valid until the next call.
func (j *Joiner) Line(line []byte) ([]byte, bool, error) {
	if j.wrapper == Unknown {
		j.wrapper = Detect(line)
	}
	switch j.wrapper {
	case CRI:
		_, tag, content, err := splitCRI(line)
		if err != nil {
			return nil, false, err
		}
		return j.join(content, tag[0] == 'F')
	case Docker:
		var entry struct {
			Log string `json:"log"`
		}
		if err := json.Unmarshal(line, &entry); err != nil {
			return nil, false, ErrMalformed
		}
		complete := strings.HasSuffix(entry.Log, "\n")
		return j.join([]byte(strings.TrimSuffix(entry.Log, "\n")), complete)
	default:
		return line, true, nil
	}
}

func (j *Joiner) join(content []byte, complete bool) ([]byte, bool, error) {
	if len(j.partial) == 0 && complete {
		return content, true, nil
	}
	if room := j.maxSize - len(j.partial); len(content) > room {
		if !j.cut {
			j.Truncated++
			j.cut = true
		}
		content = content[:max(room, 0)]
	}
	j.partial = append(j.partial, content...)
	if !complete {
		return nil, false, nil
	}
	out := j.partial
	j.partial, j.cut = j.partial[:0], false
	return out, true, nil
}

// PodMeta is what a kubelet log path says about the container that wrote
// it.
type PodMeta struct {
	Namespace, PodName, PodUID, Container string
}

// ParsePath reads pod metadata from a kubelet log path:
// /var/log/pods/<namespace>_<pod>_<uid>/<container>/<n>.log, or the
// /var/log/containers/<pod>_<namespace>_<container>-<id>.log symlinks.
// Namespaces and pod names cannot hold "_", so the split is unambiguous.
func ParsePath(path string) (PodMeta, bool) {
	dir, file := filepath.Split(path)
	dir = strings.TrimSuffix(dir, "/")
	container := filepath.Base(dir)
	podDir := filepath.Base(filepath.Dir(dir))
	if parts := strings.Split(podDir, "_"); len(parts) == 3 && parts[0] != "" && parts[1] != "" && parts[2] != "" &&
		strings.HasSuffix(file, ".log") && container != "" {
		return PodMeta{Namespace: parts[0], PodName: parts[1], PodUID: parts[2], Container: container}, true
	}
	if name := strings.TrimSuffix(file, ".log"); name != file {
		if parts := strings.Split(name, "_"); len(parts) == 3 {
			c := parts[2]
			if i := strings.LastIndexByte(c, '-'); i > 0 && len(c)-i-1 == 64 {
				c = c[:i]
			}
			if parts[0] != "" && parts[1] != "" && c != "" {
				return PodMeta{Namespace: parts[1], PodName: parts[0], Container: c}, true
			}
		}
	}
	return PodMeta{}, false
}
