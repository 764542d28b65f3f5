// Package attrindex finds, for an attribute key, the fields a component
// reads it into, so that a component reads a record's attributes in one
// pass instead of one pcommon.Map.Get (a linear scan) per attribute it
// wants.
//
// Why by hand: a Go map hashes every byte of every key, and most keys of
// an access log record are ones the component does not want. This table
// hashes a key by its length and two of its bytes and compares at most a
// key or two; on the processors' hot paths that halves the cost of the
// pass. It holds at most 128 fields (two uint64 sets) in 256 entries.
package attrindex

import "fmt"

// Table maps attribute keys to sets of fields (bit i = field i).
type Table struct {
	// entries is open-addressed by bucket(key); an empty key ends a probe.
	entries [256]entry
	n       int
}

type entry struct {
	key    string
	fields [2]uint64 // fields 0–63, 64–127
}

// bucket hashes a key by its length, its last byte and its middle byte.
func bucket(k string) uint8 {
	n := len(k)
	if n == 0 {
		return 0
	}
	return uint8(n*37) ^ k[n-1]*11 ^ k[n>>1]
}

// Add maps key to field (0–63), in addition to the fields it already
// maps to. An empty key is ignored.
func (t *Table) Add(key string, field int) {
	if key == "" {
		return
	}
	if field < 0 || field > 127 {
		panic(fmt.Sprintf("attrindex: field %d out of range", field))
	}
	i := bucket(key)
	for t.entries[i].key != "" && t.entries[i].key != key {
		i++
	}
	if t.entries[i].key == "" {
		if t.n >= 128 { // keep probes short: at most half full
			panic("attrindex: more than 128 keys")
		}
		t.n++
	}
	t.entries[i].key = key
	t.entries[i].fields[field>>6] |= 1 << (field & 63)
}

// Fields are the fields 0–63 key maps to (0 for a key not in the table).
func (t *Table) Fields(key string) uint64 {
	for i := bucket(key); ; i++ {
		e := &t.entries[i]
		if e.key == key {
			return e.fields[0]
		}
		if e.key == "" {
			return 0
		}
	}
}

// Fields2 is Fields for tables with fields past 63: the sets of fields
// 0–63 and 64–127.
func (t *Table) Fields2(key string) (lo, hi uint64) {
	for i := bucket(key); ; i++ {
		e := &t.entries[i]
		if e.key == key {
			return e.fields[0], e.fields[1]
		}
		if e.key == "" {
			return 0, 0
		}
	}
}
