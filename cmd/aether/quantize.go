package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"

	"github.com/aethertensor/aether/llm/gguf"
	"github.com/aethertensor/aether/llm/quant"
)

func init() {
	register(command{name: "quantize", summary: "convert a GGUF model's weights to another tensor type", run: runQuantize})
}

// quantTarget is one target of "aether quantize": the tensor type for the
// weights and the llama.cpp file type (llama_ftype) recorded in
// general.file_type. Every target is "pure": all eligible weights get the
// same type, as with llama-quantize --pure.
type quantTarget struct {
	typ   quant.Type
	ftype uint32
}

// quantTargets is keyed by the names llama-quantize accepts. The plain K
// names are accepted as aliases of their _S variants, which is what a pure
// K-quant file is.
var quantTargets = map[string]quantTarget{
	"F32":    {quant.F32, 0},
	"F16":    {quant.F16, 1},
	"Q4_0":   {quant.Q4_0, 2},
	"Q4_1":   {quant.Q4_1, 3},
	"Q8_0":   {quant.Q8_0, 7},
	"Q5_0":   {quant.Q5_0, 8},
	"Q5_1":   {quant.Q5_1, 9},
	"Q2_K":   {quant.Q2_K, 10},
	"Q3_K_S": {quant.Q3_K, 11},
	"Q3_K":   {quant.Q3_K, 11},
	"Q4_K_S": {quant.Q4_K, 14},
	"Q4_K":   {quant.Q4_K, 14},
	"Q5_K_S": {quant.Q5_K, 16},
	"Q5_K":   {quant.Q5_K, 16},
	"Q6_K":   {quant.Q6_K, 18},
	"IQ4_NL": {quant.IQ4_NL, 25},
	"IQ4_XS": {quant.IQ4_XS, 30},
	"BF16":   {quant.BF16, 32},
}

func quantTargetNames() string {
	names := make([]string, 0, len(quantTargets))
	for n := range quantTargets {
		names = append(names, n)
	}
	sort.Strings(names)
	return strings.Join(names, " ")
}

func runQuantize(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("quantize", flag.ContinueOnError)
	fs.SetOutput(stderr)
	requant := fs.Bool("allow-requantize", false, "allow weights that are already quantised (they are dequantised first, losing precision twice)")
	threads := fs.Int("threads", runtime.GOMAXPROCS(0), "goroutines quantising rows in parallel")
	quiet := fs.Bool("q", false, "print only the summary line")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: aether quantize [flags] IN.gguf OUT.gguf TYPE\n\n"+
			"Quantises every 2-D weight tensor (name ending in \"weight\") to TYPE, like\n"+
			"llama-quantize --pure; 1-D tensors such as norms keep their type. A weight\n"+
			"whose rows are not a whole number of TYPE's blocks falls back to the type\n"+
			"llama.cpp uses. TYPE is one of: %s\n\nflags:\n", quantTargetNames())
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	if fs.NArg() != 3 {
		fs.Usage()
		return fmt.Errorf("%w: want IN OUT TYPE, got %d arguments", errUsage, fs.NArg())
	}
	in, out, typeName := fs.Arg(0), fs.Arg(1), strings.ToUpper(fs.Arg(2))
	target, ok := quantTargets[typeName]
	if !ok {
		return fmt.Errorf("%w: unknown type %q (want one of: %s)", errUsage, fs.Arg(2), quantTargetNames())
	}
	if *threads < 1 {
		return fmt.Errorf("%w: -threads must be at least 1", errUsage)
	}
	if quantAbsPath(in) == quantAbsPath(out) {
		return fmt.Errorf("%w: input and output are the same file", errUsage)
	}

	src, err := gguf.Open(in)
	if err != nil {
		return err
	}
	defer src.Close()

	b := gguf.NewBuilder()
	b.Version = src.Version
	for _, k := range src.Meta.Keys() {
		v, _ := src.Meta.Lookup(k)
		if err := b.Meta.Set(k, v); err != nil {
			return err
		}
	}
	if err := quantSetU32(&b.Meta, "general.quantization_version", 2); err != nil {
		return err
	}
	if err := quantSetU32(&b.Meta, "general.file_type", target.ftype); err != nil {
		return err
	}

	var inBytes, outBytes int64
	for i := range src.Tensors {
		if err := ctx.Err(); err != nil {
			return err
		}
		t := &src.Tensors[i]
		typ, why := quantTensorTarget(t, target.typ)
		data := t.Data
		if typ != t.Type {
			if !*requant && !quantIsFloat(t.Type) {
				return fmt.Errorf("tensor %q is already %s; pass -allow-requantize to convert it", t.Name, t.Type)
			}
			data, err = quantConvert(t, typ, *threads)
			if err != nil {
				return err
			}
		}
		if err := b.AddTensor(t.Name, typ, t.Dims, data); err != nil {
			return err
		}
		inBytes += int64(len(t.Data))
		outBytes += int64(len(data))
		if !*quiet {
			fmt.Fprintf(stdout, "%-32s %-14s %6s -> %-6s%s\n", t.Name, quantDims(t.Dims), t.Type, typ, why)
		}
	}

	if err := quantWriteAtomic(out, b); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s: %d tensors, %.2f MiB -> %.2f MiB (%s, file type %d)\n",
		out, len(src.Tensors), float64(inBytes)/(1<<20), float64(outBytes)/(1<<20), typeName, target.ftype)
	return nil
}

// quantTensorTarget returns the type tensor t gets and, when that is not simply
// want, a note saying why. Only tensors whose name ends in "weight" with at
// least two dimensions are converted (ggml_n_dims counts trailing size-1
// dimensions out).
func quantTensorTarget(t *gguf.TensorInfo, want quant.Type) (quant.Type, string) {
	nd := len(t.Dims)
	for nd > 1 && t.Dims[nd-1] == 1 {
		nd--
	}
	if !strings.HasSuffix(t.Name, "weight") || nd < 2 {
		return t.Type, ""
	}
	typ := want
	for {
		l, err := quant.LayoutOf(typ)
		if err != nil || t.Dims[0]%uint64(l.BlockSize) == 0 {
			break
		}
		typ = quantFallback(typ)
	}
	if typ != want {
		return typ, fmt.Sprintf(" (row of %d is not a multiple of the %s block)", t.Dims[0], want)
	}
	return typ, ""
}

// quantFallback is llama.cpp's substitute for a type whose block does not
// divide a tensor's rows.
func quantFallback(t quant.Type) quant.Type {
	switch t {
	case quant.Q2_K, quant.Q3_K, quant.IQ4_XS:
		return quant.IQ4_NL
	case quant.Q4_K:
		return quant.Q5_0
	case quant.Q5_K:
		return quant.Q5_1
	case quant.Q6_K:
		return quant.Q8_0
	}
	return quant.F16
}

func quantIsFloat(t quant.Type) bool {
	return t == quant.F32 || t == quant.F16 || t == quant.BF16
}

// quantConvert dequantises t to float32 and quantises it to typ, splitting
// the rows over up to threads goroutines (rows are independent blocks).
func quantConvert(t *gguf.TensorInfo, typ quant.Type, threads int) ([]byte, error) {
	from, err := quant.TraitsOf(t.Type)
	if err != nil {
		return nil, fmt.Errorf("tensor %q: %w", t.Name, err)
	}
	to, err := quant.TraitsOf(typ)
	if err != nil {
		return nil, fmt.Errorf("tensor %q: %w", t.Name, err)
	}
	if !to.CanQuantize() {
		return nil, fmt.Errorf("tensor %q: %w: cannot write %s", t.Name, quant.ErrUnsupported, typ)
	}
	ne0 := t.Dims[0]
	n := t.NumElements()
	rows := int(n / ne0)
	inRow, err := quant.RowBytes(t.Type, ne0)
	if err != nil {
		return nil, fmt.Errorf("tensor %q: %w", t.Name, err)
	}
	outRow, err := quant.RowBytes(typ, ne0)
	if err != nil {
		return nil, fmt.Errorf("tensor %q: %w", t.Name, err)
	}
	if uint64(len(t.Data)) != inRow*uint64(rows) {
		return nil, fmt.Errorf("tensor %q: %d bytes of data, want %d", t.Name, len(t.Data), inRow*uint64(rows))
	}
	dst := make([]byte, outRow*uint64(rows))

	workers := min(threads, rows)
	per := (rows + workers - 1) / workers
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		r0, r1 := w*per, min(rows, (w+1)*per)
		if r0 >= r1 {
			break
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]float32, ne0)
			for r := r0; r < r1; r++ {
				in := t.Data[uint64(r)*inRow : uint64(r+1)*inRow]
				out := dst[uint64(r)*outRow : uint64(r+1)*outRow]
				if err := from.Dequantize(buf, in); err != nil {
					errs[w] = err
					return
				}
				if err := to.Quantize(out, buf); err != nil {
					errs[w] = err
					return
				}
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("tensor %q: %w", t.Name, err)
	}
	return dst, nil
}

func quantSetU32(m *gguf.Metadata, key string, v uint32) error {
	val, err := gguf.NewValue(v)
	if err != nil {
		return err
	}
	return m.Set(key, val)
}

// quantWriteAtomic writes b to a temporary file beside path and renames it
// into place, so a failed run never leaves a truncated model behind.
func quantWriteAtomic(path string, b *gguf.Builder) error {
	f, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	_, err = b.WriteTo(f)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
	}
	return err
}

func quantDims(d []uint64) string {
	s := make([]string, len(d))
	for i, v := range d {
		s[i] = fmt.Sprint(v)
	}
	return "[" + strings.Join(s, ", ") + "]"
}

func quantAbsPath(p string) string {
	a, err := filepath.Abs(p)
	if err != nil {
		return p
	}
	return a
}
