// Package autograd adds reverse-mode gradients to a graph.
//
// Backward and Grad record the vector-Jacobian products of every operation
// between the inputs and the output as ordinary graph operations, in the
// same graph. Gradients are therefore compiled, fused and run like any other
// tensor, and can themselves be differentiated (higher-order derivatives).
//
// GradCheck compares those gradients with central finite differences in
// float64, for use in users' own test suites.
package autograd
