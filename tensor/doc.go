// Package tensor holds the leaf types every layer of Aether shares: element
// types (DType), shapes (Shape) and dense host arrays (Array).
//
// An Array is a row-major block of host memory with a dtype and a shape. It
// is what users pass in as constants, parameters and feeds, and what a
// compiled Program hands back.
package tensor
