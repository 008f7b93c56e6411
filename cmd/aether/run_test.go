package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/aethertensor/aether/internal/testdata"
)

const storyText = ", there was a little girl named Lily. She loved to play outside in the park. One day, she saw"

func TestRun(t *testing.T) {
	model := testdata.Path(t, "models/stories260K.gguf")
	tests := []struct {
		name string
		args []string
		want string // stdout
		code int
	}{
		{"greedy story", []string{"run", "-m", model, "-p", "Once upon a time", "-n", "32", "--temp", "0"}, "Once upon a time" + storyText + "\n", 0},
		{"stop string", []string{"run", "-m", model, "-p", "Once upon a time", "-n", "32", "--temp", "0", "--stop", "girl"}, "Once upon a time, there was a little \n", 0},
		{"no model", []string{"run", "-p", "x"}, "", 2},
		{"bad n", []string{"run", "-m", model, "-n", "-1"}, "", 2},
		{"extra arg", []string{"run", "-m", model, "oops"}, "", 2},
		{"bad device", []string{"run", "-m", model, "--device", "tpu"}, "", 1},
		{"bad top-p", []string{"run", "-m", model, "--top-p", "2"}, "", 1},
		{"prompt too long", []string{"run", "-m", model, "-c", "4", "-p", "Once upon a time"}, "Once upon a time", 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			if code := run(context.Background(), tc.args, &out, &errb); code != tc.code {
				t.Fatalf("exit %d, want %d; stderr %s", code, tc.code, errb.String())
			}
			if tc.code == 0 && out.String() != tc.want {
				t.Errorf("stdout %q, want %q", out.String(), tc.want)
			}
		})
	}
}

func TestRunJSON(t *testing.T) {
	model := testdata.Path(t, "models/stories260K.gguf")
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"run", "-m", model, "-p", "Once upon a time", "-n", "32", "--temp", "0", "--json"}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	var got runJSON
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatalf("%v in %s", err, out.String())
	}
	if got.Text != storyText || len(got.IDs) != 32 || len(got.PromptIDs) != 5 || got.PrefillTokS <= 0 || got.DecodeTokS <= 0 {
		t.Errorf("got %+v", got)
	}
}

func TestChatCommand(t *testing.T) {
	model := testdata.Path(t, "models/stories260K.gguf")
	chatStdin = strings.NewReader("Once upon a time\n\nThe end\n")
	var out, errb bytes.Buffer
	code := run(context.Background(), []string{"chat", "-m", model, "--template", "chatml", "-n", "8", "--temp", "0"}, &out, &errb)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	// Two user turns, one reply line each; the empty line is skipped.
	if lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n"); len(lines) < 2 {
		t.Errorf("replies %q", out.String())
	}
	if got := strings.Count(errb.String(), "> "); got != 4 {
		t.Errorf("%d prompts on stderr, want 4 (two turns, the empty line, EOF): %q", got, errb.String())
	}
	chatStdin = strings.NewReader("hi\n")
	if code := run(context.Background(), []string{"chat", "-m", model}, &out, &errb); code != 1 {
		t.Errorf("no template: exit %d, want 1", code)
	}
}

func TestBench(t *testing.T) {
	model := testdata.Path(t, "models/stories260K.gguf")
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"bench", "-m", model, "-p", "16", "-n", "4", "-r", "2"}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	for _, want := range []string{"pp16 ", "tg4 ", " ± ", "5 layers"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	if code := run(context.Background(), []string{"bench", "-m", model, "-p", "0"}, &out, &errb); code != 2 {
		t.Errorf("-p 0: exit %d, want 2", code)
	}
	if code := run(context.Background(), []string{"bench", "-m", model, "-p", "64", "-n", "32", "-c", "16"}, &out, &errb); code != 2 {
		t.Errorf("over the context: exit %d, want 2", code)
	}
}
