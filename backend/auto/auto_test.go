package auto_test

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/aethertensor/aether/backend/auto"
	"github.com/aethertensor/aether/backend/wgpu"
)

func TestChoose(t *testing.T) {
	cases := []struct {
		want    string
		name    string // prefix of the device name; "" when an error is expected
		needGPU bool
	}{
		{"cpu", "cpu", false},
		{" CPU ", "cpu", false},
		{"tpu", "", false},
		{"wgpu", "wgpu:", true},
		{"", "", true}, // automatic: WebGPU when an adapter opens
	}
	_, gpuErr := wgpu.New()
	for _, c := range cases {
		t.Run(fmt.Sprintf("%q", c.want), func(t *testing.T) {
			d, err := auto.Choose(c.want)
			switch {
			case c.needGPU && gpuErr != nil:
				if c.want == "" {
					if err != nil || d.Name() != "cpu" {
						t.Fatalf("without an adapter: %v, %v; want the cpu", d, err)
					}
					return
				}
				if !errors.Is(err, auto.ErrDevice) {
					t.Fatalf("forced wgpu without an adapter: %v, want ErrDevice", err)
				}
			case c.want == "":
				if err != nil || !strings.HasPrefix(d.Name(), "wgpu:") {
					t.Fatalf("automatic choice with an adapter: %v, %v", d, err)
				}
			case c.name == "":
				if !errors.Is(err, auto.ErrDevice) {
					t.Fatalf("got %v, %v; want ErrDevice", d, err)
				}
			default:
				if err != nil || !strings.HasPrefix(d.Name(), c.name) {
					t.Fatalf("got %v, %v; want %s", d, err, c.name)
				}
			}
		})
	}
	if gpuErr != nil && os.Getenv("CI") == "true" {
		t.Fatalf("CI=true needs a WebGPU adapter: %v", gpuErr)
	}
}

func ExampleChoose() {
	d, err := auto.Choose("cpu") // as AETHER_DEVICE=cpu does for Default
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(d.Name())
	// Output: cpu
}
