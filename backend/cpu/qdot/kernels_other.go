//go:build !amd64 || noasm

package qdot

// archLevels returns no assembly levels: this build has only the generic
// kernels.
func archLevels() []*kernelSet { return nil }
