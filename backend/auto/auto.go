// Package auto chooses the device programs run on: WebGPU when an adapter
// exists, else the CPU.
//
// The AETHER_DEVICE environment variable forces a choice ("cpu" or
// "wgpu"); AETHER_WGPU_ADAPTER picks a WebGPU adapter by a substring of its
// name. Package backend cannot make this choice itself: it must not import
// the backends.
package auto

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"

	"github.com/aethertensor/aether/backend"
	"github.com/aethertensor/aether/backend/cpu"
	"github.com/aethertensor/aether/backend/wgpu"
)

// ErrDevice is wrapped by errors for an unknown or unusable forced device.
var ErrDevice = errors.New("auto: device")

var (
	once   sync.Once
	dev    backend.Device
	devErr error
)

// Default returns the process's default device, chosen once: the one
// AETHER_DEVICE names, else WebGPU when an adapter opens, else the CPU.
// A forced WebGPU device that cannot open is an error, not a fallback.
func Default() (backend.Device, error) {
	once.Do(func() { dev, devErr = Choose(os.Getenv("AETHER_DEVICE")) })
	return dev, devErr
}

// Choose returns the device named by want ("cpu", "wgpu", or "" for the
// automatic choice). It opens a new WebGPU device each call.
func Choose(want string) (backend.Device, error) {
	switch strings.ToLower(strings.TrimSpace(want)) {
	case "cpu":
		return cpu.New(), nil
	case "wgpu", "webgpu", "gpu":
		d, err := wgpu.New()
		if err != nil {
			return nil, fmt.Errorf("%w: AETHER_DEVICE=%s: %w", ErrDevice, want, err)
		}
		return d, nil
	case "":
		if d, err := wgpu.New(); err == nil {
			return d, nil
		}
		return cpu.New(), nil
	}
	return nil, fmt.Errorf("%w: unknown device %q (want cpu or wgpu)", ErrDevice, want)
}
