package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/aethertensor/aether/llm/tokenizer"
)

func init() {
	register(command{name: "tokenize", summary: "print the token ids of a text with a GGUF file's tokenizer", run: runTokenize})
}

// tokenizeStdin is read when TEXT is "-"; tests replace it.
var tokenizeStdin io.Reader = os.Stdin

func runTokenize(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("tokenize", flag.ContinueOnError)
	fs.SetOutput(stderr)
	model := fs.String("m", "", "GGUF `file` whose tokenizer to use (required)")
	asJSON := fs.Bool("json", false, "print a JSON object with the ids and the tokens' vocabulary texts")
	addSpecial := fs.Bool("add-special", false, "add BOS/EOS (CLS/SEP) as the vocabulary asks")
	parseSpecial := fs.Bool("parse-special", false, "recognise control-token texts such as <|im_start|> in TEXT")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: aether tokenize -m FILE [--json] [--add-special] [--parse-special] TEXT\n\nTEXT - reads all of standard input.")
		fs.PrintDefaults()
	}
	// Accept flags before and after TEXT.
	var texts []string
	for {
		if err := fs.Parse(args); err != nil {
			if err == flag.ErrHelp {
				return err
			}
			return fmt.Errorf("%w: %v", errUsage, err)
		}
		if fs.NArg() == 0 {
			break
		}
		texts = append(texts, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if *model == "" {
		fs.Usage()
		return fmt.Errorf("%w: -m FILE is required", errUsage)
	}
	if len(texts) != 1 {
		fs.Usage()
		return fmt.Errorf("%w: want exactly one TEXT argument, got %d", errUsage, len(texts))
	}
	text := texts[0]
	if text == "-" {
		b, err := io.ReadAll(tokenizeStdin)
		if err != nil {
			return fmt.Errorf("reading standard input: %w", err)
		}
		text = string(b)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	tok, err := tokenizer.Open(*model)
	if err != nil {
		return err
	}
	var flags tokenizer.EncodeFlags
	if *addSpecial {
		flags |= tokenizer.AddSpecial
	}
	if *parseSpecial {
		flags |= tokenizer.ParseSpecial
	}
	ids, err := tok.Encode(text, flags)
	if err != nil {
		return err
	}
	if *asJSON {
		out := struct {
			IDs    []int32  `json:"ids"`
			Tokens []string `json:"tokens"`
		}{IDs: ids, Tokens: make([]string, len(ids))}
		for i, id := range ids {
			out.Tokens[i], _ = tok.Text(id)
		}
		enc := json.NewEncoder(stdout)
		return enc.Encode(out)
	}
	var b strings.Builder
	for i, id := range ids {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(strconv.Itoa(int(id)))
	}
	b.WriteByte('\n')
	_, err = io.WriteString(stdout, b.String())
	return err
}
