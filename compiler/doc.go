// Package compiler holds Aether's flat SSA IR and the optimisation passes
// that run on it before fusion and memory planning.
//
// graph.Compile lowers the part of a graph that its outputs need into a
// Func: a list of Values, each an operation over earlier Values. Passes are
// small named types (Simplify, CSE, DCE, ConstFold, Layout); a Pipeline runs
// them to a fixed point and can print the IR before and after each pass.
package compiler
