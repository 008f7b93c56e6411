//go:build cgo

package wgpu

import (
	"encoding/binary"
	"fmt"

	"github.com/aethertensor/aether/backend"
	"github.com/aethertensor/aether/memory"
	"github.com/aethertensor/aether/op"
	"github.com/aethertensor/aether/shaders"
	gpu "github.com/rajveermalviya/go-webgpu/wgpu"
)

// pipeline is a compiled compute shader with its bind-group layout.
type pipeline struct {
	pipe   *gpu.ComputePipeline
	layout *gpu.BindGroupLayout
}

// pipelineFor compiles WGSL once per distinct source text. The layout
// binds the uniform block (when meta is set) and then the arguments:
// read-only storage for inputs, read-write for the output.
func (d *Device) pipelineFor(p pass) (*pipeline, error) {
	if pl, ok := d.pipes[p.src]; ok {
		return pl, nil
	}
	var entries []gpu.BindGroupLayoutEntry
	b := uint32(0)
	if p.meta != nil {
		entries = append(entries, gpu.BindGroupLayoutEntry{Binding: 0, Visibility: gpu.ShaderStage_Compute, Buffer: gpu.BufferBindingLayout{Type: gpu.BufferBindingType_Uniform}})
		b = 1
	}
	for i, a := range p.args {
		t := gpu.BufferBindingType_ReadOnlyStorage
		if a == argOut || a == argFault {
			t = gpu.BufferBindingType_Storage
		}
		entries = append(entries, gpu.BindGroupLayoutEntry{Binding: b + uint32(i), Visibility: gpu.ShaderStage_Compute, Buffer: gpu.BufferBindingLayout{Type: t}})
	}
	mod, err := d.dev.CreateShaderModule(&gpu.ShaderModuleDescriptor{WGSLDescriptor: &gpu.ShaderModuleWGSLDescriptor{Code: p.src}})
	if err != nil {
		return nil, fmt.Errorf("wgpu: shader: %w", err)
	}
	defer mod.Release()
	bgl, err := d.dev.CreateBindGroupLayout(&gpu.BindGroupLayoutDescriptor{Entries: entries})
	if err != nil {
		return nil, fmt.Errorf("wgpu: bind group layout: %w", err)
	}
	pl, err := d.dev.CreatePipelineLayout(&gpu.PipelineLayoutDescriptor{BindGroupLayouts: []*gpu.BindGroupLayout{bgl}})
	if err != nil {
		return nil, fmt.Errorf("wgpu: pipeline layout: %w", err)
	}
	defer pl.Release()
	pipe, err := d.dev.CreateComputePipeline(&gpu.ComputePipelineDescriptor{Layout: pl, Compute: gpu.ProgrammableStageDescriptor{Module: mod, EntryPoint: "main"}})
	if err != nil {
		return nil, fmt.Errorf("wgpu: compute pipeline: %w", err)
	}
	out := &pipeline{pipe: pipe, layout: bgl}
	d.pipes[p.src] = out
	return out, nil
}

// Compile checks that WGSL source compiles into a pipeline whose inputs
// bind as read-only storage at 0..inputs-1 and whose output follows (the
// layout of the fusion emitter's shaders).
func (d *Device) Compile(src string, inputs int) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	args := make([]int, inputs+1)
	for i := range inputs {
		args[i] = i
	}
	args[inputs] = argOut
	_, err := d.pipelineFor(pass{src: src, args: args})
	return err
}

// Validate parses and validates WGSL source (naga's checks) without
// making a pipeline.
func (d *Device) Validate(src string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	mod, err := d.dev.CreateShaderModule(&gpu.ShaderModuleDescriptor{WGSLDescriptor: &gpu.ShaderModuleWGSLDescriptor{Code: src}})
	if err != nil {
		return fmt.Errorf("wgpu: shader: %w", err)
	}
	mod.Release()
	return nil
}

// Pipelines returns the number of distinct compiled shaders.
func (d *Device) Pipelines() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.pipes)
}

// dispatch is a pass ready to encode.
type dispatch struct {
	pass
	pl   *pipeline
	meta *gpu.Buffer
	bg   *gpu.BindGroup
	key  []*gpu.Buffer // the buffers bg binds
	now  []*gpu.Buffer // scratch: the buffers of this run
}

type launch struct {
	d      *Device
	steps  []dispatch
	update bool   // the output is partly written: its contents must be resident
	bound  []bool // inputs some dispatch binds
	dummy  bool
	faults bool        // a shader reports index faults
	read   []memory.ID // scratch; after a run, the buffers it read
	bufs   []*Buffer   // scratch
	// next is the launch that followed this one last time: programs
	// replay a fixed schedule, so its inputs are worth uploading early.
	next *launch
}

// Prepare compiles the shaders of a kernel and its uniform blocks.
func (d *Device) Prepare(k backend.Kernel) (backend.Launch, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.check(); err != nil {
		return nil, err
	}
	passes, err := d.plan.plan(k)
	if err != nil {
		return nil, err
	}
	inPlace := k.Op == op.DynUpdate && k.Attrs != nil && k.Attrs.InPlace
	l := &launch{d: d, update: k.Fused == nil && k.Reduce == nil && (k.Op == op.AssignSlice || inPlace)}
	l.bound = make([]bool, len(k.In))
	for _, p := range passes {
		if n := len(p.args); n > int(d.limits.MaxStorageBuffersPerShaderStage) {
			return nil, fmt.Errorf("%w: a kernel binding %d storage buffers (the adapter allows %d)", backend.ErrUnsupported, n, d.limits.MaxStorageBuffersPerShaderStage)
		}
		pl, err := d.pipelineFor(p)
		if err != nil {
			return nil, fmt.Errorf("%v: %w", kernelName(k), err)
		}
		st := dispatch{pass: p, pl: pl}
		if p.meta != nil {
			words := make([]byte, 4*shaders.MetaWords)
			for i, w := range p.meta {
				binary.LittleEndian.PutUint32(words[4*i:], w)
			}
			if st.meta, err = d.dev.CreateBufferInit(&gpu.BufferInitDescriptor{Usage: gpu.BufferUsage_Uniform, Contents: words}); err != nil {
				return nil, fmt.Errorf("wgpu: uniform block: %w", err)
			}
		}
		for _, a := range p.args {
			l.dummy = l.dummy || a == argDummy
			l.faults = l.faults || a == argFault
			if a >= 0 && a < len(l.bound) {
				l.bound[a] = true
			}
		}
		l.steps = append(l.steps, st)
	}
	return l, nil
}

func kernelName(k backend.Kernel) string {
	switch {
	case k.Fused != nil:
		return fmt.Sprintf("fused kernel (%d nodes)", len(k.Fused.Nodes))
	case k.Reduce != nil:
		return "fused reduction"
	}
	return k.Op.String()
}

// Run encodes the kernel's dispatches; they run when the device submits
// (at Sync, a read, or at once under a memory budget).
func (l *launch) Run(in []backend.Buffer, out backend.Buffer) error {
	d := l.d
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.check(); err != nil {
		return err
	}
	if err := d.takeFault(); err != nil {
		return err
	}
	ob, err := buf(out)
	if err != nil {
		return err
	}
	l.bufs, l.read = l.bufs[:0], l.read[:0]
	for i, b := range in {
		x, err := buf(b)
		if err != nil {
			return err
		}
		l.bufs = append(l.bufs, x)
		if x.s == ob.s {
			if i < len(l.bound) && !l.bound[i] {
				continue // an in-place update's base: the output itself
			}
			return fmt.Errorf("wgpu: a kernel reads and writes one buffer")
		}
		l.read = append(l.read, x.s.id)
	}
	if l.dummy {
		l.read = append(l.read, d.dummy.s.id)
	}
	overwrite := []memory.ID{ob.s.id}
	if l.update {
		l.read, overwrite = append(l.read, ob.s.id), nil
	}
	if err := d.acquire(l.read, overwrite); err != nil {
		return err
	}
	if len(l.steps) > 0 {
		enc, err := d.encoder()
		if err != nil {
			return err
		}
		cp := enc.BeginComputePass(nil)
		for i := range l.steps {
			st := &l.steps[i]
			if err := l.bind(st, ob); err != nil {
				cp.End()
				cp.Release()
				return err
			}
			cp.SetPipeline(st.pl.pipe)
			cp.SetBindGroup(0, st.bg, nil)
			cp.DispatchWorkgroups(st.groups[0], st.groups[1], st.groups[2])
		}
		if err := cp.End(); err != nil {
			cp.Release()
			return fmt.Errorf("wgpu: compute pass: %w", err)
		}
		cp.Release()
		d.flagged = d.flagged || l.faults
	}
	d.wrote(ob)
	if d.last != nil {
		d.last.next = l
	}
	d.last = l
	if d.reg.Budget() > 0 {
		// Under a budget, submit now so pins are released soon and
		// eviction finds victims; then upload what the next launch read
		// last time, as far as free room allows, while this one runs.
		if err := d.submit(); err != nil {
			return err
		}
		d.settle()
		if l.next != nil {
			d.reg.Prefetch(l.next.read...)
		}
	}
	return nil
}

// bind returns the step's bind group, rebuilt only when a buffer changed
// (another program's buffers, or device memory replaced after eviction).
func (l *launch) bind(st *dispatch, out *Buffer) error {
	d := l.d
	key := st.now[:0]
	for _, a := range st.args {
		switch a {
		case argOut:
			key = append(key, out.s.g)
		case argDummy:
			key = append(key, d.dummy.s.g)
		case argFault:
			key = append(key, d.fault)
		default:
			if a >= len(l.bufs) {
				return fmt.Errorf("wgpu: kernel expects input %d of %d", a, len(l.bufs))
			}
			key = append(key, l.bufs[a].s.g)
		}
	}
	st.now = key
	if st.bg != nil && len(key) == len(st.key) && sameBuffers(key, st.key) {
		return nil
	}
	var entries []gpu.BindGroupEntry
	b := uint32(0)
	if st.meta != nil {
		entries = append(entries, gpu.BindGroupEntry{Binding: 0, Buffer: st.meta, Size: gpu.WholeSize})
		b = 1
	}
	for i, g := range key {
		entries = append(entries, gpu.BindGroupEntry{Binding: b + uint32(i), Buffer: g, Size: gpu.WholeSize})
	}
	bg, err := d.dev.CreateBindGroup(&gpu.BindGroupDescriptor{Layout: st.pl.layout, Entries: entries})
	if err != nil {
		return fmt.Errorf("wgpu: bind group: %w", err)
	}
	if st.bg != nil {
		st.bg.Release()
	}
	st.bg = bg
	st.key = append(st.key[:0], key...)
	st.now = key
	return nil
}

func sameBuffers(a, b []*gpu.Buffer) bool {
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
