// MLP trains a two-layer perceptron to separate two interleaved spirals,
// compiling one training-step Program (forward, backward and Adam update)
// and replaying it once per step.
//
//	go run ./examples/mlp
//	go run ./examples/mlp -plot loss.png
//
// It exits with an error when the final loss is not at least 10x below
// the initial loss.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"

	"github.com/aethertensor/aether/graph"
	"github.com/aethertensor/aether/optim"
	"github.com/aethertensor/aether/tensor"
)

func main() {
	err := run(context.Background(), os.Args[1:], os.Stdout)
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "mlp:", err)
		os.Exit(1)
	}
}

// config sets the problem and the training run.
type config struct {
	Points int     // points per spiral
	Turns  float64 // turns of each spiral
	Noise  float64 // standard deviation of the noise added to each point
	Hidden int     // width of both hidden layers
	Steps  int     // training steps (full batch)
	LR     float64 // Adam learning rate
	Seed   uint64  // seeds the data and the initial weights
}

func defaultConfig() config {
	return config{Points: 100, Turns: 1.5, Noise: 0.05, Hidden: 32, Steps: 1500, LR: 0.01, Seed: 1}
}

// result is what a training run measured.
type result struct {
	Losses   []float64 // cross-entropy before each step
	Accuracy float64   // on the training set, after the last step
}

func run(ctx context.Context, args []string, stdout io.Writer) error {
	cfg := defaultConfig()
	fs := flag.NewFlagSet("mlp", flag.ContinueOnError)
	fs.SetOutput(stdout)
	fs.IntVar(&cfg.Steps, "steps", cfg.Steps, "training steps")
	fs.IntVar(&cfg.Hidden, "hidden", cfg.Hidden, "hidden layer width")
	fs.Float64Var(&cfg.LR, "lr", cfg.LR, "Adam learning rate")
	fs.Uint64Var(&cfg.Seed, "seed", cfg.Seed, "random seed")
	every := fs.Int("every", 100, "print the loss every this many steps")
	plotPath := fs.String("plot", "", "write the loss curve as a PNG to this file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if *every <= 0 {
		return fmt.Errorf("-every %d: want > 0", *every)
	}

	start := time.Now()
	res, err := train(ctx, cfg)
	if err != nil {
		return err
	}
	elapsed := time.Since(start)
	for i, l := range res.Losses {
		if i%*every == 0 || i == len(res.Losses)-1 {
			fmt.Fprintf(stdout, "step %5d  loss %.5f\n", i, l)
		}
	}
	first, last := res.Losses[0], res.Losses[len(res.Losses)-1]
	fmt.Fprintf(stdout, "trained %d steps in %v (%.2f ms/step); loss %.4f -> %.5f (%.0fx lower); accuracy %.1f%%\n",
		cfg.Steps, elapsed.Round(time.Millisecond), float64(elapsed.Microseconds())/1000/float64(cfg.Steps),
		first, last, first/last, 100*res.Accuracy)
	if *plotPath != "" {
		if err := writePlot(res.Losses, *plotPath); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "wrote %s\n", *plotPath)
	}
	if !(last*10 <= first) {
		return fmt.Errorf("final loss %.5f is not 10x below the initial loss %.5f", last, first)
	}
	return nil
}

// spirals returns 2·n points [2n, 2] on two interleaved spirals and their
// classes [2n].
func spirals(n int, turns, noise float64, r *rand.Rand) ([]float32, []int64) {
	xs := make([]float32, 0, 4*n)
	ys := make([]int64, 0, 2*n)
	for c := range 2 {
		for i := range n {
			t := float64(i) / float64(n) // 0 at the centre, 1 at the rim
			a := 2*math.Pi*turns*t + math.Pi*float64(c)
			rad := 0.1 + 0.9*t
			xs = append(xs,
				float32(rad*math.Cos(a)+noise*r.NormFloat64()),
				float32(rad*math.Sin(a)+noise*r.NormFloat64()))
			ys = append(ys, int64(c))
		}
	}
	return xs, ys
}

// layer returns a weight [in, out] drawn from N(0, 1/in) and a zero bias.
func layer(g *graph.Graph, name string, in, out int, r *rand.Rand) (w, b graph.Tensor) {
	ws := make([]float32, in*out)
	for i := range ws {
		ws[i] = float32(r.NormFloat64() / math.Sqrt(float64(in)))
	}
	w = g.Param(name+".w", tensor.NewF32(ws, in, out))
	b = g.Param(name+".b", tensor.MustZeros(tensor.F32, tensor.Shape{out}))
	return w, b
}

// train fits a 2-h-h-2 tanh MLP to the spirals with full-batch Adam and
// returns the loss before each step and the final training accuracy.
func train(ctx context.Context, cfg config) (result, error) {
	if cfg.Points <= 0 || cfg.Hidden <= 0 || cfg.Steps <= 0 {
		return result{}, fmt.Errorf("points %d, hidden %d, steps %d: want each > 0", cfg.Points, cfg.Hidden, cfg.Steps)
	}
	r := rand.New(rand.NewPCG(cfg.Seed, 0x5eed))
	xs, ys := spirals(cfg.Points, cfg.Turns, cfg.Noise, r)
	n := len(ys)

	g := graph.New()
	x := g.Const(tensor.NewF32(xs, n, 2))
	y := g.Const(tensor.NewI64(ys, n))
	w1, b1 := layer(g, "l1", 2, cfg.Hidden, r)
	w2, b2 := layer(g, "l2", cfg.Hidden, cfg.Hidden, r)
	w3, b3 := layer(g, "l3", cfg.Hidden, 2, r)

	h := x.MatMul(w1).Add(b1).Tanh()      // [n, hidden]
	h = h.MatMul(w2).Add(b2).Tanh()       // [n, hidden]
	logits := h.MatMul(w3).Add(b3)        // [n, 2]
	loss := graph.CrossEntropy(logits, y) // scalar
	accuracy := logits.ArgMax(1, false).Eq(y).Cast(tensor.F32).Mean()

	updates, err := optim.NewAdam(optim.AdamConfig{LR: cfg.LR}).Minimize(loss)
	if err != nil {
		return result{}, err
	}
	step, err := graph.Compile(append([]graph.Tensor{loss}, updates...))
	if err != nil {
		return result{}, err
	}
	// A second Program over the same graph sees the trained parameters.
	eval, err := graph.Compile([]graph.Tensor{accuracy})
	if err != nil {
		return result{}, err
	}

	res := result{Losses: make([]float64, 0, cfg.Steps)}
	for range cfg.Steps {
		out, err := step.Run(ctx, nil)
		if err != nil {
			return result{}, err
		}
		l := out[0].Flat(0)
		if math.IsNaN(l) || math.IsInf(l, 0) {
			return result{}, fmt.Errorf("loss became %v at step %d", l, len(res.Losses))
		}
		res.Losses = append(res.Losses, l)
	}
	out, err := eval.Run(ctx, nil)
	if err != nil {
		return result{}, err
	}
	res.Accuracy = out[0].Flat(0)
	return res, nil
}

// writePlot saves the loss curve, on a log scale, as a PNG.
func writePlot(losses []float64, path string) error {
	p := plot.New()
	p.Title.Text = "MLP on two spirals"
	p.X.Label.Text = "step"
	p.Y.Label.Text = "cross-entropy loss"
	p.Y.Scale = plot.LogScale{}
	p.Y.Tick.Marker = plot.LogTicks{Prec: -1}
	p.Add(plotter.NewGrid())
	pts := make(plotter.XYs, len(losses))
	for i, l := range losses {
		pts[i] = plotter.XY{X: float64(i), Y: l}
	}
	line, err := plotter.NewLine(pts)
	if err != nil {
		return fmt.Errorf("plot: %w", err)
	}
	p.Add(line)
	if err := p.Save(6*vg.Inch, 4*vg.Inch, path); err != nil {
		return fmt.Errorf("plot: %w", err)
	}
	return nil
}
