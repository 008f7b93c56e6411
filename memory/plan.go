package memory

import (
	"fmt"
	"sort"
)

// Step is one launch of a schedule: the value it defines and those it reads.
type Step struct {
	Out int
	In  []int
	// Reuse lists the operands whose bytes Out may take when their life
	// ends at this step: those the kernel reads at exactly the index it
	// writes, each element before writing it.
	Reuse []int
	// View makes Out a view of In[0]'s bytes (a reshape); no copy happens.
	View bool
}

// Value describes one value for planning.
type Value struct {
	Bytes int
	// Planned values live in the arena; others (constants, parameters)
	// have storage of their own and are ignored.
	Planned bool
	// Pinned values live for the whole schedule: inputs fed before the
	// first step and outputs read after the last.
	Pinned bool
}

// Block is a region of the arena shared by one or more values.
type Block struct {
	Start, End int // first and last step during which it is live
	Bytes      int
	Offset     int
}

// Plan maps every planned value to a block of the arena.
type Plan struct {
	Blocks  []Block
	BlockOf []int // value -> block index, -1 for unplanned values
	Size    int   // arena bytes
	Naive   int   // bytes if every planned value had its own buffer
	Align   int
}

// Offset returns the arena offset of value v, or -1 if v is not planned.
func (p *Plan) Offset(v int) int {
	if b := p.BlockOf[v]; b >= 0 {
		return p.Blocks[b].Offset
	}
	return -1
}

// String summarises the arena size against the naive total.
func (p *Plan) String() string {
	return fmt.Sprintf("arena %d bytes in %d blocks (naive %d, %.1f%%)", p.Size, len(p.Blocks), p.Naive, 100*float64(p.Size)/float64(max(p.Naive, 1)))
}

func roundUp(n, a int) int { return (n + a - 1) / a * a }

// PlanArena computes lifetimes over the schedule, merges in-place and view
// values into their operands' blocks (see Step), and places the blocks with
// first-fit-decreasing: largest first, each at the lowest aligned offset
// that overlaps no block live at the same time.
func PlanArena(values []Value, steps []Step, align int) *Plan {
	if align <= 0 {
		align = 64
	}
	n := len(values)
	last := make([]int, n) // last step reading each value
	for i := range last {
		last[i] = -1
	}
	for s, st := range steps {
		for _, in := range st.In {
			last[in] = s
		}
	}
	p := &Plan{BlockOf: make([]int, n), Align: align}
	for i := range p.BlockOf {
		p.BlockOf[i] = -1
	}
	end := len(steps)
	// Per block: the last step reading any of its values, and whether any
	// of them is pinned. A step may write over a block only when every
	// value in it is dead afterwards.
	var lastRead []int
	var pinned []bool
	join := func(v, b int) {
		p.BlockOf[v] = b
		lastRead[b] = max(lastRead[b], last[v])
		pinned[b] = pinned[b] || values[v].Pinned
	}
	newBlock := func(v, start int) {
		p.Blocks = append(p.Blocks, Block{Start: start, End: start, Bytes: values[v].Bytes})
		lastRead = append(lastRead, -1)
		pinned = append(pinned, false)
		join(v, len(p.Blocks)-1)
	}
	extend := func(b, s int) {
		if s > p.Blocks[b].End {
			p.Blocks[b].End = s
		}
	}
	// Values planned but never defined by a step (fed inputs) start at 0.
	defined := make([]bool, n)
	for _, st := range steps {
		defined[st.Out] = true
	}
	for v, val := range values {
		if val.Planned && !defined[v] {
			newBlock(v, 0)
		}
	}
	for s, st := range steps {
		v := st.Out
		if !values[v].Planned {
			continue
		}
		reused := false
		if st.View && len(st.In) > 0 && p.BlockOf[st.In[0]] >= 0 {
			join(v, p.BlockOf[st.In[0]])
			reused = true
		} else {
			for _, in := range st.Reuse {
				b := p.BlockOf[in]
				if b >= 0 && !pinned[b] && lastRead[b] == s && p.Blocks[b].Bytes == values[v].Bytes {
					join(v, b)
					reused = true
					break
				}
			}
		}
		if !reused {
			newBlock(v, s)
		}
		extend(p.BlockOf[v], s)
	}
	for v := range values {
		b := p.BlockOf[v]
		if b < 0 {
			continue
		}
		p.Naive += roundUp(values[v].Bytes, align)
		if values[v].Pinned {
			extend(b, end)
		}
		if last[v] >= 0 {
			extend(b, last[v])
		}
	}
	p.place()
	return p
}

// place assigns offsets, largest blocks first.
func (p *Plan) place() {
	order := make([]int, len(p.Blocks))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(i, j int) bool { return p.Blocks[order[i]].Bytes > p.Blocks[order[j]].Bytes })
	var placed []int
	for _, b := range order {
		blk := &p.Blocks[b]
		size := roundUp(max(blk.Bytes, 1), p.Align)
		// Candidate offsets: 0 and the end of every block live at the same
		// time; take the lowest that fits.
		var busy []int
		for _, o := range placed {
			q := p.Blocks[o]
			if q.Start <= blk.End && blk.Start <= q.End {
				busy = append(busy, o)
			}
		}
		sort.Slice(busy, func(i, j int) bool { return p.Blocks[busy[i]].Offset < p.Blocks[busy[j]].Offset })
		off := 0
		for _, o := range busy {
			q := p.Blocks[o]
			if off+size <= q.Offset {
				break
			}
			off = max(off, roundUp(q.Offset+q.Bytes, p.Align))
		}
		blk.Offset = off
		p.Size = max(p.Size, off+size)
		placed = append(placed, b)
	}
}
