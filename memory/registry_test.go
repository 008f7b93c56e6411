package memory_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/aethertensor/aether/memory"
)

// fakeDevice keeps "device" and "host" copies of integer contents, so a
// test can see that eviction and restore preserve them.
type fakeDevice struct {
	host, dev map[memory.ID]int
	keepHost  bool
	log       []string
}

func newFake() *fakeDevice {
	return &fakeDevice{host: map[memory.ID]int{}, dev: map[memory.ID]int{}}
}

func (f *fakeDevice) Upload(id memory.ID, contents bool) (bool, error) {
	if _, ok := f.dev[id]; ok {
		return false, fmt.Errorf("buffer %d uploaded twice", id)
	}
	f.dev[id] = 0
	if contents {
		f.dev[id] = f.host[id]
		f.log = append(f.log, fmt.Sprintf("up %d", id))
	}
	return f.keepHost, nil
}

func (f *fakeDevice) Download(id memory.ID) error {
	v, ok := f.dev[id]
	if !ok {
		return fmt.Errorf("buffer %d not on the device", id)
	}
	f.host[id] = v
	f.log = append(f.log, fmt.Sprintf("down %d", id))
	return nil
}

func (f *fakeDevice) Free(id memory.ID) { delete(f.dev, id) }

func register(t *testing.T, r *memory.Registry, f *fakeDevice, n int, bytes int64) []memory.ID {
	t.Helper()
	var ids []memory.ID
	for i := range n {
		id, err := r.Register(bytes, memory.OnHost)
		if err != nil {
			t.Fatal(err)
		}
		f.host[id] = 100 + i
		ids = append(ids, id)
	}
	return ids
}

// TestRegistryEvictsLRU runs a chain of "kernels" over a working set four
// times the budget: each reads buffer i and writes buffer i+1 := i's
// value + 1. Values must survive eviction, and only dirty buffers are
// written back.
func TestRegistryEvictsLRU(t *testing.T) {
	f := newFake()
	r := memory.NewRegistry(300, f)
	ids := register(t, r, f, 12, 100)
	for i := 0; i+1 < len(ids); i++ {
		in, out := ids[i], ids[i+1]
		if err := r.Acquire([]memory.ID{in}, []memory.ID{out}); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		f.dev[out] = f.dev[in] + 1
		r.Written(out)
		r.Release(in, out)
		if s := r.Stats(); s.DeviceBytes > 300 {
			t.Fatalf("step %d: %d bytes resident over a budget of 300", i, s.DeviceBytes)
		}
	}
	// Read every buffer back through the device.
	for i, id := range ids {
		if err := r.Acquire([]memory.ID{id}, nil); err != nil {
			t.Fatal(err)
		}
		want := 100
		if i > 0 {
			want += i
		}
		if got := f.dev[id]; got != want {
			t.Errorf("buffer %d holds %d, want %d", i, got, want)
		}
		r.Release(id)
	}
	s := r.Stats()
	if s.Evictions == 0 {
		t.Fatal("no eviction under a budget smaller than the working set")
	}
	if s.PeakBytes > 300 {
		t.Errorf("peak %d bytes over the budget", s.PeakBytes)
	}
	t.Logf("%+v", s)
}

func TestRegistryCounts(t *testing.T) {
	cases := []struct {
		name     string
		keepHost bool
		write    bool
		wantUp   int
		wantDown int
	}{
		// A buffer whose host copy is kept and never written on the device
		// is dropped without a write-back.
		{"clean, host kept", true, false, 2, 0},
		// Written on the device: written back once when evicted.
		{"dirty", true, true, 2, 1},
		// No host copy kept: the device copy is the only one.
		{"host not kept", false, false, 2, 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFake()
			f.keepHost = c.keepHost
			r := memory.NewRegistry(100, f)
			ids := register(t, r, f, 2, 100)
			if err := r.Acquire(ids[:1], nil); err != nil {
				t.Fatal(err)
			}
			if c.write {
				f.dev[ids[0]] = 7
				r.Written(ids[0])
			}
			r.Release(ids[0])
			if err := r.Acquire(ids[1:], nil); err != nil { // evicts ids[0]
				t.Fatal(err)
			}
			r.Release(ids[1])
			if res, _, _ := r.Residency(ids[0]); res != memory.OnHost {
				t.Fatalf("evicted buffer is %v, want host", res)
			}
			s := r.Stats()
			if s.Uploads != c.wantUp || s.Downloads != c.wantDown || s.Evictions != 1 {
				t.Fatalf("uploads %d downloads %d evictions %d, want %d %d 1 (log %v)", s.Uploads, s.Downloads, s.Evictions, c.wantUp, c.wantDown, f.log)
			}
			if c.write && f.host[ids[0]] != 7 {
				t.Fatalf("written-back value %d, want 7", f.host[ids[0]])
			}
		})
	}
}

func TestRegistryPinsPreventEviction(t *testing.T) {
	f := newFake()
	r := memory.NewRegistry(200, f)
	ids := register(t, r, f, 3, 100)
	if err := r.Acquire(ids[:2], nil); err != nil { // both pinned, budget full
		t.Fatal(err)
	}
	err := r.Acquire(ids[2:], nil)
	if !errors.Is(err, memory.ErrBudget) {
		t.Fatalf("acquire over pinned buffers: %v, want ErrBudget", err)
	}
	for _, id := range ids[:2] {
		if res, pins, _ := r.Residency(id); res&memory.OnDevice == 0 || pins != 1 {
			t.Fatalf("pinned buffer %d: %v with %d pins", id, res, pins)
		}
	}
	if res, pins, _ := r.Residency(ids[2]); res != memory.OnHost || pins != 0 {
		t.Fatalf("failed acquire left %v with %d pins", res, pins)
	}
	r.Release(ids[0])
	if err := r.Acquire(ids[2:], nil); err != nil {
		t.Fatalf("after release: %v", err)
	}
	if res, _, _ := r.Residency(ids[0]); res != memory.OnHost {
		t.Fatalf("released buffer not evicted: %v", res)
	}
	if res, _, _ := r.Residency(ids[1]); res&memory.OnDevice == 0 {
		t.Fatal("still-pinned buffer was evicted")
	}
}

func TestRegistryPrefetch(t *testing.T) {
	f := newFake()
	f.keepHost = true
	r := memory.NewRegistry(250, f)
	ids := register(t, r, f, 4, 100)
	if err := r.Acquire(ids[:1], nil); err != nil {
		t.Fatal(err)
	}
	r.Release(ids[0])
	// ids[1] fits, ids[2] evicts the idle ids[0], ids[3] would have to
	// evict a buffer just prefetched and is skipped.
	r.Prefetch(ids[1:]...)
	s := r.Stats()
	if s.Uploads != 3 || s.Prefetches != 2 || s.Evictions != 1 {
		t.Fatalf("prefetch: %+v, want 3 uploads, 2 prefetches, 1 eviction", s)
	}
	if res, pins, _ := r.Residency(ids[3]); res != memory.OnHost || pins != 0 {
		t.Fatalf("skipped buffer: %v with %d pins", res, pins)
	}
	if err := r.Acquire(ids[1:3], nil); err != nil {
		t.Fatal(err)
	}
	if got := r.Stats().Uploads; got != 3 {
		t.Fatalf("acquire after prefetch uploaded again: %d uploads", got)
	}
}

func TestRegistryErrors(t *testing.T) {
	r := memory.NewRegistry(100, newFake())
	if _, err := r.Register(200, memory.OnDevice); !errors.Is(err, memory.ErrBudget) {
		t.Errorf("register over budget: %v", err)
	}
	if err := r.Acquire([]memory.ID{42}, nil); !errors.Is(err, memory.ErrUnknownBuffer) {
		t.Errorf("acquire unknown: %v", err)
	}
	if _, _, err := r.Residency(42); !errors.Is(err, memory.ErrUnknownBuffer) {
		t.Errorf("residency unknown: %v", err)
	}
}

func ExampleRegistry() {
	f := newFake()
	r := memory.NewRegistry(200, f) // room for two 100-byte buffers
	a, _ := r.Register(100, memory.OnHost)
	b, _ := r.Register(100, memory.OnHost)
	c, _ := r.Register(100, memory.OnHost)
	for _, id := range []memory.ID{a, b, c} {
		if err := r.Acquire([]memory.ID{id}, nil); err != nil { // pin for a launch
			fmt.Println(err)
			return
		}
		r.Release(id) // the launch finished
	}
	res, _, _ := r.Residency(a)
	s := r.Stats()
	fmt.Println("a is on the", res, "- uploads:", s.Uploads, "evictions:", s.Evictions)
	// Output: a is on the host - uploads: 3 evictions: 1
}
