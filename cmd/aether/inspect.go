package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/aethertensor/aether/llm/gguf"
)

func init() {
	register(command{name: "inspect", summary: "print a GGUF file's header, metadata and tensor table", run: runInspect})
}

// Array values longer than these are summarised by their first items.
const (
	inspectTextItems = 8
	inspectJSONItems = 16
	inspectTextChars = 160 // longer strings are cut in text output
)

func runInspect(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("inspect", flag.ContinueOnError)
	fs.SetOutput(stderr)
	asJSON := fs.Bool("json", false, "print one JSON object instead of text")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: aether inspect FILE [--json]")
		fs.PrintDefaults()
	}
	// Accept flags before and after the file name.
	var files []string
	for {
		if err := fs.Parse(args); err != nil {
			if err == flag.ErrHelp {
				return err
			}
			return fmt.Errorf("%w: %v", errUsage, err)
		}
		if fs.NArg() == 0 {
			break
		}
		files = append(files, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if len(files) != 1 {
		fs.Usage()
		return fmt.Errorf("%w: want exactly one FILE, got %d", errUsage, len(files))
	}
	f, err := gguf.Open(files[0])
	if err != nil {
		return err
	}
	defer f.Close()
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(inspectReport(files[0], f))
	}
	return printInspect(stdout, files[0], f)
}

// inspectJSON is the --json document.
type inspectJSON struct {
	File        string          `json:"file"`
	Version     uint32          `json:"version"`
	Alignment   uint64          `json:"alignment"`
	DataOffset  int64           `json:"data_offset"`
	Size        int64           `json:"size"`
	KeyCount    int             `json:"key_count"`
	TensorCount int             `json:"tensor_count"`
	Metadata    []inspectKV     `json:"metadata"`
	Tensors     []inspectTensor `json:"tensors"`
}

type inspectKV struct {
	Key string `json:"key"`
	inspectValue
}

// inspectValue is a metadata value; arrays carry their length and at most
// inspectJSONItems items, with Truncated set when some were left out.
type inspectValue struct {
	Type      string `json:"type"`
	ElemType  string `json:"elem_type,omitempty"`
	Len       *int   `json:"len,omitempty"`
	Value     any    `json:"value"`
	Truncated bool   `json:"truncated,omitempty"`
}

type inspectTensor struct {
	Name   string   `json:"name"`
	Type   string   `json:"type"`
	Dims   []uint64 `json:"dims"`
	Offset uint64   `json:"offset"`
	Bytes  int      `json:"bytes"`
}

func inspectReport(path string, f *gguf.File) inspectJSON {
	r := inspectJSON{
		File: path, Version: f.Version, Alignment: f.Alignment, DataOffset: f.DataOffset, Size: f.Size(),
		KeyCount: f.Meta.Len(), TensorCount: len(f.Tensors),
		Metadata: []inspectKV{}, Tensors: []inspectTensor{},
	}
	for _, k := range f.Meta.Keys() {
		v, _ := f.Meta.Lookup(k)
		r.Metadata = append(r.Metadata, inspectKV{Key: k, inspectValue: jsonValue(v)})
	}
	for _, t := range f.Tensors {
		r.Tensors = append(r.Tensors, inspectTensor{Name: t.Name, Type: t.Type.String(), Dims: t.Dims, Offset: t.Offset, Bytes: len(t.Data)})
	}
	return r
}

func jsonValue(v gguf.Value) inspectValue {
	out := inspectValue{Type: v.Type.String()}
	if v.Type != gguf.TypeArray {
		out.Value = jsonScalar(v.V)
		return out
	}
	n := v.Len()
	out.ElemType = v.ElemType.String()
	out.Len = &n
	k := min(n, inspectJSONItems)
	out.Truncated = k < n
	items := make([]any, k)
	for i := range items {
		e := arrayItem(v, i)
		if ev, ok := e.(gguf.Value); ok {
			items[i] = jsonValue(ev)
		} else {
			items[i] = jsonScalar(e)
		}
	}
	out.Value = items
	return out
}

// jsonScalar makes floats JSON-safe: NaN and infinities become strings.
func jsonScalar(x any) any {
	var f float64
	switch v := x.(type) {
	case float32:
		f = float64(v)
	case float64:
		f = v
	default:
		return x
	}
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return strconv.FormatFloat(f, 'g', -1, 64)
	}
	return x
}

// arrayItem returns element i of an array value.
func arrayItem(v gguf.Value, i int) any {
	switch a := v.V.(type) {
	case []uint8:
		return a[i]
	case []int8:
		return a[i]
	case []uint16:
		return a[i]
	case []int16:
		return a[i]
	case []uint32:
		return a[i]
	case []int32:
		return a[i]
	case []uint64:
		return a[i]
	case []int64:
		return a[i]
	case []float32:
		return a[i]
	case []float64:
		return a[i]
	case []bool:
		return a[i]
	case []string:
		return a[i]
	case []gguf.Value:
		return a[i]
	}
	return nil
}

func printInspect(w io.Writer, path string, f *gguf.File) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "file:\t%s\n", path)
	fmt.Fprintf(tw, "version:\t%d\n", f.Version)
	fmt.Fprintf(tw, "alignment:\t%d\n", f.Alignment)
	fmt.Fprintf(tw, "data offset:\t%d\n", f.DataOffset)
	fmt.Fprintf(tw, "size:\t%d\n", f.Size())
	fmt.Fprintf(tw, "metadata:\t%d keys\n", f.Meta.Len())
	fmt.Fprintf(tw, "tensors:\t%d\n", len(f.Tensors))
	if err := tw.Flush(); err != nil {
		return err
	}

	fmt.Fprintln(w, "\nmetadata:")
	tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, k := range f.Meta.Keys() {
		v, _ := f.Meta.Lookup(k)
		typ := v.Type.String()
		if v.Type == gguf.TypeArray {
			typ = fmt.Sprintf("[%d]%s", v.Len(), v.ElemType)
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", k, typ, textValue(v))
	}
	if err := tw.Flush(); err != nil {
		return err
	}

	fmt.Fprintln(w, "\ntensors:")
	tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "  NAME\tTYPE\tDIMS\tOFFSET\tBYTES\n")
	var total int
	for _, t := range f.Tensors {
		dims := make([]string, len(t.Dims))
		for i, d := range t.Dims {
			dims[i] = strconv.FormatUint(d, 10)
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%d\t%d\n", t.Name, t.Type, strings.Join(dims, "×"), t.Offset, len(t.Data))
		total += len(t.Data)
	}
	fmt.Fprintf(tw, "  (total)\t\t\t\t%d\n", total)
	return tw.Flush()
}

// textValue formats a value on one line, summarising long arrays and
// cutting long strings.
func textValue(v gguf.Value) string {
	if v.Type != gguf.TypeArray {
		return textScalar(v.V)
	}
	n := v.Len()
	k := min(n, inspectTextItems)
	parts := make([]string, k)
	for i := range parts {
		e := arrayItem(v, i)
		if ev, ok := e.(gguf.Value); ok {
			parts[i] = textValue(ev)
		} else {
			parts[i] = textScalar(e)
		}
	}
	s := "[" + strings.Join(parts, " ")
	if k < n {
		s += fmt.Sprintf(" … %d more", n-k)
	}
	return s + "]"
}

func textScalar(x any) string {
	s, ok := x.(string)
	if !ok {
		return fmt.Sprint(x)
	}
	r := []rune(s)
	if len(r) > inspectTextChars {
		return strconv.Quote(string(r[:inspectTextChars])) + fmt.Sprintf("… (%d bytes)", len(s))
	}
	return strconv.Quote(s)
}
