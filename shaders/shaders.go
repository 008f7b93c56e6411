package shaders

import (
	"embed"
	"errors"
	"fmt"
	"sort"
	"strings"
)

//go:embed *.wgsl
var files embed.FS

// ErrUnknown is wrapped by Source for a kernel name with no shader.
var ErrUnknown = errors.New("shaders: unknown kernel")

// MetaWords is the number of u32 words in every kernel's uniform block.
const MetaWords = 64

// prelude declares the uniform block and its accessor.
const prelude = `@group(0) @binding(0) var<uniform> params: array<vec4<u32>, 16>;

fn m(i: u32) -> u32 {
  return params[i / 4u][i % 4u];
}

`

// Names lists the library kernels, sorted (fragments that only other
// kernels include, having no entry point, are left out).
func Names() []string {
	ents, _ := files.ReadDir(".")
	var out []string
	for _, e := range ents {
		if b, _ := files.ReadFile(e.Name()); !strings.Contains(string(b), "@compute") {
			continue
		}
		out = append(out, strings.TrimSuffix(e.Name(), ".wgsl"))
	}
	sort.Strings(out)
	return out
}

// Source returns the complete WGSL text of a library kernel with the
// element type alias T set to elem ("f32", "i32" or "u32"); elem is
// ignored by kernels that do not use T.
func Source(name, elem string) (string, error) {
	b, err := files.ReadFile(name + ".wgsl")
	if err != nil {
		return "", fmt.Errorf("%w: %q", ErrUnknown, name)
	}
	switch elem {
	case "f32", "i32", "u32":
	default:
		return "", fmt.Errorf("shaders: element type %q is not f32, i32 or u32", elem)
	}
	src := "alias T = " + elem + ";\n" + prelude + string(b)
	// Leading lines "// include: name" append fragments of helper
	// functions (WGSL resolves module-scope names in any order).
	for _, line := range strings.Split(string(b), "\n") {
		inc, ok := strings.CutPrefix(line, "// include: ")
		if !ok {
			break
		}
		frag, err := files.ReadFile(strings.TrimSpace(inc) + ".wgsl")
		if err != nil {
			return "", fmt.Errorf("%w: %q included by %q", ErrUnknown, inc, name)
		}
		src += "\n" + string(frag)
	}
	return src, nil
}
