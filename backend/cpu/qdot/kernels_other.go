//go:build !amd64 || noasm

package qdot

// archLevels returns no assembly levels: this build has only the generic
// kernels.
func archLevels() []*kernelSet { return nil }

// memSum reads nothing in this build: the MemRead benchmark falls back to
// its Go loop.
func memSum(b []byte) (uint64, int) { return 0, 0 }
