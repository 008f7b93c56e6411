package model

import "errors"

// Sentinel errors; test for them with errors.Is.
var (
	// ErrArch is wrapped when the file's architecture is not supported.
	ErrArch = errors.New("model: unsupported architecture")
	// ErrWeights is wrapped when a tensor is missing or has the wrong
	// shape or type.
	ErrWeights = errors.New("model: bad weights")
	// ErrContext is wrapped when tokens would go past the context length.
	ErrContext = errors.New("model: context length exceeded")
	// ErrInput is wrapped for invalid arguments such as out-of-range token
	// ids or an empty token list.
	ErrInput = errors.New("model: invalid input")
)
