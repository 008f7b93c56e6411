package graph

import (
	"context"
	"fmt"
	"io"
	"sort"
	"sync"

	"github.com/aethertensor/aether/backend"
	"github.com/aethertensor/aether/backend/cpu"
	"github.com/aethertensor/aether/compiler"
	"github.com/aethertensor/aether/fusion"
	"github.com/aethertensor/aether/kernel"
	"github.com/aethertensor/aether/memory"
	"github.com/aethertensor/aether/op"
	"github.com/aethertensor/aether/tensor"
)

// Option configures Compile.
type Option func(*config)

type config struct {
	dev      backend.Device
	debug    io.Writer
	optimize bool
	fuse     bool
}

// OnDevice compiles for device d. The default is the CPU.
func OnDevice(d backend.Device) Option { return func(c *config) { c.dev = d } }

// Debug prints the compiler IR before and after every pass that changes it.
func Debug(w io.Writer) Option { return func(c *config) { c.debug = w } }

// Optimize turns the compiler passes on (the default) or off.
func Optimize(on bool) Option { return func(c *config) { c.optimize = on } }

// Fuse turns kernel fusion on (the default) or off; off, every operation is
// its own launch.
func Fuse(on bool) Option { return func(c *config) { c.fuse = on } }

// Feeds maps placeholder names to the arrays fed to them for one run.
type Feeds map[string]*tensor.Array

// Program is a compiled, fixed schedule of kernel launches over buffers
// planned once. Run it as often as needed; it is safe for concurrent use
// (runs are serialised).
type Program struct {
	mu      sync.Mutex
	dev     backend.Device
	ir      *compiler.Func
	bufs    []backend.Buffer // by IR value
	steps   []step
	places  []feedSlot
	assigns []assignSlot
	post    []step // launches after the run: state writes at run-time offsets
	outs    []int  // values of the outputs
	results []*tensor.Array
	ins     []backend.Buffer // scratch for one launch's inputs
	known   map[string]bool  // every placeholder of the graph at compile time
	host    backend.Host     // set when buffers are host arrays
	memPlan *memory.Plan
	fusion  *fusion.Plan
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

// assignSlot copies src into the state buffer dst after a run. When src is
// itself state (which another assignment may overwrite first), it is
// snapshotted into tmp before any write.
type assignSlot struct {
	dst, src int
	tmp      backend.Buffer
}

// Compile turns the computation of outputs into a Program: it lowers the
// operations the outputs need into the compiler's IR, optimises it,
// prepares one kernel per remaining operation on the device and allocates
// every buffer once. The first error recorded while building the graph is
// returned here.
func Compile(outputs []Tensor, opts ...Option) (*Program, error) {
	cfg := config{optimize: true, fuse: true}
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
	for i, t := range outputs {
		// An invalid tensor of a graph with no error comes from Graph.Tensor
		// with an unknown ID.
		if !t.Valid() {
			return nil, errorf(ErrTensor, "Compile: output %d is invalid", i)
		}
	}
	f := g.lower(outputs)
	if err := checkHalfStorage(f, cfg.dev); err != nil {
		return nil, err
	}
	if cfg.optimize {
		pipe := compiler.Pipeline{
			Passes: []compiler.Pass{
				compiler.DCE{},
				compiler.Simplify{},
				compiler.ConstFold{Eval: evalCPU},
				compiler.CSE{},
				compiler.Layout{},
			},
			Debug: cfg.debug,
		}
		var err error
		if f, err = pipe.Run(f); err != nil {
			return nil, fmt.Errorf("graph: compile: %w", err)
		}
	}
	return g.build(f, cfg.dev, cfg.fuse)
}

// lower copies the nodes the outputs depend on into compiler IR.
func (g *Graph) lower(outputs []Tensor) *compiler.Func {
	order := g.reachable(outputs)
	id := make(map[int]int, len(order))
	f := &compiler.Func{Values: make([]compiler.Value, 0, len(order))}
	for _, n := range order {
		nd := g.nodes[n]
		ins := make([]int, len(nd.in))
		for i, in := range nd.in {
			ins[i] = id[in]
		}
		id[n] = f.Add(compiler.Value{Op: nd.op, In: ins, DType: nd.dtype, Shape: nd.shape, Attrs: nd.attrs})
	}
	for _, t := range outputs {
		f.Outputs = append(f.Outputs, id[t.id])
	}
	return f
}

// evalCPU runs one operation on the CPU for constant folding.
func evalCPU(v compiler.Value, in []*tensor.Array) (*tensor.Array, error) {
	k := backend.Kernel{Op: v.Op, Attrs: v.Attrs, Out: backend.Operand{DType: v.DType, Shape: v.Shape}}
	bufs := make([]backend.Buffer, len(in))
	for i, a := range in {
		k.In = append(k.In, backend.Operand{DType: a.DType(), Shape: a.Shape()})
		bufs[i] = a
	}
	dev := cpu.New()
	l, err := dev.Prepare(k)
	if err != nil {
		return nil, err
	}
	out, err := tensor.Zeros(v.DType, v.Shape)
	if err != nil {
		return nil, err
	}
	if err := l.Run(bufs, out); err != nil {
		return nil, err
	}
	return out, nil
}

// build partitions an optimised IR into kernels, plans memory and prepares
// every launch.
func (g *Graph) build(f *compiler.Func, dev backend.Device, fuse bool) (*Program, error) {
	p := &Program{dev: dev, ir: f, known: make(map[string]bool, len(g.names)), bufs: make([]backend.Buffer, len(f.Values))}
	for name := range g.names {
		p.known[name] = true
	}
	p.host, _ = dev.(backend.Host)
	caps := fusion.DefaultCaps
	if c, ok := dev.(backend.Capable); ok {
		caps = c.Caps()
	}
	sched, err := fusion.Partition(f, caps, fuse)
	if err != nil {
		return nil, fmt.Errorf("graph: compile: %w", err)
	}
	p.fusion = sched
	if err := checkInPlace(f); err != nil {
		return nil, err
	}
	plan, err := p.planMemory(f, sched, dev)
	if err != nil {
		return nil, err
	}
	alias := make([]int, len(f.Values)) // the value whose buffer each value uses
	for i, v := range f.Values {
		alias[i] = i
		var err error
		switch v.Op {
		case op.Const:
			p.bufs[i], err = dev.Bind(v.Attrs.Value)
		case op.Param, op.Variable:
			p.bufs[i], err = dev.Bind(g.vars[v.Attrs.Name].value)
		case op.QConst:
			qb, ok := dev.(backend.QuantBinder)
			if !ok {
				err = fmt.Errorf("%w: %s cannot hold quantized weights", backend.ErrUnsupported, dev.Name())
				break
			}
			p.bufs[i], err = qb.BindQuantized(v.Attrs.Quant)
		case op.Assign:
			// The value is copied into the variable after every launch.
			alias[i] = alias[v.In[1]]
			a := assignSlot{dst: alias[v.In[0]], src: alias[v.In[1]]}
			if src := f.Values[a.src]; src.Op == op.Param || src.Op == op.Variable {
				a.tmp, err = dev.Alloc(backend.Operand{DType: src.DType, Shape: src.Shape})
			}
			p.assigns = append(p.assigns, a)
		case op.AssignSlice:
			// A kernel launched after the run writes the value into a
			// window of the variable.
			alias[i] = alias[v.In[1]]
			val, start, dst := f.Values[v.In[1]], f.Values[v.In[2]], f.Values[v.In[0]]
			k := backend.Kernel{Op: v.Op, Attrs: v.Attrs,
				In:  []backend.Operand{{DType: val.DType, Shape: val.Shape}, {DType: start.DType, Shape: start.Shape}},
				Out: backend.Operand{DType: dst.DType, Shape: dst.Shape}}
			var l backend.Launch
			if l, err = dev.Prepare(k); err == nil {
				p.post = append(p.post, step{launch: l, in: []int{alias[v.In[1]], alias[v.In[2]]}, out: alias[v.In[0]], name: v.Op.String()})
			}
		case op.Placeholder:
			// On a host device a fed array is used in place (set each
			// run); elsewhere it is uploaded into a buffer of its own.
			if p.host == nil {
				p.bufs[i], err = plan.buffer(i, backend.Operand{DType: v.DType, Shape: v.Shape})
			}
			nd := g.nodes[g.names[v.Attrs.Name]]
			p.places = append(p.places, feedSlot{name: v.Attrs.Name, slot: i, dtype: v.DType, store: nd.store, shape: v.Shape})
		}
		if err != nil {
			return nil, fmt.Errorf("graph: compile %v (value %d): %w", v.Op, i, err)
		}
	}
	maxIn := 0
	for _, grp := range sched.Groups {
		i := grp.Value
		v := f.Values[i]
		operand := backend.Operand{DType: v.DType, Shape: v.Shape}
		if isInPlace(v) {
			// The update writes into the state's own buffer.
			alias[i] = alias[v.In[0]]
			p.bufs[i] = p.bufs[alias[i]]
		} else if p.bufs[i], err = plan.buffer(i, operand); err != nil {
			return nil, fmt.Errorf("graph: compile %v (value %d): %w", v.Op, i, err)
		}
		if grp.Fused == nil && grp.Reduce == nil && grp.Epilogue == nil && v.Op == op.Reshape && plan.isView(i) {
			continue // the planned buffer already views the operand's bytes
		}
		k := backend.Kernel{Op: v.Op, Attrs: v.Attrs, Out: operand, Fused: grp.Fused, Reduce: grp.Reduce}
		reads := v.In
		if grp.Fused != nil || grp.Reduce != nil || grp.Epilogue != nil {
			reads = grp.Inputs
		}
		if grp.Epilogue != nil {
			mm := f.Values[grp.MatMul]
			k.Op, k.Attrs, k.Epilogue = op.MatMul, mm.Attrs, grp.Epilogue
		}
		ins := make([]int, len(reads))
		for j, in := range reads {
			k.In = append(k.In, backend.Operand{DType: f.Values[in].DType, Shape: f.Values[in].Shape})
			ins[j] = alias[in]
		}
		l, err := dev.Prepare(k)
		if err != nil {
			return nil, fmt.Errorf("graph: compile %v (value %d) on %s: %w", v.Op, i, dev.Name(), err)
		}
		maxIn = max(maxIn, len(ins))
		name := v.Op.String()
		switch {
		case grp.Fused != nil:
			name = fmt.Sprintf("fused(%d nodes)", len(grp.Fused.Nodes))
		case grp.Reduce != nil:
			name = fmt.Sprintf("fused %v(%d nodes)", v.Op, len(grp.Reduce.Body.Nodes))
		case grp.Epilogue != nil:
			name = fmt.Sprintf("matmul+epilogue%+v", *grp.Epilogue)
		}
		p.steps = append(p.steps, step{launch: l, in: ins, out: i, name: name})
	}
	p.ins = make([]backend.Buffer, max(maxIn, 2))
	sort.Slice(p.places, func(i, j int) bool { return p.places[i].name < p.places[j].name })
	for _, o := range f.Outputs {
		v := f.Values[o]
		// A computed output on a host device is returned as its buffer;
		// leaves (state, constants, feeds) are copied so the caller never
		// holds the graph's own storage.
		if a := alias[o]; p.host != nil && p.bufs[a] != nil && !f.Values[a].Op.Has(op.Leaf) {
			if arr, ok := p.host.HostArray(p.bufs[a]); ok && arr.Shape().Equal(v.Shape) {
				p.outs = append(p.outs, -1)
				p.results = append(p.results, arr)
				continue
			}
		}
		p.outs = append(p.outs, alias[o])
		r, err := tensor.Zeros(v.DType, v.Shape)
		if err != nil {
			return nil, err
		}
		p.results = append(p.results, r)
	}
	return p, nil
}

// arenaPlan places the stored values of a program: in one arena when the
// device supports it, else in a buffer each.
type arenaPlan struct {
	dev   backend.Device
	arena backend.Buffer
	plan  *memory.Plan
	views []bool // value is a reshape sharing its operand's bytes
}

// planMemory runs liveness and the arena planner over the fused schedule.
func (p *Program) planMemory(f *compiler.Func, sched *fusion.Plan, dev backend.Device) (*arenaPlan, error) {
	ap := &arenaPlan{dev: dev, views: make([]bool, len(f.Values))}
	ar, ok := dev.(backend.Arena)
	if !ok {
		return ap, nil
	}
	values := make([]memory.Value, len(f.Values))
	pinned := make([]bool, len(f.Values))
	for _, o := range f.Outputs {
		pinned[o] = true
	}
	for i, v := range f.Values {
		if v.Op.Has(op.Effect) {
			for _, in := range v.In[1:] {
				pinned[in] = true // read after the last step
			}
		}
		values[i] = memory.Value{
			Bytes:   v.Shape.Size() * v.DType.Size(),
			Planned: (v.Op == op.Placeholder && p.host == nil) || (!v.Op.Has(op.Leaf) && !v.Op.Has(op.Effect) && !isInPlace(v) && sched.Stored[i]),
		}
	}
	var steps []memory.Step
	for _, grp := range sched.Groups {
		i := grp.Value
		v := f.Values[i]
		st := memory.Step{Out: i, In: v.In}
		switch {
		case grp.Reduce != nil || grp.Epilogue != nil:
			st.In = grp.Inputs
		case grp.Fused != nil:
			st.In = grp.Inputs
			st.Reuse = sameIndexInputs(grp)
		case v.Op == op.Reshape && values[v.In[0]].Planned:
			st.View = true
			ap.views[i] = true
		case v.Op.Has(op.Elementwise) && v.Op != op.Cast:
			for _, in := range v.In {
				if f.Values[in].DType == v.DType {
					st.Reuse = append(st.Reuse, in)
				}
			}
		}
		steps = append(steps, st)
	}
	for i := range values {
		values[i].Pinned = pinned[i]
	}
	ap.plan = memory.PlanArena(values, steps, ar.Align())
	var err error
	if ap.arena, err = ar.NewArena(ap.plan.Size); err != nil {
		return nil, fmt.Errorf("graph: compile: arena of %d bytes: %w", ap.plan.Size, err)
	}
	p.memPlan = ap.plan
	return ap, nil
}

// isInPlace reports whether v writes into its base state (UpdateSlice).
func isInPlace(v compiler.Value) bool {
	return v.Op == op.DynUpdate && v.Attrs != nil && v.Attrs.InPlace
}

// checkInPlace makes sure that the state an UpdateSlice writes during the
// run is used by nothing else, so that no read sees the write early.
func checkInPlace(f *compiler.Func) error {
	updated := map[int]int{} // state -> its in-place update
	for i, v := range f.Values {
		if isInPlace(v) {
			if b := f.Values[v.In[0]]; b.Op != op.Param && b.Op != op.Variable {
				return errorf(ErrArg, "Compile: in-place update of a %v, not a param or variable", b.Op)
			}
			updated[v.In[0]] = i
		}
	}
	if len(updated) == 0 {
		return nil
	}
	for j, u := range f.Values {
		for _, in := range u.In {
			if i, ok := updated[in]; ok && i != j {
				return errorf(ErrArg, "Compile: %q is updated in place and also used by %v", f.Values[in].Attrs.Name, u.Op)
			}
		}
	}
	for _, o := range f.Outputs {
		if _, ok := updated[o]; ok {
			return errorf(ErrArg, "Compile: %q is updated in place and also an output", f.Values[o].Attrs.Name)
		}
	}
	return nil
}

// sameIndexInputs returns the inputs of a fused kernel that it reads only
// at the index it writes, with the output's dtype: the output may overwrite
// them in place.
func sameIndexInputs(grp fusion.Group) []int {
	k := grp.Fused
	out := k.Shape.Strides()
	ok := make([]bool, len(k.Inputs))
	for i := range ok {
		ok[i] = k.Inputs[i].DType == k.Out()
	}
	for _, n := range k.Nodes {
		if n.Kind != kernel.Load || !ok[n.Input] {
			continue
		}
		if n.Offset != 0 {
			ok[n.Input] = false
			continue
		}
		for a, s := range n.Strides {
			if s != out[a] && k.Shape[a] != 1 {
				ok[n.Input] = false
			}
		}
	}
	var reuse []int
	for i, v := range grp.Inputs {
		if ok[i] {
			reuse = append(reuse, v)
		}
	}
	return reuse
}

// buffer returns the buffer of a planned value.
func (ap *arenaPlan) buffer(i int, o backend.Operand) (backend.Buffer, error) {
	if ap.plan == nil {
		return ap.dev.Alloc(o)
	}
	return ap.dev.(backend.Arena).View(ap.arena, ap.plan.Offset(i), o)
}

func (ap *arenaPlan) isView(i int) bool { return ap.plan != nil && ap.views[i] }

// MemoryPlan returns the arena plan of the program's intermediate values,
// or nil when the device allocates each buffer separately.
func (p *Program) MemoryPlan() *memory.Plan { return p.memPlan }

// Fusion returns the fused schedule the program runs.
func (p *Program) Fusion() *fusion.Plan { return p.fusion }

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

// IR returns the optimised compiler IR the program runs.
func (p *Program) IR() *compiler.Func { return p.ir }

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
		if slot < 0 {
			continue // the buffer itself is the result
		}
		if err := p.dev.Read(p.results[i], p.bufs[slot]); err != nil {
			return nil, fmt.Errorf("graph: read output %d: %w", i, err)
		}
	}
	// Assignments come last so that every read in this run saw the old value.
	for _, a := range p.assigns {
		if a.tmp != nil {
			if err := p.dev.Copy(a.tmp, p.bufs[a.src]); err != nil {
				return nil, fmt.Errorf("graph: assign: %w", err)
			}
		}
	}
	for _, a := range p.assigns {
		src := p.bufs[a.src]
		if a.tmp != nil {
			src = a.tmp
		}
		if err := p.dev.Copy(p.bufs[a.dst], src); err != nil {
			return nil, fmt.Errorf("graph: assign: %w", err)
		}
	}
	for i := range p.post {
		s := &p.post[i]
		ins := p.ins[:len(s.in)]
		for j, slot := range s.in {
			ins[j] = p.bufs[slot]
		}
		if err := s.launch.Run(ins, p.bufs[s.out]); err != nil {
			return nil, fmt.Errorf("graph: %s: %w", s.name, err)
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
		if p.host != nil {
			p.bufs[f.slot] = a
			continue
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
