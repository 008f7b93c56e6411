package cpu

import (
	"unsafe"

	"github.com/aethertensor/aether/internal/asm/fvm"
	"github.com/aethertensor/aether/kernel"
	"github.com/aethertensor/aether/op"
	"github.com/aethertensor/aether/tensor"
	"github.com/klauspost/cpuid/v2"
)

// vmRun is the register-level interpreter this CPU runs (package fvm:
// AVX-512, else AVX2; nil without either) and vmBlock its block length.
var vmRun, vmBlock = pickVM()

// useVM selects the register-level executor for float32 kernels; tests
// turn it off to compare.
var useVM = vmRun != nil

func pickVM() (func(prog []uint32, ptrs []uintptr, n int) int, int) {
	switch {
	case fvm.Available:
		return fvm.Run, fvm.Block
	case fvm.Available2:
		return fvm.Run2, fvm.Block2
	}
	return nil, 0
}

// ntBytes is the output size from which a kernel stores with
// non-temporal writes: an output larger than the last-level cache would
// only evict the inputs, and skipping the read-for-ownership saves a
// third of the memory traffic.
var ntBytes = max(cpuid.CPU.Cache.L3, 8<<20)

// vmProg is a float32 kernel compiled for the fvm interpreters: each chain of
// operations runs in the accumulator registers, and only values used
// again later are spilled to block-sized temporaries.
//
// The pointer table is laid out as: the output, then one entry per Load
// node that streams (contiguous along the row), then one block-sized fill
// per Const or per-row broadcast Load, then the temporaries.
type vmProg struct {
	prog, progNT []uint32
	streams      []int // Load nodes that stream, by table slot 1..
	fills        []int // Const and broadcast Load nodes, by fill index
	temps        int
}

// vmUnary and vmBinary map operations to opcodes; a binary operation's
// second entry is its form with the operands swapped (acc is the right
// operand).
var (
	vmUnary = map[op.Code]uint8{
		op.Neg: fvm.Neg, op.Abs: fvm.Abs, op.Relu: fvm.Relu, op.Sqrt: fvm.Sqrt,
		op.Rsqrt: fvm.Rsqrt, op.Recip: fvm.Recip, op.Exp: fvm.Exp, op.Sigmoid: fvm.Sigmoid,
	}
	vmBinary = map[op.Code][2]uint8{
		op.Add: {fvm.Add, fvm.Add}, op.Mul: {fvm.Mul, fvm.Mul},
		op.Sub: {fvm.Sub, fvm.RSub}, op.Div: {fvm.Div, fvm.RDiv},
		op.Maximum: {fvm.Max, fvm.RMax}, op.Minimum: {fvm.Min, fvm.RMin},
	}
)

// compileVM returns the fvm program of p, or nil when the kernel has a
// node fvm does not run (another dtype, an operation without an opcode, a
// strided load) or rows too short to fill a block.
func compileVM(p *fusedPlan) *vmProg {
	nodes := p.k.Nodes
	last := len(nodes) - 1
	if p.inner < min(fvm.Block, fvm.Block2) || nodes[last].Kind != kernel.Apply {
		return nil
	}
	v := &vmProg{}
	loc := make([]int, len(nodes)) // table slot, -1 while only in acc
	stream := make([]bool, len(nodes))
	uses := make([]int, len(nodes))
	lastUse := make([]int, len(nodes))
	for i, n := range nodes {
		// Half values are loads widened by their one use, a Cast; the
		// rest is float32.
		if n.DType != tensor.F32 && !(isHalf(n.DType) && n.Kind == kernel.Load) {
			return nil
		}
		if n.Kind == kernel.Apply && isHalf(nodes[n.Args[0]].DType) && n.Op != op.Cast {
			return nil
		}
		loc[i] = -1
		for _, a := range n.Args {
			uses[a]++
			lastUse[a] = i
		}
		switch n.Kind {
		case kernel.Load:
			switch st := p.strides[i]; st[len(st)-1] {
			case 1:
				v.streams = append(v.streams, i)
				loc[i], stream[i] = len(v.streams), true
			case 0:
				v.fills = append(v.fills, i)
			default:
				return nil
			}
		case kernel.Const:
			v.fills = append(v.fills, i)
		case kernel.Apply:
			if _, ok := vmUnary[n.Op]; ok || n.Op == op.Cast && isHalf(nodes[n.Args[0]].DType) {
				continue
			}
			if _, ok := vmBinary[n.Op]; !ok {
				return nil
			}
		}
	}
	for f, i := range v.fills {
		loc[i] = 1 + len(v.streams) + f
	}
	tempBase := 1 + len(v.streams) + len(v.fills)
	var free []int
	acc := -1
	emit := func(opc uint8, operand int) {
		slot := 0
		if operand >= 0 {
			slot = loc[operand]
		}
		w := fvm.Instr(opc, slot, operand >= 0 && stream[operand])
		if operand >= 0 && isHalf(nodes[operand].DType) && stream[operand] {
			w |= fvm.Half
		}
		v.prog = append(v.prog, w)
	}
	for i, n := range nodes {
		if n.Kind != kernel.Apply {
			continue
		}
		if n.Op == op.Cast {
			// Widen a half load: from its stream, or from the fill that
			// holds a broadcast one already widened.
			a := n.Args[0]
			switch {
			case !stream[a]:
				emit(fvm.Load, a)
			case nodes[a].DType == tensor.BF16:
				emit(fvm.LoadBF16, a)
			default:
				emit(fvm.LoadF16, a)
			}
		} else if opc, ok := vmUnary[n.Op]; ok {
			a := n.Args[0]
			if acc != a {
				emit(fvm.Load, a)
			}
			emit(opc, -1)
		} else {
			forms := vmBinary[n.Op]
			a, b := n.Args[0], n.Args[1]
			switch {
			case acc == a && loc[b] >= 0:
				emit(forms[0], b)
			case acc == b && loc[a] >= 0:
				emit(forms[1], a)
			default:
				emit(fvm.Load, a)
				emit(forms[0], b)
			}
		}
		acc = i
		// Release the temporaries of values read for the last time.
		for _, a := range n.Args {
			if lastUse[a] == i && loc[a] >= tempBase {
				free = append(free, loc[a])
				loc[a] = -2 // dead
			}
		}
		if i == last {
			break
		}
		// Keep the value only in acc when its one use is the next
		// operation; otherwise spill it to a temporary.
		next := i + 1
		for next < len(nodes) && nodes[next].Kind != kernel.Apply {
			next++
		}
		if uses[i] == 0 || (uses[i] == 1 && lastUse[i] == next) {
			continue
		}
		if len(free) > 0 {
			loc[i], free = free[len(free)-1], free[:len(free)-1]
		} else {
			loc[i] = tempBase + v.temps
			v.temps++
		}
		emit(fvm.Store, i)
	}
	v.progNT = append([]uint32(nil), v.prog...)
	v.prog = append(v.prog, fvm.Instr(fvm.Store, 0, true))
	v.progNT = append(v.progNT, fvm.Instr(fvm.StoreNT, 0, true))
	return v
}

// vmScratch is one worker's pointer table and block buffers.
type vmScratch struct {
	ptrs  []uintptr
	mem   []float32 // fills then temporaries, fvm.Block each (the longer block), 64-byte aligned
	value []float32 // the value each fill holds now
}

func newVMScratch(p *fusedPlan) *vmScratch {
	v := p.vm
	n := len(v.fills) + v.temps
	s := &vmScratch{ptrs: make([]uintptr, 1+len(v.streams)+n), value: make([]float32, len(v.fills))}
	raw := make([]float32, n*fvm.Block+16)
	skip := int((64 - uintptr(unsafe.Pointer(&raw[0]))%64) % 64 / 4)
	s.mem = raw[skip : skip+n*fvm.Block]
	for f := range n {
		s.ptrs[1+len(v.streams)+f] = uintptr(unsafe.Pointer(&s.mem[f*fvm.Block]))
	}
	for f, i := range v.fills {
		if p.k.Nodes[i].Kind == kernel.Const {
			s.fill(f, p.consts[i].f32[0])
		}
	}
	return s
}

// fill broadcasts x into fill f's block unless it already holds it.
func (s *vmScratch) fill(f int, x float32) {
	b := s.mem[f*fvm.Block : (f+1)*fvm.Block]
	if s.value[f] == x && b[0] == x && x == x {
		return
	}
	for i := range b {
		b[i] = x
	}
	s.value[f] = x
}

// chunkVM runs the leading whole blocks of elements [j0, j0+n) of one row
// through fvm and returns how many it did.
func (r *fusedRun) chunkVM(s *scratch, row, j0, n int) int {
	p, v, vs := r.p, r.p.vm, s.vm
	r.setRow(s, row)
	for k, i := range v.streams {
		nd := p.k.Nodes[i]
		at := r.loadBase(s, i, j0)
		if isHalf(nd.DType) {
			vs.ptrs[1+k] = uintptr(unsafe.Pointer(&r.in[nd.Input].Bits()[at]))
		} else {
			vs.ptrs[1+k] = uintptr(unsafe.Pointer(&r.in[nd.Input].Float32s()[at]))
		}
	}
	for f, i := range v.fills {
		nd := p.k.Nodes[i]
		if nd.Kind != kernel.Load {
			continue
		}
		in, at := r.in[nd.Input], r.loadBase(s, i, j0)
		switch nd.DType {
		case tensor.F16:
			vs.fill(f, tensor.F16ToF32(in.Bits()[at]))
		case tensor.BF16:
			vs.fill(f, tensor.BF16ToF32(in.Bits()[at]))
		default:
			vs.fill(f, in.Float32s()[at])
		}
	}
	out := uintptr(unsafe.Pointer(&r.out.Float32s()[row*p.inner+j0]))
	vs.ptrs[0] = out
	prog := v.prog
	if r.nt && out%64 == 0 {
		prog = v.progNT
	}
	// Leave the chunked path a tail of 0 or at least 32 elements: it runs
	// shorter slices in Go, and a Go exp differs from the vector one in
	// the last bit, so the split must not move elements between them.
	m := n - n%vmBlock
	if t := n - m; t > 0 && t < 32 {
		m -= vmBlock
	}
	if m <= 0 {
		return 0
	}
	return vmRun(prog, vs.ptrs, m)
}

// loadBase is the element offset Load node i reads for element j0 of the
// row whose index is in s.idx.
func (r *fusedRun) loadBase(s *scratch, i, j0 int) int {
	st := r.p.strides[i]
	base := r.p.k.Nodes[i].Offset + j0*st[len(st)-1]
	for a := 0; a < len(st)-1; a++ {
		base += s.idx[a] * st[a]
	}
	return base
}
