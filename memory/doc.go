// Package memory plans where a compiled program's buffers live.
//
// Liveness finds, for every value of a schedule, the steps between its
// definition and its last use. PlanArena packs the values into one arena
// with first-fit-decreasing placement, so values that are never live at the
// same time share bytes. Values may be merged before planning: an
// elementwise step may write over an operand that dies at that step, and a
// reshape is only a new view of its operand's bytes.
package memory
