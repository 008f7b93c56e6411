//go:build cgo

package wgpu_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aethertensor/aether/shaders"
)

// TestGoldenShadersCompile creates a pipeline for every golden shader of
// the fusion emitter: naga must accept what the emitter prints.
func TestGoldenShadersCompile(t *testing.T) {
	d := device(t)
	files, err := filepath.Glob("../../fusion/testdata/*.wgsl")
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden shaders found: %v", err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			src, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			// Inputs are the read-only storage bindings before "out".
			inputs := strings.Count(string(src), "var<storage, read>")
			if err := d.Compile(string(src), inputs); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestLibraryShadersCompile checks every library kernel for each element
// type it is instantiated with.
func TestLibraryShadersCompile(t *testing.T) {
	d := device(t)
	names := shaders.Names()
	if len(names) < 10 {
		t.Fatalf("only %d library shaders: %v", len(names), names)
	}
	for _, name := range names {
		for _, elem := range []string{"f32", "i32"} {
			src, err := shaders.Source(name, elem)
			if err != nil {
				t.Fatal(err)
			}
			if err := d.Validate(src); err != nil {
				t.Errorf("%s(%s): %v", name, elem, err)
			}
		}
	}
}
