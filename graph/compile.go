package graph

import (
	"context"
	"fmt"
	"sort"
	"sync"

	"github.com/aethertensor/aether/backend"
	"github.com/aethertensor/aether/backend/cpu"
	"github.com/aethertensor/aether/op"
	"github.com/aethertensor/aether/tensor"
)

// Option configures Compile.
type Option func(*config)

type config struct {
	dev backend.Device
}

// OnDevice compiles for device d. The default is the CPU.
func OnDevice(d backend.Device) Option { return func(c *config) { c.dev = d } }

// Feeds maps placeholder names to the arrays fed to them for one run.
type Feeds map[string]*tensor.Array

// Program is a compiled, fixed schedule of kernel launches over buffers
// planned once. Run it as often as needed; it is safe for concurrent use
// (runs are serialised).
type Program struct {
	mu      sync.Mutex
	dev     backend.Device
	bufs    []backend.Buffer // by schedule slot
	steps   []step
	places  []feedSlot
	assigns []assignSlot
	outs    []int // slots of the outputs
	results []*tensor.Array
	ins     []backend.Buffer // scratch for one launch's inputs
	known   map[string]bool  // every placeholder of the graph at compile time
}

type step struct {
	launch backend.Launch
	in     []int
	out    int
	name   string
}

type feedSlot struct {
	name  string
	slot  int
	dtype tensor.DType
	store tensor.DType
	shape tensor.Shape
	conv  *tensor.Array // widened copy of an F16/BF16 feed, reused
}

type assignSlot struct{ dst, src int }

// Compile turns the computation of outputs into a Program: it keeps only
// the operations the outputs need, prepares one kernel per operation on the
// device and allocates every buffer once. The first error recorded while
// building the graph is returned here.
func Compile(outputs []Tensor, opts ...Option) (*Program, error) {
	cfg := config{}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.dev == nil {
		cfg.dev = cpu.New()
	}
	if len(outputs) == 0 {
		return nil, errorf(ErrArg, "Compile: no outputs")
	}
	g := outputs[0].g
	for i, t := range outputs {
		if t.g == nil {
			return nil, errorf(ErrTensor, "Compile: output %d is the zero Tensor", i)
		}
		if t.g != g {
			return nil, errorf(ErrTensor, "Compile: outputs come from different graphs")
		}
	}
	if g.err != nil {
		return nil, g.err
	}
	order := g.reachable(outputs)
	slot := make(map[int]int, len(order))
	p := &Program{dev: cfg.dev, known: make(map[string]bool, len(g.names))}
	for name := range g.names {
		p.known[name] = true
	}
	maxIn := 0
	for _, id := range order {
		n := g.nodes[id]
		s := len(p.bufs)
		slot[id] = s
		buf, err := p.buffer(n)
		if err != nil {
			return nil, fmt.Errorf("graph: compile %v#%d: %w", n.op, id, err)
		}
		p.bufs = append(p.bufs, buf)
		switch n.op {
		case op.Const, op.Param, op.Variable:
			continue
		case op.Placeholder:
			p.places = append(p.places, feedSlot{name: n.attrs.Name, slot: s, dtype: n.dtype, store: n.store, shape: n.shape})
			continue
		case op.Assign:
			// The value is copied into the variable after every launch.
			p.bufs[s] = nil
			slot[id] = slot[n.in[1]]
			p.assigns = append(p.assigns, assignSlot{dst: slot[n.in[0]], src: slot[n.in[1]]})
			continue
		}
		k := backend.Kernel{Op: n.op, Attrs: n.attrs, Out: backend.Operand{DType: n.dtype, Shape: n.shape}}
		ins := make([]int, len(n.in))
		for i, in := range n.in {
			m := g.nodes[in]
			k.In = append(k.In, backend.Operand{DType: m.dtype, Shape: m.shape})
			ins[i] = slot[in]
		}
		l, err := cfg.dev.Prepare(k)
		if err != nil {
			return nil, fmt.Errorf("graph: compile %v#%d on %s: %w", n.op, id, cfg.dev.Name(), err)
		}
		maxIn = max(maxIn, len(ins))
		p.steps = append(p.steps, step{launch: l, in: ins, out: s, name: n.op.String()})
	}
	p.ins = make([]backend.Buffer, maxIn)
	sort.Slice(p.places, func(i, j int) bool { return p.places[i].name < p.places[j].name })
	for _, t := range outputs {
		n := t.node()
		p.outs = append(p.outs, slot[t.id])
		r, err := tensor.Zeros(n.dtype, n.shape)
		if err != nil {
			return nil, err
		}
		p.results = append(p.results, r)
	}
	return p, nil
}

// buffer allocates, or binds to existing host memory, the buffer for n.
func (p *Program) buffer(n *node) (backend.Buffer, error) {
	switch n.op {
	case op.Const:
		return p.dev.Bind(n.attrs.Value)
	case op.Param, op.Variable:
		return p.dev.Bind(n.v.value)
	case op.Assign:
		return nil, nil
	}
	return p.dev.Alloc(backend.Operand{DType: n.dtype, Shape: n.shape})
}

// reachable returns, in topological order, the ids of every node an output
// depends on. Node ids are already topological.
func (g *Graph) reachable(outputs []Tensor) []int {
	seen := make([]bool, len(g.nodes))
	stack := make([]int, 0, len(outputs))
	for _, t := range outputs {
		stack = append(stack, t.id)
	}
	for len(stack) > 0 {
		id := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if seen[id] {
			continue
		}
		seen[id] = true
		stack = append(stack, g.nodes[id].in...)
	}
	var order []int
	for id, s := range seen {
		if s {
			order = append(order, id)
		}
	}
	return order
}

// Steps returns the number of kernel launches in one run.
func (p *Program) Steps() int { return len(p.steps) }

// Device returns the device the program runs on.
func (p *Program) Device() backend.Device { return p.dev }

// Run feeds every placeholder, launches the schedule, applies assignments
// and returns the outputs in the order given to Compile. The returned
// arrays belong to the Program and are overwritten by the next Run; Clone
// them to keep them.
func (p *Program) Run(ctx context.Context, feeds Feeds) ([]*tensor.Array, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.feed(feeds); err != nil {
		return nil, err
	}
	for i := range p.steps {
		s := &p.steps[i]
		if i&63 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, fmt.Errorf("graph: run: %w", err)
			}
		}
		ins := p.ins[:len(s.in)]
		for j, slot := range s.in {
			ins[j] = p.bufs[slot]
		}
		if err := s.launch.Run(ins, p.bufs[s.out]); err != nil {
			return nil, fmt.Errorf("graph: run step %d (%s): %w", i, s.name, err)
		}
	}
	if err := p.dev.Sync(ctx); err != nil {
		return nil, fmt.Errorf("graph: run: %w", err)
	}
	for i, slot := range p.outs {
		if err := p.dev.Read(p.results[i], p.bufs[slot]); err != nil {
			return nil, fmt.Errorf("graph: read output %d: %w", i, err)
		}
	}
	// Assignments come last so that every read in this run saw the old value.
	for _, a := range p.assigns {
		if err := p.dev.Copy(p.bufs[a.dst], p.bufs[a.src]); err != nil {
			return nil, fmt.Errorf("graph: assign: %w", err)
		}
	}
	return p.results, nil
}

func (p *Program) feed(feeds Feeds) error {
	used := 0
	for i := range p.places {
		f := &p.places[i]
		a, ok := feeds[f.name]
		if !ok || a == nil {
			return fmt.Errorf("%w: placeholder %q (%v%v) not fed", ErrFeed, f.name, f.store, f.shape)
		}
		used++
		if !a.Shape().Equal(f.shape) {
			return fmt.Errorf("%w: %q has shape %v, want %v", ErrFeed, f.name, a.Shape(), f.shape)
		}
		d := a.DType()
		switch {
		case d == f.dtype:
		case (d == tensor.F16 || d == tensor.BF16) && f.dtype == tensor.F32:
			if f.conv == nil {
				f.conv = tensor.MustZeros(tensor.F32, f.shape)
			}
			if err := f.conv.CopyFrom(a); err != nil {
				return err
			}
			a = f.conv
		default:
			return fmt.Errorf("%w: %q has dtype %v, want %v", ErrFeed, f.name, d, f.store)
		}
		if err := p.dev.Write(p.bufs[f.slot], a); err != nil {
			return fmt.Errorf("graph: feed %q: %w", f.name, err)
		}
	}
	if used != len(feeds) {
		// Feeds for placeholders this program does not need are fine; a name
		// the graph never had is a mistake.
		for name := range feeds {
			if !p.known[name] {
				return fmt.Errorf("%w: the graph has no placeholder %q", ErrFeed, name)
			}
		}
	}
	return nil
}
