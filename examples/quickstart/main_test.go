package main

import (
	"bytes"
	"fmt"
	"math"
	"strings"
	"testing"
)

// TestRun checks the printed values of y and dy/db against a plain-Go
// computation of the same expression for both feeds.
func TestRun(t *testing.T) {
	var out bytes.Buffer
	if err := run(&out); err != nil {
		t.Fatal(err)
	}
	text := out.String()
	x := [2][2]float64{{1, 2}, {3, 4}}
	m := [2][2]float64{{0.5, -1}, {1, 0.25}}
	score := [2]float64{1, 3}
	for run, b := range [][2]float64{{0, 0}, {1, -1}} {
		y, db := 0.0, [2]float64{}
		for i := range 2 {
			var l [2]float64
			for j := range 2 {
				l[j] = x[i][0]*m[0][j] + x[i][1]*m[1][j] + b[j]
			}
			e0, e1 := math.Exp(l[0]), math.Exp(l[1])
			p := [2]float64{e0 / (e0 + e1), e1 / (e0 + e1)}
			row := p[0]*score[0] + p[1]*score[1]
			y += row
			// d row / d l_j = p_j (score_j − row)
			for j := range 2 {
				db[j] += p[j] * (score[j] - row)
			}
		}
		for _, want := range []string{
			fmt.Sprintf("run %d:", run+1),
			fmt.Sprintf("y = Σ probs·[1 3] = %.6f", y),
			fmt.Sprintf("dy/db\n  [%10.6f %10.6f ]", db[0], db[1]),
		} {
			if !strings.Contains(text, want) {
				t.Errorf("output lacks %q:\n%s", want, text)
			}
		}
	}
}
