//go:build cgo

package wgpu

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"math"
	"os"
	"runtime"
	"strings"
	"sync"
	"unsafe"

	"github.com/aethertensor/aether/backend"
	"github.com/aethertensor/aether/llm/quant"
	"github.com/aethertensor/aether/memory"
	"github.com/aethertensor/aether/tensor"
	gpu "github.com/rajveermalviya/go-webgpu/wgpu"
)

// Available reports whether this build can use WebGPU (it was built with
// cgo).
const Available = true

// Device runs programs on a WebGPU adapter.
type Device struct {
	mu      sync.Mutex
	inst    *gpu.Instance
	adapter *gpu.Adapter
	dev     *gpu.Device
	queue   *gpu.Queue
	info    gpu.AdapterProperties
	limits  gpu.Limits
	plan    planner

	pipes   map[string]*pipeline // by WGSL source
	enc     *gpu.CommandEncoder  // encoded launches not yet submitted
	pending []memory.ID          // pins held by encoded launches
	flight  []memory.ID          // pins held by submitted launches
	last    *launch              // the launch run most recently

	staging     *gpu.Buffer
	stagingSize uint64
	readBytes   int64 // copied back to the host so far

	// Index faults: shaders that read indices set these words
	// (shaders/fault.wgsl); they are read back only when such a shader
	// ran since the last check.
	fault      *gpu.Buffer
	faultStage *gpu.Buffer
	flagged    bool  // a launch bound fault since the last check
	faultErr   error // a fault seen and not yet returned

	reg   *memory.Registry
	slots map[memory.ID]*slot
	bound map[*tensor.Array]*Buffer
	quant map[*tensor.Quantized]*Buffer
	dummy *Buffer

	lostMu sync.Mutex
	lost   error
	seed   maphash.Seed // for slot.sum
}

// slot is the device memory of a buffer, separate from Buffer so that a
// cleanup can release it once the Buffer is unreachable.
type slot struct {
	g     *gpu.Buffer // nil while evicted
	size  uint64      // bytes, a multiple of 4, at least 4
	host  []byte      // contents while evicted (nil: zeros or see array)
	array *tensor.Array
	// sum hashes array's contents as the device last left or saw them:
	// a different hash at Bind means the host array was edited since.
	sum uint64
	raw []byte // a quantized weight's blocks, the host copy
	dev *Device
	id  memory.ID
}

// Buffer is device memory holding one tensor as 32-bit words.
type Buffer struct {
	op backend.Operand
	s  *slot
}

// Len returns the number of elements.
func (b *Buffer) Len() int { return b.op.Shape.Size() }

var (
	_ backend.Device      = (*Device)(nil)
	_ backend.Capable     = (*Device)(nil)
	_ backend.QuantBinder = (*Device)(nil)
	_ backend.HalfStorer  = (*Device)(nil)
)

// New opens a device on the preferred adapter (see Options).
func New(opts ...Option) (*Device, error) {
	var o options
	for _, f := range opts {
		f(&o)
	}
	if o.adapter == "" {
		o.adapter = os.Getenv("AETHER_WGPU_ADAPTER")
	}
	inst := gpu.CreateInstance(&gpu.InstanceDescriptor{Backends: gpu.InstanceBackend_Vulkan | gpu.InstanceBackend_Metal | gpu.InstanceBackend_DX12})
	adapters := inst.EnumerateAdapters(nil)
	if len(adapters) == 0 {
		// The GL backend is the last resort: it is slower and noisier.
		inst.Release()
		inst = gpu.CreateInstance(&gpu.InstanceDescriptor{Backends: gpu.InstanceBackend_GL})
		adapters = inst.EnumerateAdapters(nil)
	}
	if len(adapters) == 0 {
		inst.Release()
		return nil, fmt.Errorf("%w: no WebGPU adapter (install a Vulkan driver, e.g. Debian's mesa-vulkan-drivers)", ErrNoAdapter)
	}
	a, err := pickAdapter(adapters, o.adapter)
	if err != nil {
		inst.Release()
		return nil, err
	}
	d := &Device{inst: inst, adapter: a, info: a.GetProperties(), limits: a.GetLimits().Limits,
		pipes: map[string]*pipeline{}, slots: map[memory.ID]*slot{}, bound: map[*tensor.Array]*Buffer{}, quant: map[*tensor.Quantized]*Buffer{},
		seed: maphash.MakeSeed()}
	d.dev, err = a.RequestDevice(&gpu.DeviceDescriptor{
		Label:          "aether",
		RequiredLimits: &gpu.RequiredLimits{Limits: d.limits},
		// No DeviceLostCallback: go-webgpu v0.17.1 passes it to C inside a
		// Go-allocated descriptor, which cgo's pointer checks reject. A
		// lost device surfaces as errors from the calls that follow.
	})
	if err != nil {
		inst.Release()
		return nil, fmt.Errorf("wgpu: device on %q: %w", d.info.Name, err)
	}
	d.queue = d.dev.GetQueue()
	d.plan = planner{maxGroups: int(d.limits.MaxComputeWorkgroupsPerDimension)}
	d.reg = memory.NewRegistry(o.budget, (*mover)(d))
	if d.dummy, err = d.alloc(backend.Operand{DType: tensor.I32, Shape: tensor.Shape{1}}); err != nil {
		return nil, err
	}
	if d.fault, err = d.dev.CreateBuffer(&gpu.BufferDescriptor{Label: "faults", Usage: gpu.BufferUsage_Storage | gpu.BufferUsage_CopySrc | gpu.BufferUsage_CopyDst, Size: faultBytes}); err != nil {
		return nil, fmt.Errorf("wgpu: fault buffer: %w", err)
	}
	if d.faultStage, err = d.dev.CreateBuffer(&gpu.BufferDescriptor{Label: "faults readback", Usage: gpu.BufferUsage_MapRead | gpu.BufferUsage_CopyDst, Size: faultBytes}); err != nil {
		return nil, fmt.Errorf("wgpu: fault buffer: %w", err)
	}
	return d, nil
}

// pickAdapter chooses the adapter whose name contains want, or else the
// most capable kind: discrete, integrated, then software.
func pickAdapter(as []*gpu.Adapter, want string) (*gpu.Adapter, error) {
	var names []string
	best, rank := -1, 99
	for i, a := range as {
		p := a.GetProperties()
		names = append(names, p.Name)
		if want != "" {
			if strings.Contains(strings.ToLower(p.Name), strings.ToLower(want)) {
				return a, nil
			}
			continue
		}
		r := 3
		switch p.AdapterType {
		case gpu.AdapterType_DiscreteGPU:
			r = 0
		case gpu.AdapterType_IntegratedGPU:
			r = 1
		case gpu.AdapterType_CPU:
			r = 2
		}
		if r < rank {
			best, rank = i, r
		}
	}
	if best < 0 {
		return nil, fmt.Errorf("%w: none named like %q among %q", ErrNoAdapter, want, names)
	}
	return as[best], nil
}

// Close waits for the device and releases it; the device and its buffers
// must not be used afterwards.
func (d *Device) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.dev == nil {
		return nil
	}
	err := d.syncHost(context.Background())
	if serr := d.submit(); err == nil {
		err = serr
	}
	d.dev.Poll(true, nil)
	d.settle()
	for _, p := range d.pipes {
		p.pipe.Release()
		p.layout.Release()
	}
	d.pipes = nil
	for _, s := range d.slots {
		if s.g != nil {
			s.g.Destroy()
			s.g.Release()
			s.g = nil
		}
	}
	for _, b := range []**gpu.Buffer{&d.staging, &d.fault, &d.faultStage} {
		if *b != nil {
			(*b).Destroy()
			(*b).Release()
			*b = nil
		}
	}
	d.queue.Release()
	d.dev.Release()
	d.adapter.Release()
	d.inst.Release()
	d.dev = nil
	d.lostMu.Lock()
	d.lost = fmt.Errorf("%w: closed", ErrLost)
	d.lostMu.Unlock()
	return err
}

// Name returns "wgpu:" and the adapter's name.
func (d *Device) Name() string { return "wgpu:" + d.info.Name }

// Adapter describes the adapter: its name, kind and graphics backend, and
// "shader-f16" when it has that feature (half storage does not need it:
// halves are packed into u32 words and converted with integer operations,
// and arithmetic stays f32 for agreement with the CPU).
func (d *Device) Adapter() string {
	f16 := ""
	if d.adapter.HasFeature(gpu.FeatureName_ShaderF16) {
		f16 = ", shader-f16"
	}
	return fmt.Sprintf("%s (%s, %s%s)", d.info.Name, d.info.AdapterType, d.info.BackendType, f16)
}

// ReadBytes returns the bytes read back from the device so far: reads of
// results and write-backs of state and evicted buffers.
func (d *Device) ReadBytes() int64 {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.readBytes
}

// Registry returns the buffer registry that tracks the device's memory.
func (d *Device) Registry() *memory.Registry { return d.reg }

// Caps reports the adapter's binding limit to the fusion partitioner.
// Reductions fuse with their elementwise prologues and epilogues (the
// WGSL emitter prints them as one workgroup per row), and matrix products
// with a bias, activation and residual (applied in the matmul shader).
func (d *Device) Caps() backend.Caps {
	c := backend.Caps{Bandwidth: 100e9, OpsPerSec: 1e12, Launch: 10e-6, MaxBindings: int(d.limits.MaxStorageBuffersPerShaderStage),
		FuseReductions: true, FuseReduceEpilogues: true, FuseEpilogues: true}
	if d.info.AdapterType == gpu.AdapterType_CPU {
		c.Bandwidth, c.OpsPerSec, c.Launch = 10e9, 20e9, 50e-6
	}
	return c
}

func (d *Device) check() error {
	d.lostMu.Lock()
	defer d.lostMu.Unlock()
	return d.lost
}

func buf(b backend.Buffer) (*Buffer, error) {
	x, ok := b.(*Buffer)
	if !ok || x == nil {
		return nil, fmt.Errorf("wgpu: buffer %T was not made by a webgpu device", b)
	}
	return x, nil
}

func wordsOf(o backend.Operand) (uint64, error) {
	if _, err := elemType(o.DType); err != nil {
		return 0, err
	}
	return (uint64(max(byteLen(o.DType, o.Shape.Size()), 1)) + 3) &^ 3, nil
}

// HalfStorage returns true: F16 and BF16 tensors are held two to a
// 32-bit word (state such as a KV cache takes half the memory), moved and
// converted with integer operations, so any adapter can, with or without
// shader-f16. Arithmetic on them is f32, after a Cast.
func (d *Device) HalfStorage() bool { return true }

// alloc makes a zeroed, registered buffer. The caller holds d.mu.
func (d *Device) alloc(o backend.Operand) (*Buffer, error) {
	size, err := wordsOf(o)
	if err != nil {
		return nil, err
	}
	if size > d.limits.MaxStorageBufferBindingSize {
		return nil, fmt.Errorf("wgpu: %v%v needs %d bytes, over the adapter's binding limit of %d", o.DType, o.Shape, size, d.limits.MaxStorageBufferBindingSize)
	}
	s := &slot{size: size, dev: d}
	// Registered on the host with no contents (zeros): device memory is
	// made on first use, so an evicted-then-restored buffer and a new one
	// take the same path.
	if s.id, err = d.reg.Register(int64(size), memory.OnHost); err != nil {
		return nil, err
	}
	d.slots[s.id] = s
	b := &Buffer{op: o, s: s}
	runtime.AddCleanup(b, func(s *slot) { s.dev.release(s) }, s)
	return b, nil
}

// release frees a buffer's device memory when it becomes unreachable.
func (d *Device) release(s *slot) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.dev == nil {
		return // Close released everything
	}
	d.reg.Unregister(s.id)
	delete(d.slots, s.id)
	if s.g != nil {
		s.g.Release()
		s.g = nil
	}
}

// Alloc returns a zeroed buffer.
func (d *Device) Alloc(o backend.Operand) (backend.Buffer, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.check(); err != nil {
		return nil, err
	}
	return d.alloc(o)
}

// Bind returns the device buffer of a host array, the same one for every
// program of this device, refreshed from the array unless a program has
// assigned the buffer since (then the array is refreshed from it).
// Assignments stay on the device until SyncHost, Close, an eviction or the
// next Bind of the array writes them back.
func (d *Device) Bind(a *tensor.Array) (backend.Buffer, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.check(); err != nil {
		return nil, err
	}
	if b, ok := d.bound[a]; ok {
		if d.stale(b.s) {
			words, err := toWords(a)
			if err != nil {
				return nil, err
			}
			if d.sumOf(a, words) == b.s.sum {
				// A program assigned it on the device and the host left
				// it alone: the device copy is current, the array catches
				// up.
				return b, d.writeBack(b.s)
			}
			// Edited on the host since: the host wins, as for a buffer
			// the device never assigned.
			d.reg.HostWritten(b.s.id)
		}
		if err := d.write(b, a); err != nil {
			return nil, err
		}
		return b, nil
	}
	b, err := d.alloc(backend.Operand{DType: a.DType(), Shape: a.Shape()})
	if err != nil {
		return nil, err
	}
	words, err := toWords(a)
	if err != nil {
		return nil, err
	}
	b.s.array, b.s.sum = a, d.sumOf(a, words)
	d.bound[a] = b
	return b, nil
}

// BindQuantized returns a device buffer holding a weight's GGUF blocks
// as they are (no f32 copy): the quantized kernels decode them in the
// shader. Every program of this device shares one buffer per weight.
func (d *Device) BindQuantized(q *tensor.Quantized) (backend.Buffer, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.check(); err != nil {
		return nil, err
	}
	if b, ok := d.quant[q]; ok {
		return b, nil
	}
	if err := q.Check(); err != nil {
		return nil, err
	}
	rb, err := quant.RowBytes(quant.Type(q.Type), uint64(q.Cols))
	if err != nil {
		return nil, fmt.Errorf("wgpu: quantized weight: %w", err)
	}
	if int(rb)*q.Rows != len(q.Data) {
		return nil, fmt.Errorf("%w: %v %d×%d needs %d bytes, has %d", tensor.ErrQuantized, quant.Type(q.Type), q.Rows, q.Cols, int(rb)*q.Rows, len(q.Data))
	}
	size := (uint64(len(q.Data)) + 3) &^ 3
	if size > d.limits.MaxStorageBufferBindingSize {
		return nil, fmt.Errorf("wgpu: a %v weight of %d bytes is over the adapter's binding limit of %d", quant.Type(q.Type), size, d.limits.MaxStorageBufferBindingSize)
	}
	s := &slot{size: size, dev: d, raw: q.Data}
	if s.id, err = d.reg.Register(int64(size), memory.OnHost); err != nil {
		return nil, err
	}
	d.slots[s.id] = s
	b := &Buffer{op: backend.Operand{DType: tensor.F32, Shape: tensor.Shape{q.Rows, q.Cols}}, s: s}
	d.quant[q] = b
	return b, nil
}

// Write copies a host array into a buffer.
func (d *Device) Write(dst backend.Buffer, src *tensor.Array) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.check(); err != nil {
		return err
	}
	b, err := buf(dst)
	if err != nil {
		return err
	}
	return d.write(b, src)
}

func (d *Device) write(b *Buffer, src *tensor.Array) error {
	if src.Len() != b.Len() {
		return fmt.Errorf("wgpu: write of %d elements into a buffer of %d", src.Len(), b.Len())
	}
	words, err := toWords(src)
	if err != nil {
		return err
	}
	s := b.s
	if s.array != nil && s.array != src {
		if err := s.array.CopyFrom(src); err != nil {
			return err
		}
	}
	if s.array != nil {
		s.sum = d.sumOf(src, words)
	}
	if s.g == nil {
		if s.array == nil {
			s.host = words
		}
		d.reg.HostWritten(s.id)
		return nil
	}
	// The queue orders writes before later submissions only: submit what
	// is encoded first.
	if err := d.submit(); err != nil {
		return err
	}
	if err := d.queue.WriteBuffer(s.g, 0, words); err != nil {
		return fmt.Errorf("wgpu: upload: %w", err)
	}
	if s.array == nil {
		d.reg.Written(s.id) // no host copy is kept for resident buffers
	}
	return nil
}

// Read copies a buffer into a host array.
func (d *Device) Read(dst *tensor.Array, src backend.Buffer) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.check(); err != nil {
		return err
	}
	b, err := buf(src)
	if err != nil {
		return err
	}
	if dst.Len() != b.Len() {
		return fmt.Errorf("wgpu: read of a buffer of %d elements into %d", b.Len(), dst.Len())
	}
	words, err := d.contents(b.s)
	if err != nil {
		return err
	}
	err = fromWords(dst, words[:byteLen(b.op.DType, b.Len())])
	d.settle()
	if err != nil {
		return err
	}
	return d.takeFault()
}

// contents returns a buffer's current bytes, reading the device back.
func (d *Device) contents(s *slot) ([]byte, error) {
	if s.g != nil {
		return d.readback(s.g, s.size)
	}
	if s.array != nil {
		return toWords(s.array)
	}
	if s.host == nil {
		return make([]byte, s.size), nil
	}
	return s.host, nil
}

// Copy copies one buffer into another on the device.
func (d *Device) Copy(dst, src backend.Buffer) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.check(); err != nil {
		return err
	}
	db, err := buf(dst)
	if err != nil {
		return err
	}
	sb, err := buf(src)
	if err != nil {
		return err
	}
	if db.Len() != sb.Len() || db.op.DType != sb.op.DType {
		return fmt.Errorf("wgpu: copy of %v[%d] into %v[%d]", sb.op.DType, sb.Len(), db.op.DType, db.Len())
	}
	if err := d.acquire([]memory.ID{sb.s.id}, []memory.ID{db.s.id}); err != nil {
		return err
	}
	enc, err := d.encoder()
	if err != nil {
		return err
	}
	if err := enc.CopyBufferToBuffer(sb.s.g, 0, db.s.g, 0, sb.s.size); err != nil {
		return fmt.Errorf("wgpu: copy: %w", err)
	}
	d.wrote(db)
	return nil
}

// wrote records a device-side write of b. A bound host array is not
// read back: the device copy is the newer one (dirty in the registry)
// until SyncHost, an eviction or another Bind of the array writes it back,
// so a decode step's cache writes stay on the device.
func (d *Device) wrote(b *Buffer) {
	d.reg.Written(b.s.id)
}

// sumOf hashes the device words of array a's values (not the padding).
func (d *Device) sumOf(a *tensor.Array, words []byte) uint64 {
	return maphash.Bytes(d.seed, words[:byteLen(a.DType(), a.Len())])
}

// stale reports whether a bound array is older than its device copy.
func (d *Device) stale(s *slot) bool {
	res, _, err := d.reg.Residency(s.id)
	return s.array != nil && err == nil && res == memory.OnDevice
}

// writeBack copies a stale bound array's device copy into it.
func (d *Device) writeBack(s *slot) error {
	if err := (*mover)(d).Download(s.id); err != nil {
		return err
	}
	d.reg.Downloaded(s.id)
	d.settle()
	return nil
}

// SyncHost writes every bound host array whose device copy is newer back
// to the array. Programs keep the state they assign (variables, caches,
// trained parameters) on the device between runs; call SyncHost before
// reading it on the host, e.g. through graph.Var.Value. Close does so too.
func (d *Device) SyncHost(ctx context.Context) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.check(); err != nil {
		return err
	}
	return d.syncHost(ctx)
}

func (d *Device) syncHost(ctx context.Context) error {
	for _, b := range d.bound {
		if err := ctx.Err(); err != nil {
			return err
		}
		if d.stale(b.s) {
			if err := d.writeBack(b.s); err != nil {
				return err
			}
		}
	}
	return d.takeFault()
}

// Sync submits every encoded launch and waits for the device.
func (d *Device) Sync(ctx context.Context) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.check(); err != nil {
		return err
	}
	faults, err := d.queueFaults()
	if err != nil {
		return err
	}
	if err := d.submit(); err != nil {
		return err
	}
	d.dev.Poll(true, nil)
	d.settle()
	if err := d.check(); err != nil {
		return err
	}
	if faults {
		if err := d.readFaults(); err != nil {
			return err
		}
	}
	if err := d.takeFault(); err != nil {
		return err
	}
	return ctx.Err()
}

// faultBytes is the size of the index-fault words.
const faultBytes = 16

// Fault kinds, the bits of fault word 0.
var faultKinds = []string{"gather", "scatter-add", "quantized gather"}

// queueFaults encodes a copy of the index-fault words to their staging
// buffer, and their reset, when a shader that sets them ran since the
// last check: the caller's next submit and wait then cover it, and
// readFaults maps the copy without another round trip.
func (d *Device) queueFaults() (bool, error) {
	if !d.flagged {
		return false, nil
	}
	enc, err := d.encoder()
	if err != nil {
		return false, err
	}
	if err := enc.CopyBufferToBuffer(d.fault, 0, d.faultStage, 0, faultBytes); err != nil {
		return false, fmt.Errorf("wgpu: fault readback: %w", err)
	}
	if err := enc.ClearBuffer(d.fault, 0, faultBytes); err != nil {
		return false, fmt.Errorf("wgpu: fault reset: %w", err)
	}
	d.flagged = false
	return true, nil
}

// readFaults maps the fault words queued by queueFaults (submitted by
// the caller) and records a fault for takeFault.
func (d *Device) readFaults() error {
	words, err := d.mapRead(d.faultStage, faultBytes)
	if err != nil {
		return err
	}
	w := unsafe.Slice((*uint32)(unsafe.Pointer(&words[0])), faultBytes/4)
	if w[0] != 0 && d.faultErr == nil {
		var kinds []string
		for i, k := range faultKinds {
			if w[0]&(1<<i) != 0 {
				kinds = append(kinds, k)
			}
		}
		d.faultErr = fmt.Errorf("%w: index %d outside [0, %d) in a %s (%d bad reads)", ErrIndex, int32(w[1]), w[2], strings.Join(kinds, " and a "), w[3])
	}
	return nil
}

// takeFault returns the recorded index fault, once.
func (d *Device) takeFault() error {
	err := d.faultErr
	d.faultErr = nil
	return err
}

// encoder returns the open command encoder, making one if needed.
func (d *Device) encoder() (*gpu.CommandEncoder, error) {
	if d.enc == nil {
		var err error
		if d.enc, err = d.dev.CreateCommandEncoder(nil); err != nil {
			return nil, fmt.Errorf("wgpu: command encoder: %w", err)
		}
	}
	return d.enc, nil
}

// submit sends the encoded commands to the queue; their pins stay held
// until settle sees the queue idle.
func (d *Device) submit() error {
	if d.enc == nil {
		return nil
	}
	enc := d.enc
	d.enc = nil
	cmd, err := enc.Finish(nil)
	enc.Release()
	if err != nil {
		return fmt.Errorf("wgpu: finish commands: %w", err)
	}
	d.queue.Submit(cmd)
	cmd.Release()
	d.flight = append(d.flight, d.pending...)
	d.pending = d.pending[:0]
	return nil
}

// settle releases the pins of submitted work. Submitted commands keep
// their buffers valid by themselves: the registry's Free waits for the
// queue before destroying device memory, and a write-back reads after
// every earlier command. Pins guard what is encoded but not submitted.
func (d *Device) settle() {
	if len(d.flight) > 0 {
		d.reg.Release(d.flight...)
		d.flight = d.flight[:0]
	}
}

// acquire makes buffers resident and pins them for the launch being
// encoded. When pins of earlier launches leave too little room, it waits
// for the queue and tries again.
func (d *Device) acquire(read, overwrite []memory.ID) error {
	err := d.reg.Acquire(read, overwrite)
	if errors.Is(err, memory.ErrBudget) && len(d.pending)+len(d.flight) > 0 {
		if err = d.submit(); err != nil {
			return err
		}
		d.dev.Poll(true, nil)
		d.settle()
		err = d.reg.Acquire(read, overwrite)
	}
	if err != nil {
		return err
	}
	d.pending = append(d.pending, read...)
	d.pending = append(d.pending, overwrite...)
	return nil
}

// readback copies device memory to the host through a staging buffer,
// waiting for every submitted command.
func (d *Device) readback(g *gpu.Buffer, size uint64) ([]byte, error) {
	if d.stagingSize < size {
		if d.staging != nil {
			d.staging.Destroy()
			d.staging.Release()
		}
		var err error
		d.staging, err = d.dev.CreateBuffer(&gpu.BufferDescriptor{Label: "readback", Usage: gpu.BufferUsage_MapRead | gpu.BufferUsage_CopyDst, Size: size})
		if err != nil {
			d.staging, d.stagingSize = nil, 0
			return nil, fmt.Errorf("wgpu: staging buffer of %d bytes: %w", size, err)
		}
		d.stagingSize = size
	}
	enc, err := d.encoder()
	if err != nil {
		return nil, err
	}
	if err := enc.CopyBufferToBuffer(g, 0, d.staging, 0, size); err != nil {
		return nil, fmt.Errorf("wgpu: readback copy: %w", err)
	}
	// The wait covers every index shader submitted so far: their fault
	// words come back with the same submission.
	faults, err := d.queueFaults()
	if err != nil {
		return nil, err
	}
	if err := d.submit(); err != nil {
		return nil, err
	}
	out, err := d.mapRead(d.staging, size)
	if err != nil {
		return nil, err
	}
	d.readBytes += int64(size)
	if faults {
		if err := d.readFaults(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// mapRead maps a submitted staging buffer, waiting for the queue, and
// copies its first size bytes out.
func (d *Device) mapRead(staging *gpu.Buffer, size uint64) ([]byte, error) {
	var status gpu.BufferMapAsyncStatus = 0xff
	if err := staging.MapAsync(gpu.MapMode_Read, 0, size, func(s gpu.BufferMapAsyncStatus) { status = s }); err != nil {
		return nil, fmt.Errorf("wgpu: map for readback: %w", err)
	}
	for status == 0xff {
		d.dev.Poll(true, nil)
		if err := d.check(); err != nil {
			return nil, err
		}
	}
	if status != gpu.BufferMapAsyncStatus_Success {
		return nil, fmt.Errorf("wgpu: map for readback: status %v", status)
	}
	out := make([]byte, size)
	copy(out, staging.GetMappedRange(0, uint(size)))
	if err := staging.Unmap(); err != nil {
		return nil, fmt.Errorf("wgpu: unmap: %w", err)
	}
	return out, nil
}

// mover moves bytes for the registry; the device's lock is held.
type mover Device

// Upload gives a slot device memory, with its host contents if asked. Only
// a bound array is kept as a host copy; other buffers drop theirs.
func (m *mover) Upload(id memory.ID, contents bool) (bool, error) {
	d := (*Device)(m)
	s := d.slots[id]
	if s == nil {
		return false, fmt.Errorf("%w: %d", memory.ErrUnknownBuffer, id)
	}
	g, err := d.dev.CreateBuffer(&gpu.BufferDescriptor{Usage: gpu.BufferUsage_Storage | gpu.BufferUsage_CopySrc | gpu.BufferUsage_CopyDst, Size: s.size})
	if err != nil {
		return false, fmt.Errorf("wgpu: buffer of %d bytes: %w", s.size, err)
	}
	s.g = g
	if contents && s.raw != nil {
		if err := d.submit(); err != nil {
			return false, err
		}
		// The queue takes whole words: the blocks' last partial word goes
		// separately, zero-padded.
		n := len(s.raw) &^ 3
		if n > 0 {
			if err := d.queue.WriteBuffer(g, 0, s.raw[:n]); err != nil {
				return false, fmt.Errorf("wgpu: upload: %w", err)
			}
		}
		if n < len(s.raw) {
			var tail [4]byte
			copy(tail[:], s.raw[n:])
			if err := d.queue.WriteBuffer(g, uint64(n), tail[:]); err != nil {
				return false, fmt.Errorf("wgpu: upload: %w", err)
			}
		}
		return true, nil
	}
	if contents {
		words := s.host
		if s.array != nil {
			if words, err = toWords(s.array); err != nil {
				return false, err
			}
		}
		if words != nil {
			if err := d.submit(); err != nil {
				return false, err
			}
			if err := d.queue.WriteBuffer(g, 0, words); err != nil {
				return false, fmt.Errorf("wgpu: upload: %w", err)
			}
		}
	}
	s.host = nil
	return s.array != nil, nil
}

// Download copies a slot's device memory into its host copy.
func (m *mover) Download(id memory.ID) error {
	d := (*Device)(m)
	s := d.slots[id]
	if s == nil || s.g == nil {
		return fmt.Errorf("%w: %d", memory.ErrUnknownBuffer, id)
	}
	words, err := d.readback(s.g, s.size)
	if err != nil {
		return err
	}
	if s.array != nil {
		s.sum = d.sumOf(s.array, words)
		return fromWords(s.array, words[:byteLen(s.array.DType(), s.array.Len())])
	}
	s.host = words
	return nil
}

// Free releases a slot's device memory after the queue has drained.
func (m *mover) Free(id memory.ID) {
	d := (*Device)(m)
	s := d.slots[id]
	if s == nil || s.g == nil {
		return
	}
	if d.submit() == nil {
		d.dev.Poll(true, nil)
	}
	s.g.Destroy()
	s.g.Release()
	s.g = nil
}

// toWords converts a host array to the device's 32-bit words.
func toWords(a *tensor.Array) ([]byte, error) {
	n := a.Len()
	out := make([]byte, max(n, 1)*4)
	w := unsafe.Slice((*uint32)(unsafe.Pointer(&out[0])), max(n, 1))
	switch a.DType() {
	case tensor.F32:
		for i, v := range a.Float32s() {
			w[i] = math.Float32bits(v)
		}
	case tensor.I32:
		for i, v := range a.Int32s() {
			w[i] = uint32(v)
		}
	case tensor.I64:
		for i, v := range a.Int64s() {
			if v != int64(int32(v)) {
				return nil, fmt.Errorf("wgpu: i64 value %d at %d does not fit the device's i32 storage", v, i)
			}
			w[i] = uint32(int32(v))
		}
	case tensor.Bool:
		for i, v := range a.Bools() {
			if v {
				w[i] = 1
			}
		}
	case tensor.F16, tensor.BF16:
		// Two to a word, little-endian: the bits as they lie in memory.
		h := a.Bits()
		size := (2*n + 3) &^ 3
		out = out[:max(size, 4)]
		clear(out)
		if n > 0 {
			copy(out, unsafe.Slice((*byte)(unsafe.Pointer(&h[0])), 2*n))
		}
		return out, nil
	default:
		_, err := elemType(a.DType())
		return nil, err
	}
	return out[:max(n, 1)*4], nil
}

// fromWords converts device words into a host array.
func fromWords(a *tensor.Array, b []byte) error {
	n := a.Len()
	if n == 0 {
		return nil
	}
	if len(b) < byteLen(a.DType(), n) {
		return fmt.Errorf("wgpu: %d bytes for %d elements", len(b), n)
	}
	if isHalf(a.DType()) {
		copy(unsafe.Slice((*byte)(unsafe.Pointer(&a.Bits()[0])), 2*n), b)
		return nil
	}
	w := unsafe.Slice((*uint32)(unsafe.Pointer(&b[0])), n)
	switch a.DType() {
	case tensor.F32:
		d := a.Float32s()
		for i := range d {
			d[i] = math.Float32frombits(w[i])
		}
	case tensor.I32:
		d := a.Int32s()
		for i := range d {
			d[i] = int32(w[i])
		}
	case tensor.I64:
		d := a.Int64s()
		for i := range d {
			d[i] = int64(int32(w[i]))
		}
	case tensor.Bool:
		d := a.Bools()
		for i := range d {
			d[i] = w[i] != 0
		}
	default:
		_, err := elemType(a.DType())
		return err
	}
	return nil
}
