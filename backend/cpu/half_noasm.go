//go:build !amd64 || noasm

package cpu

// halfAsm is false: no F16C loops in this build.
const halfAsm = false

func widenF16(y []float32, x []uint16) int { return 0 }

func narrowF16(y []uint16, x []float32) int { return 0 }
