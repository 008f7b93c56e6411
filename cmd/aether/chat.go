package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/aethertensor/aether/llm"
	"github.com/aethertensor/aether/llm/chat"
)

func init() {
	register(command{name: "chat", summary: "chat with a GGUF model on standard input", run: runChat})
}

// chatStdin is where chat reads user turns; tests replace it.
var chatStdin io.Reader = os.Stdin

func runChat(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("chat", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var mf modelFlags
	mf.register(fs)
	system := fs.String("sys", "", "system prompt")
	tmpl := fs.String("template", "", "built-in chat template name (default: the file's tokenizer.chat_template)")
	n := fs.Int("n", 512, "most tokens per reply")
	so := samplingFlags(fs)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: aether chat -m FILE [--sys TEXT] [--template NAME] [-n N] [sampling flags]\n\nEach line of standard input is a user turn; the conversation is kept. Empty lines are skipped; EOF ends.")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	r, err := mf.load(llm.Options{ChatTemplate: *tmpl}, stderr)
	if err != nil {
		return err
	}
	defer r.Close()
	var history []chat.Message
	if *system != "" {
		history = append(history, chat.Message{Role: "system", Content: *system})
	}
	in := bufio.NewScanner(chatStdin)
	in.Buffer(make([]byte, 64<<10), 1<<20)
	for {
		fmt.Fprint(stderr, "> ")
		if !in.Scan() {
			fmt.Fprintln(stderr)
			return in.Err()
		}
		line := strings.TrimSpace(in.Text())
		if line == "" {
			continue
		}
		history = append(history, chat.Message{Role: "user", Content: line})
		res, err := r.Chat(ctx, history, llm.GenerateOptions{MaxTokens: *n, Sampling: *so,
			OnToken: func(e llm.Event) error {
				_, err := io.WriteString(stdout, e.Text)
				return err
			}})
		if err != nil {
			return err
		}
		fmt.Fprintln(stdout)
		history = append(history, chat.Message{Role: "assistant", Content: strings.TrimSpace(res.Text)})
	}
}
