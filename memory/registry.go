package memory

import (
	"errors"
	"fmt"
	"sync"
)

// ErrBudget is returned when the buffers a launch needs at once do not fit
// the device-memory budget even after evicting every unpinned buffer.
var ErrBudget = errors.New("memory: device budget exceeded")

// ErrUnknownBuffer is returned for an ID the registry does not hold.
var ErrUnknownBuffer = errors.New("memory: unknown buffer")

// Residency says where the current contents of a buffer are.
type Residency uint8

// Residencies. Both means the host and device copies agree.
const (
	OnHost Residency = 1 << iota
	OnDevice
	Both = OnHost | OnDevice
)

// String names the residency: "host", "device" or "both".
func (r Residency) String() string {
	switch r {
	case OnHost:
		return "host"
	case OnDevice:
		return "device"
	case Both:
		return "both"
	}
	return fmt.Sprintf("Residency(%d)", uint8(r))
}

// ID names a registered buffer.
type ID int

// Mover moves bytes for a Registry: the device that owns the buffers.
type Mover interface {
	// Upload gives the buffer device memory, holding its host contents
	// when contents is set (else the memory is about to be overwritten).
	// It reports whether the host copy is kept; when it is not, the device
	// copy is the only one and an eviction must write it back.
	Upload(id ID, contents bool) (hostKept bool, err error)
	// Download copies the device contents to the host copy.
	Download(id ID) error
	// Free releases the buffer's device memory (its host copy stays).
	Free(id ID)
}

// Stats counts the registry's traffic.
type Stats struct {
	Uploads, Downloads, Evictions int
	Prefetches                    int   // uploads made by Prefetch (counted in Uploads too)
	DeviceBytes                   int64 // bytes resident on the device now
	PeakBytes                     int64 // most bytes ever resident at once
}

type entry struct {
	bytes    int64
	res      Residency
	pins     int
	lastUse  uint64
	dirty    bool // the device copy is newer than the host copy
	prev     *entry
	next     *entry
	id       ID
	resident bool // on the LRU list (holds device memory)
}

// Registry tracks every device buffer: its size, where its contents are,
// when it was last used and how many in-flight launches pin it. Under a
// byte budget it evicts the least recently used unpinned buffers, writing
// them back to the host only when the device copy is newer.
//
// A Registry is safe for concurrent use.
type Registry struct {
	mu      sync.Mutex
	budget  int64 // 0: unlimited
	mover   Mover
	entries map[ID]*entry
	next    ID
	clock   uint64
	lru     entry // sentinel of the resident list; lru.next is the oldest
	stats   Stats
}

// NewRegistry returns a registry with a device-memory budget in bytes (0
// for none) that moves bytes through m.
func NewRegistry(budget int64, m Mover) *Registry {
	r := &Registry{budget: budget, mover: m, entries: map[ID]*entry{}}
	r.lru.next, r.lru.prev = &r.lru, &r.lru
	return r
}

// Budget returns the device-memory budget in bytes (0 means unlimited).
func (r *Registry) Budget() int64 { return r.budget }

// Register adds a buffer of the given size whose contents are at res. A
// buffer registered as resident on the device counts against the budget
// at once, evicting others if needed.
func (r *Registry) Register(bytes int64, res Residency) (ID, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.next++
	e := &entry{bytes: bytes, res: res, id: r.next}
	r.entries[e.id] = e
	if res&OnDevice != 0 {
		if err := r.makeRoom(bytes); err != nil {
			delete(r.entries, e.id)
			return 0, err
		}
		e.dirty = res == OnDevice
		r.addResident(e)
	}
	return e.id, nil
}

// Unregister forgets a buffer; its device memory is no longer counted.
func (r *Registry) Unregister(id ID) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if e, ok := r.entries[id]; ok {
		if e.resident {
			r.removeResident(e)
		}
		delete(r.entries, id)
	}
}

// Acquire makes every buffer resident on the device, uploading those whose
// contents are only on the host and evicting others under the budget, and
// pins them until Release. A buffer that is about to be overwritten
// entirely should be listed in discard: it gets device memory without an
// upload.
func (r *Registry) Acquire(ids []ID, discard []ID) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.clock++
	for _, list := range [][]ID{ids, discard} {
		for _, id := range list {
			if e, ok := r.entries[id]; ok {
				e.pins++ // pin first so no buffer of this launch is a victim
			} else {
				r.unpin(ids, discard)
				return fmt.Errorf("%w: %d", ErrUnknownBuffer, id)
			}
		}
	}
	for k, list := range [][]ID{ids, discard} {
		for _, id := range list {
			e := r.entries[id]
			e.lastUse = r.clock
			if e.resident {
				r.touch(e)
				continue
			}
			if err := r.makeRoom(e.bytes); err != nil {
				r.unpin(ids, discard)
				return err
			}
			upload := k == 0 && e.res&OnHost != 0
			kept, err := r.mover.Upload(id, upload)
			if err != nil {
				r.unpin(ids, discard)
				return err
			}
			if upload {
				r.stats.Uploads++
			}
			r.setUploaded(e, kept && upload)
			r.addResident(e)
		}
	}
	return nil
}

func (r *Registry) unpin(lists ...[]ID) {
	for _, list := range lists {
		for _, id := range list {
			if e, ok := r.entries[id]; ok && e.pins > 0 {
				e.pins--
			}
		}
	}
}

// Release unpins buffers pinned by Acquire.
func (r *Registry) Release(ids ...ID) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.unpin(ids)
}

// Written records that a launch wrote the device copy: the host copy is
// stale until the buffer is downloaded.
func (r *Registry) Written(id ID) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if e, ok := r.entries[id]; ok && e.resident {
		e.dirty, e.res = true, OnDevice
	}
}

// HostWritten records that the host copy changed: the device copy, if
// any, is stale and is dropped.
func (r *Registry) HostWritten(id ID) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if e, ok := r.entries[id]; ok {
		if e.resident && e.pins == 0 {
			r.mover.Free(id)
			r.removeResident(e)
		} else if e.resident {
			// Pinned: the owner uploads the new contents itself.
			e.res, e.dirty = Both, false
			return
		}
		e.res, e.dirty = OnHost, false
	}
}

// Downloaded records that the owner copied the device contents to the host
// (a readback), so an eviction need not write them back.
func (r *Registry) Downloaded(id ID) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if e, ok := r.entries[id]; ok && e.resident {
		e.res, e.dirty = Both, false
		r.stats.Downloads++
	}
}

// Prefetch uploads host-only buffers that the next launch will read, so
// the upload overlaps the work in flight. It may evict unpinned buffers,
// as the launch's own Acquire would a moment later, but never one it has
// just prefetched. It never fails: a buffer that does not fit is uploaded
// by Acquire instead.
func (r *Registry) Prefetch(ids ...ID) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var held []ID
	for _, id := range ids {
		e, ok := r.entries[id]
		if !ok || e.resident || e.res&OnHost == 0 {
			continue
		}
		if r.makeRoom(e.bytes) != nil {
			continue
		}
		kept, err := r.mover.Upload(id, true)
		if err != nil {
			continue
		}
		r.stats.Uploads++
		r.stats.Prefetches++
		r.setUploaded(e, kept)
		r.addResident(e)
		e.pins++ // held until the end of this call so later ones cannot evict it
		held = append(held, id)
	}
	r.unpin(held)
}

// Residency returns where a buffer's contents are and its pin count.
func (r *Registry) Residency(id ID) (Residency, int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	e, ok := r.entries[id]
	if !ok {
		return 0, 0, fmt.Errorf("%w: %d", ErrUnknownBuffer, id)
	}
	return e.res, e.pins, nil
}

// Stats returns the traffic counters.
func (r *Registry) Stats() Stats {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.stats
}

// makeRoom evicts least recently used unpinned buffers until bytes more
// fit the budget.
func (r *Registry) makeRoom(bytes int64) error {
	if r.budget <= 0 {
		return nil
	}
	if bytes > r.budget {
		return fmt.Errorf("%w: a buffer of %d bytes exceeds the budget of %d", ErrBudget, bytes, r.budget)
	}
	for e := r.lru.next; r.stats.DeviceBytes+bytes > r.budget && e != &r.lru; {
		next := e.next
		if e.pins == 0 {
			if err := r.evict(e); err != nil {
				return err
			}
		}
		e = next
	}
	if r.stats.DeviceBytes+bytes > r.budget {
		return fmt.Errorf("%w: %d bytes pinned, %d more needed, budget %d", ErrBudget, r.stats.DeviceBytes, bytes, r.budget)
	}
	return nil
}

// setUploaded records a buffer's state after an upload: both copies agree
// when the host copy was kept, else the device holds the only copy.
func (r *Registry) setUploaded(e *entry, hostKept bool) {
	if hostKept {
		e.res, e.dirty = Both, false
	} else {
		e.res, e.dirty = OnDevice, true
	}
}

func (r *Registry) evict(e *entry) error {
	if e.dirty {
		if err := r.mover.Download(e.id); err != nil {
			return fmt.Errorf("memory: write back before eviction: %w", err)
		}
		r.stats.Downloads++
	}
	r.mover.Free(e.id)
	r.stats.Evictions++
	r.removeResident(e)
	e.res, e.dirty = OnHost, false
	return nil
}

func (r *Registry) addResident(e *entry) {
	e.resident = true
	e.prev, e.next = r.lru.prev, &r.lru
	r.lru.prev.next = e
	r.lru.prev = e
	r.stats.DeviceBytes += e.bytes
	r.stats.PeakBytes = max(r.stats.PeakBytes, r.stats.DeviceBytes)
}

func (r *Registry) removeResident(e *entry) {
	e.prev.next, e.next.prev = e.next, e.prev
	e.prev, e.next, e.resident = nil, nil, false
	r.stats.DeviceBytes -= e.bytes
}

// touch moves a resident entry to the most recently used end.
func (r *Registry) touch(e *entry) {
	r.removeResident(e)
	r.addResident(e)
}
