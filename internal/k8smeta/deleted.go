package k8smeta

import (
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/tools/cache"
)

// DefaultDeleteGracePeriod is how long a deleted pod still resolves unless
// Options say otherwise: contrib's k8sattributes processor keeps deleted
// pods for 2 minutes for the same reason (its pod_association cleanup).
const DefaultDeleteGracePeriod = 2 * time.Minute

// deleted keeps the pods deleted within the grace period, resolved as they
// were: the log tail lags the API by a poll interval (more under load), so
// the last lines of a pod are read after the informer has dropped it, and a
// request from a pod's IP that crossed its deletion still came from it.
//
// Entries expire in deletion order (the grace period is one duration for
// all), so expiry pops a queue: the maps hold at most the pods deleted
// within one grace period, whatever the number of pods the node has seen.
type deleted struct {
	grace time.Duration
	now   func() time.Time

	mu     sync.RWMutex
	byUID  map[string]*tomb
	byName map[string]*tomb   // namespace/name → the last pod of that name
	byIP   map[string][]*tomb // in deletion order
	queue  []*tomb
}

// tomb is a deleted pod.
type tomb struct {
	pod       Pod
	ips       []string
	deletedAt time.Time
}

func newDeleted(grace time.Duration, now func() time.Time) *deleted {
	return &deleted{grace: grace, now: now, byUID: map[string]*tomb{}, byName: map[string]*tomb{}, byIP: map[string][]*tomb{}}
}

// add keeps a deleted pod, resolved. A pod that had finished (a Job's)
// keeps no IP: the network may have given it to another pod already, as
// the live IP index says (New).
func (d *deleted) add(p *corev1.Pod, resolved Pod) {
	if d.grace <= 0 {
		return
	}
	t := &tomb{pod: resolved, deletedAt: d.now()}
	t.pod.Deleted = t.deletedAt
	if ips, _ := podIPs(p); len(ips) > 0 {
		t.ips = ips
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.expireLocked(t.deletedAt)
	if old := d.byUID[resolved.UID]; old != nil { // deleted twice (a relist)
		d.removeLocked(old)
	}
	d.byUID[resolved.UID] = t
	d.byName[resolved.Namespace+"/"+resolved.Name] = t
	for _, ip := range t.ips {
		d.byIP[ip] = append(d.byIP[ip], t)
	}
	d.queue = append(d.queue, t)
}

// expire drops the pods whose grace period is over.
func (d *deleted) expire() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.expireLocked(d.now())
}

func (d *deleted) expireLocked(now time.Time) {
	n := 0
	for n < len(d.queue) && !d.live(d.queue[n], now) {
		d.removeLocked(d.queue[n])
		n++
	}
	if n > 0 {
		d.queue = append(d.queue[:0], d.queue[n:]...)
	}
}

// removeLocked forgets a tomb everywhere but in the queue, where expiry
// finds it again and does nothing.
func (d *deleted) removeLocked(t *tomb) {
	if d.byUID[t.pod.UID] == t {
		delete(d.byUID, t.pod.UID)
	}
	key := t.pod.Namespace + "/" + t.pod.Name
	if d.byName[key] == t {
		delete(d.byName, key)
	}
	for _, ip := range t.ips {
		kept := d.byIP[ip][:0]
		for _, o := range d.byIP[ip] {
			if o != t {
				kept = append(kept, o)
			}
		}
		if len(kept) == 0 {
			delete(d.byIP, ip)
		} else {
			d.byIP[ip] = kept
		}
	}
}

func (d *deleted) live(t *tomb, now time.Time) bool {
	return now.Sub(t.deletedAt) <= d.grace
}

func (d *deleted) uid(uid string) (Pod, bool) { return d.get(func() *tomb { return d.byUID[uid] }) }

func (d *deleted) name(namespace, name string) (Pod, bool) {
	return d.get(func() *tomb { return d.byName[namespace+"/"+name] })
}

func (d *deleted) get(find func() *tomb) (Pod, bool) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	if t := find(); t != nil && d.live(t, d.now()) {
		return t.pod, true
	}
	return Pod{}, false
}

// ip finds the pod deleted within the grace period that had ip at time at:
// the last one deleted at or after at that had started by then; a zero at
// takes the last one deleted.
func (d *deleted) ip(ip string, at time.Time) (Pod, bool) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	now := d.now()
	ts := d.byIP[ip]
	for i := len(ts) - 1; i >= 0; i-- {
		t := ts[i]
		if !d.live(t, now) {
			break // older ones have expired too
		}
		if at.IsZero() || (!at.After(t.deletedAt) && !t.pod.Start.After(at)) {
			return t.pod, true
		}
	}
	return Pod{}, false
}

// size is the number of pods kept (the soak test watches it).
func (d *deleted) size() int {
	d.mu.RLock()
	defer d.mu.RUnlock()
	return len(d.byUID)
}

// deletedPod is the pod of an informer's delete event, also when the watch
// missed the deletion and the informer learned it from a relist.
func deletedPod(obj any) (*corev1.Pod, bool) {
	if tomb, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = tomb.Obj
	}
	p, ok := obj.(*corev1.Pod)
	return p, ok
}
