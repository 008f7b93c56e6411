package compiler

import (
	"fmt"
	"io"
)

// Pass is one transformation of a Func. Run returns the new Func (which may
// be f itself) and whether anything changed. A pass never changes what the
// outputs compute.
type Pass interface {
	Name() string
	Run(f *Func) (*Func, bool, error)
}

// Pipeline runs its passes in order, repeating the sequence until no pass
// changes the Func.
type Pipeline struct {
	Passes []Pass
	// MaxRounds caps the repetitions (default 16); not converging is an
	// error, since it means two rules undo each other.
	MaxRounds int
	// Debug, when set, receives the IR before and after each pass that
	// changed it, with value counts.
	Debug io.Writer
	// Verify runs Func.Verify after every pass.
	Verify bool
}

// Run optimises f and returns the result.
func (p Pipeline) Run(f *Func) (*Func, error) {
	rounds := p.MaxRounds
	if rounds == 0 {
		rounds = 16
	}
	if p.Debug != nil {
		fmt.Fprintf(p.Debug, "== input: %d values\n", len(f.Values))
		f.Print(p.Debug)
	}
	for r := 0; r < rounds; r++ {
		any := false
		for _, pass := range p.Passes {
			before := len(f.Values)
			g, changed, err := pass.Run(f)
			if err != nil {
				return nil, fmt.Errorf("compiler: pass %s: %w", pass.Name(), err)
			}
			if p.Verify {
				if err := g.Verify(); err != nil {
					return nil, fmt.Errorf("compiler: after pass %s: %w", pass.Name(), err)
				}
			}
			if changed && p.Debug != nil {
				fmt.Fprintf(p.Debug, "== %s (round %d): %d -> %d values\n", pass.Name(), r+1, before, len(g.Values))
				g.Print(p.Debug)
			}
			f, any = g, any || changed
		}
		if !any {
			return f, nil
		}
	}
	return nil, fmt.Errorf("compiler: passes did not reach a fixed point in %d rounds", rounds)
}

// DCE removes every value that no output depends on. Assignments count as
// outputs, so they are never removed when listed.
type DCE struct{}

// Name returns "dce".
func (DCE) Name() string { return "dce" }

// Run compacts f to the values its outputs need.
func (DCE) Run(f *Func) (*Func, bool, error) {
	g := f.rewrite(nil)
	return g, len(g.Values) != len(f.Values), nil
}
