package memory

import (
	"math/rand/v2"
	"testing"
)

// live reports the steps [from, to] during which value v must keep its
// bytes, independently of the planner.
func live(values []Value, steps []Step, v int) (from, to int) {
	from, to = 0, -1
	for s, st := range steps {
		if st.Out == v {
			from, to = s, s
		}
	}
	for s, st := range steps {
		for _, in := range st.In {
			if in == v && s > to {
				to = s
			}
		}
	}
	if values[v].Pinned {
		to = len(steps) // read after the last step
	}
	return from, to
}

// checkNoClobber fails if two values whose lives overlap share bytes,
// unless one is a view of the other or overwrote it in place at the step
// where it died.
func checkNoClobber(t *testing.T, values []Value, steps []Step, p *Plan) {
	t.Helper()
	for a := range values {
		for b := a + 1; b < len(values); b++ {
			if !values[a].Planned || !values[b].Planned {
				continue
			}
			oa, ob := p.Offset(a), p.Offset(b)
			if oa+values[a].Bytes <= ob || ob+values[b].Bytes <= oa {
				continue
			}
			if p.BlockOf[a] == p.BlockOf[b] {
				continue // merged deliberately: checked by the block invariant below
			}
			fa, ta := live(values, steps, a)
			fb, tb := live(values, steps, b)
			if fa <= tb && fb <= ta {
				t.Fatalf("values %d [%d,%d] and %d [%d,%d] overlap in bytes at %d/%d", a, fa, ta, b, fb, tb, oa, ob)
			}
		}
	}
	// Within a block, a value may be defined only after every earlier
	// member has been read for the last time, unless it is a view.
	for s, st := range steps {
		if !values[st.Out].Planned || st.View {
			continue
		}
		for u := range values {
			if u == st.Out || p.BlockOf[u] != p.BlockOf[st.Out] || p.BlockOf[u] < 0 {
				continue
			}
			fu, tu := live(values, steps, u)
			if fu < s && tu > s {
				t.Fatalf("step %d writes value %d over value %d, live until %d", s, st.Out, u, tu)
			}
		}
	}
	for i, b := range p.Blocks {
		if b.Offset%p.Align != 0 || b.Offset+b.Bytes > p.Size {
			t.Fatalf("block %d at %d+%d misaligned or outside the %d-byte arena", i, b.Offset, b.Bytes, p.Size)
		}
	}
}

func TestChainReusesMemory(t *testing.T) {
	// x -> a -> b -> c -> d, each 1000 bytes; only x and d are pinned.
	values := make([]Value, 5)
	for i := range values {
		values[i] = Value{Bytes: 1000, Planned: true}
	}
	values[0].Pinned, values[4].Pinned = true, true
	var steps []Step
	for i := 1; i < 5; i++ {
		steps = append(steps, Step{Out: i, In: []int{i - 1}})
	}
	p := PlanArena(values, steps, 64)
	checkNoClobber(t, values, steps, p)
	if p.Naive != 5*1024 || p.Size >= p.Naive {
		t.Fatalf("%v: want reuse below the naive 5120 bytes", p)
	}
	if p.Size != 3*1024 {
		t.Errorf("arena %d bytes, want 3072 (x, then a/c and b/d alternating)", p.Size)
	}

	for i := range steps {
		steps[i].Reuse = steps[i].In
	}
	p = PlanArena(values, steps, 64)
	checkNoClobber(t, values, steps, p)
	if p.Size != 2*1024 {
		t.Errorf("in place: arena %d bytes, want 2048 (x pinned, a..d in one block)", p.Size)
	}
}

func TestViewSharesBytes(t *testing.T) {
	values := []Value{{Bytes: 256, Planned: true, Pinned: true}, {Bytes: 256, Planned: true}, {Bytes: 256, Planned: true}, {Bytes: 256, Planned: true, Pinned: true}}
	steps := []Step{{Out: 1, In: []int{0}}, {Out: 2, In: []int{1}, View: true}, {Out: 3, In: []int{2, 1}, Reuse: []int{2, 1}}}
	p := PlanArena(values, steps, 64)
	checkNoClobber(t, values, steps, p)
	if p.Offset(1) != p.Offset(2) {
		t.Fatal("reshape view got bytes of its own")
	}
	if p.BlockOf[3] != p.BlockOf[1] {
		t.Fatal("the last step did not write in place over its dying operands")
	}
}

func TestInPlaceWaitsForOtherViews(t *testing.T) {
	// v1 = f(x); v2 = view(v1); v3 = g(v2) in place — but v1 is read
	// again at step 3, so v3 must not overwrite it.
	values := []Value{{Bytes: 128, Planned: true, Pinned: true}, {Bytes: 128, Planned: true}, {Bytes: 128, Planned: true}, {Bytes: 128, Planned: true}, {Bytes: 128, Planned: true, Pinned: true}}
	steps := []Step{{Out: 1, In: []int{0}}, {Out: 2, In: []int{1}, View: true}, {Out: 3, In: []int{2}, Reuse: []int{2}}, {Out: 4, In: []int{3, 1}}}
	p := PlanArena(values, steps, 64)
	checkNoClobber(t, values, steps, p)
	if p.BlockOf[3] == p.BlockOf[1] {
		t.Fatal("in-place write clobbered a value still read later")
	}
}

func TestRandomSchedules(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 9))
	for trial := 0; trial < 500; trial++ {
		n := 2 + rng.IntN(30)
		values := make([]Value, n)
		var steps []Step
		inputs := 1 + rng.IntN(3)
		for v := 0; v < n; v++ {
			values[v] = Value{Bytes: 1 + rng.IntN(5000), Planned: rng.IntN(8) != 0}
			if v < inputs {
				values[v].Pinned = rng.IntN(2) == 0
				continue
			}
			st := Step{Out: v}
			for k := 0; k < 1+rng.IntN(3); k++ {
				st.In = append(st.In, rng.IntN(v))
			}
			if rng.IntN(2) == 0 {
				st.Reuse = st.In
			}
			if rng.IntN(6) == 0 {
				st.View, st.In = true, st.In[:1]
				values[v].Bytes = values[st.In[0]].Bytes
			}
			if st.Reuse != nil && rng.IntN(2) == 0 {
				values[v].Bytes = values[st.In[0]].Bytes
			}
			values[v].Pinned = v == n-1 || rng.IntN(10) == 0
			steps = append(steps, st)
		}
		p := PlanArena(values, steps, 64)
		checkNoClobber(t, values, steps, p)
		if p.Size > p.Naive {
			t.Fatalf("trial %d: arena %d larger than naive %d", trial, p.Size, p.Naive)
		}
	}
}
