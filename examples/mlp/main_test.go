package main

import (
	"bytes"
	"context"
	"image/png"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestTrain checks that a short run already lowers the loss at least 10x
// and that training is reproducible for a fixed seed.
func TestTrain(t *testing.T) {
	cfg := defaultConfig()
	cfg.Steps = 300
	res, err := train(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Losses) != cfg.Steps {
		t.Fatalf("%d losses, want %d", len(res.Losses), cfg.Steps)
	}
	first, last := res.Losses[0], res.Losses[len(res.Losses)-1]
	if !(last*10 <= first) {
		t.Fatalf("loss %v -> %v: not 10x lower", first, last)
	}
	if res.Accuracy < 0.95 {
		t.Errorf("training accuracy %v, want ≥ 0.95", res.Accuracy)
	}
	again, err := train(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(res.Losses, again.Losses) {
		t.Error("two runs with the same seed gave different losses")
	}
}

// TestPlot runs the command with -plot and checks that the file is a PNG.
func TestPlot(t *testing.T) {
	path := filepath.Join(t.TempDir(), "loss.png")
	var out bytes.Buffer
	if err := run(context.Background(), []string{"-steps", "300", "-every", "100", "-plot", path}, &out); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	for _, want := range []string{"step     0  loss", "step   299  loss", "wrote " + path} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("%s is not a PNG: %v", path, err)
	}
	if b := img.Bounds(); b.Dx() < 100 || b.Dy() < 100 {
		t.Errorf("image is %v, want at least 100x100", b)
	}
}

func TestRunErrors(t *testing.T) {
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"-nosuchflag"}, "flag provided but not defined"},
		{[]string{"-every", "0"}, "-every 0"},
		{[]string{"extra"}, "unexpected arguments"},
		{[]string{"-steps", "0"}, "want each > 0"},
		{[]string{"-steps", "2"}, "not 10x below"}, // too short to converge
	}
	for _, c := range cases {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			var out bytes.Buffer
			err := run(context.Background(), c.args, &out)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want one containing %q", err, c.want)
			}
		})
	}
}
