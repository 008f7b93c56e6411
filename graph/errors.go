package graph

import (
	"errors"
	"fmt"
	"runtime"
	"strings"
)

// Sentinel errors, wrapped by every error the package returns.
var (
	ErrShape  = errors.New("graph: bad shape")
	ErrDType  = errors.New("graph: bad dtype")
	ErrArg    = errors.New("graph: bad argument")
	ErrTensor = errors.New("graph: invalid tensor")
	ErrFeed   = errors.New("graph: bad feed")
)

// OpError is a graph-building mistake: the operation, where the user called
// it, and what was wrong.
type OpError struct {
	Op   string // operation name, e.g. "matmul"
	Site string // file:line of the user's call
	Err  error
}

// Error says what went wrong, in which operation and where.
func (e *OpError) Error() string {
	return fmt.Sprintf("graph: %s at %s: %s", e.Op, e.Site, strings.TrimPrefix(e.Err.Error(), "graph: "))
}

// Unwrap returns the underlying error, such as ErrShape.
func (e *OpError) Unwrap() error { return e.Err }

// internal lists the packages whose frames are skipped when looking for the
// user's call site; their test files still count as user code.
var internal = []string{
	"github.com/aethertensor/aether/graph.",
	"github.com/aethertensor/aether/autograd.",
	"github.com/aethertensor/aether/optim.",
}

// callSite returns the file:line of the first caller outside this module's
// graph-building packages.
func callSite() string {
	var pcs [32]uintptr
	n := runtime.Callers(3, pcs[:])
	frames := runtime.CallersFrames(pcs[:n])
	for {
		f, more := frames.Next()
		inside := false
		for _, p := range internal {
			if strings.HasPrefix(f.Function, p) && !strings.HasSuffix(f.File, "_test.go") {
				inside = true
			}
		}
		if !inside {
			return fmt.Sprintf("%s:%d", trimPath(f.File), f.Line)
		}
		if !more {
			return "unknown"
		}
	}
}

func trimPath(p string) string {
	if i := strings.LastIndex(p, "/"); i >= 0 {
		if j := strings.LastIndex(p[:i], "/"); j >= 0 {
			return p[j+1:]
		}
	}
	return p
}

// errorf wraps a sentinel with a formatted message.
func errorf(sentinel error, format string, args ...any) error {
	return fmt.Errorf("%w: %s", sentinel, fmt.Sprintf(format, args...))
}
