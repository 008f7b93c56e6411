package chat

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"sort"
	"strings"
	"testing"

	"github.com/aethertensor/aether/internal/testdata"
)

// llamaCppConversation is the conversation of llama.cpp's
// tests/test-chat-template.cpp; note the padded assistant reply, which shows
// which formats trim.
var llamaCppConversation = []Message{
	{"system", "You are a helpful assistant"},
	{"user", "Hello"},
	{"assistant", "Hi there"},
	{"user", "Who are you"},
	{"assistant", "   I am an assistant   "},
	{"user", "Another question"},
}

// genPrompt is what each format appends for add_generation_prompt, read off
// the {% if add_generation_prompt %} branch of the model's Jinja template
// (llama.cpp's add_ass branch). "" marks formats whose last user turn
// already opens the reply, so the flag changes nothing.
var genPrompt = map[string]string{
	"chatml":            "<|im_start|>assistant\n",
	"llama2":            "",
	"llama2-sys-bos":    "",
	"llama2-sys-strip":  "",
	"monarch":           "<s>assistant\n",
	"gemma":             "<start_of_turn>model\n",
	"orion":             "",
	"openchat":          "GPT4 Correct Assistant:",
	"deepseek":          "### Response:\n",
	"vicuna":            "ASSISTANT:",
	"vicuna-orca":       "ASSISTANT:",
	"command-r":         "<|START_OF_TURN_TOKEN|><|CHATBOT_TOKEN|>",
	"llama3":            "<|start_header_id|>assistant<|end_header_id|>\n\n",
	"phi3":              "<|assistant|>\n",
	"chatglm3":          "<|assistant|>",
	"chatglm4":          "<|assistant|>\n",
	"glmedge":           "<|assistant|>",
	"minicpm":           "",
	"deepseek2":         "Assistant:",
	"granite":           "<|start_of_role|>assistant<|end_of_role|>",
	"granite-4.0":       "<|start_of_role|>assistant<|end_of_role|>",
	"mistral-v1":        "",
	"mistral-v3":        "",
	"mistral-v3-tekken": "",
	"mistral-v7":        "",
	"gigachat":          "assistant<|role_sep|>",
	"megrez":            "<|role_start|>assistant<|role_end|>",
	"phi4":              "<|im_start|>assistant<|im_sep|>",
	"yandex":            " Ассистент:[SEP]",
	"bailing":           "<role>ASSISTANT</role>",
	"seed_oss":          "<seed:bos>assistant\n",
}

// TestLlamaCppVectors checks detection and rendering against every case of
// llama.cpp's test-chat-template.cpp, with and without the generation
// prompt.
func TestLlamaCppVectors(t *testing.T) {
	for _, tc := range llamaCppCases {
		t.Run(tc.model, func(t *testing.T) {
			tmpl, err := Detect(tc.jinja)
			if err != nil {
				t.Fatalf("Detect: %v", err)
			}
			if tmpl.Name != tc.want {
				t.Fatalf("Detect = %q, want %q", tmpl.Name, tc.want)
			}
			msgs := append(append([]Message(nil), llamaCppConversation...), tc.extra...)
			got, err := tmpl.Render(msgs, true)
			if err != nil {
				t.Fatalf("Render: %v", err)
			}
			if got != tc.expected {
				t.Fatalf("Render(gen=true)\n got %q\nwant %q", got, tc.expected)
			}
			suffix, ok := genPrompt[tc.want]
			if !ok {
				t.Fatalf("no generation prompt recorded for %q", tc.want)
			}
			if !strings.HasSuffix(tc.expected, suffix) {
				t.Fatalf("vector does not end with the generation prompt %q", suffix)
			}
			got, err = tmpl.Render(msgs, false)
			if err != nil {
				t.Fatalf("Render: %v", err)
			}
			if want := strings.TrimSuffix(tc.expected, suffix); got != want {
				t.Fatalf("Render(gen=false)\n got %q\nwant %q", got, want)
			}
		})
	}
}

// TestGolden renders a short system/user/assistant/user conversation with
// the formats most GGUF chat models use. Each expected string spells out the
// format's definition (the model family's Jinja template as llama.cpp
// renders it).
func TestGolden(t *testing.T) {
	conv := []Message{
		{"system", "You are terse."},
		{"user", "Hi!"},
		{"assistant", "Hello."},
		{"user", "2+2?"},
	}
	tests := []struct {
		name, noGen, gen string
	}{
		{"llama2",
			"[INST] You are terse.\nHi! [/INST]Hello.</s>[INST] 2+2? [/INST]", ""},
		{"llama2-sys",
			"[INST] <<SYS>>\nYou are terse.\n<</SYS>>\n\nHi! [/INST]Hello.</s>[INST] 2+2? [/INST]", ""},
		{"llama2-sys-bos",
			"[INST] <<SYS>>\nYou are terse.\n<</SYS>>\n\nHi! [/INST]Hello.</s><s>[INST] 2+2? [/INST]", ""},
		{"llama3",
			"<|start_header_id|>system<|end_header_id|>\n\nYou are terse.<|eot_id|>" +
				"<|start_header_id|>user<|end_header_id|>\n\nHi!<|eot_id|>" +
				"<|start_header_id|>assistant<|end_header_id|>\n\nHello.<|eot_id|>" +
				"<|start_header_id|>user<|end_header_id|>\n\n2+2?<|eot_id|>",
			"<|start_header_id|>assistant<|end_header_id|>\n\n"},
		{"chatml",
			"<|im_start|>system\nYou are terse.<|im_end|>\n<|im_start|>user\nHi!<|im_end|>\n" +
				"<|im_start|>assistant\nHello.<|im_end|>\n<|im_start|>user\n2+2?<|im_end|>\n",
			"<|im_start|>assistant\n"},
		{"mistral-v1",
			" [INST] You are terse.\n\nHi! [/INST] Hello.</s> [INST] 2+2? [/INST]", ""},
		{"mistral-v3",
			"[INST] You are terse.\n\nHi![/INST] Hello.</s>[INST] 2+2?[/INST]", ""},
		{"mistral-v3-tekken",
			"[INST]You are terse.\n\nHi![/INST]Hello.</s>[INST]2+2?[/INST]", ""},
		{"mistral-v7",
			"[SYSTEM_PROMPT] You are terse.[/SYSTEM_PROMPT][INST] Hi![/INST] Hello.</s>[INST] 2+2?[/INST]", ""},
		{"mistral-v7-tekken",
			"[SYSTEM_PROMPT]You are terse.[/SYSTEM_PROMPT][INST]Hi![/INST]Hello.</s>[INST]2+2?[/INST]", ""},
		{"phi3",
			"<|system|>\nYou are terse.<|end|>\n<|user|>\nHi!<|end|>\n<|assistant|>\nHello.<|end|>\n<|user|>\n2+2?<|end|>\n",
			"<|assistant|>\n"},
		{"gemma",
			"<start_of_turn>user\nYou are terse.\n\nHi!<end_of_turn>\n<start_of_turn>model\nHello.<end_of_turn>\n" +
				"<start_of_turn>user\n2+2?<end_of_turn>\n",
			"<start_of_turn>model\n"},
		{"zephyr",
			"<|system|>\nYou are terse.<|endoftext|>\n<|user|>\nHi!<|endoftext|>\n" +
				"<|assistant|>\nHello.<|endoftext|>\n<|user|>\n2+2?<|endoftext|>\n",
			"<|assistant|>\n"},
		{"falcon3",
			"<|system|>\nYou are terse.\n<|user|>\nHi!\n<|assistant|>\nHello.\n<|user|>\n2+2?\n",
			"<|assistant|>\n"},
		{"deepseek3",
			"You are terse.\n\n<｜User｜>Hi!<｜Assistant｜>Hello.<｜end▁of▁sentence｜><｜User｜>2+2?",
			"<｜Assistant｜>"},
		{"command-r",
			"<|START_OF_TURN_TOKEN|><|SYSTEM_TOKEN|>You are terse.<|END_OF_TURN_TOKEN|>" +
				"<|START_OF_TURN_TOKEN|><|USER_TOKEN|>Hi!<|END_OF_TURN_TOKEN|>" +
				"<|START_OF_TURN_TOKEN|><|CHATBOT_TOKEN|>Hello.<|END_OF_TURN_TOKEN|>" +
				"<|START_OF_TURN_TOKEN|><|USER_TOKEN|>2+2?<|END_OF_TURN_TOKEN|>",
			"<|START_OF_TURN_TOKEN|><|CHATBOT_TOKEN|>"},
		{"llama4",
			"<|header_start|>system<|header_end|>\n\nYou are terse.<|eot|><|header_start|>user<|header_end|>\n\nHi!<|eot|>" +
				"<|header_start|>assistant<|header_end|>\n\nHello.<|eot|><|header_start|>user<|header_end|>\n\n2+2?<|eot|>",
			"<|header_start|>assistant<|header_end|>\n\n"},
		{"gpt-oss",
			"<|start|>system<|message|>You are terse.<|end|><|start|>user<|message|>Hi!<|end|>" +
				"<|start|>assistant<|message|>Hello.<|return|><|start|>user<|message|>2+2?<|end|>",
			"<|start|>assistant"},
		{"rwkv-world",
			"System: You are terse.\n\nUser: Hi!\n\nAssistant: Hello.\n\nUser: 2+2?\n\nAssistant:", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tmpl, err := ByName(tc.name)
			if err != nil {
				t.Fatal(err)
			}
			for _, gen := range []bool{false, true} {
				want := tc.noGen
				if gen {
					want += tc.gen
				}
				got, err := tmpl.Render(conv, gen)
				if err != nil {
					t.Fatal(err)
				}
				if got != want {
					t.Errorf("Render(gen=%v)\n got %q\nwant %q", gen, got, want)
				}
			}
		})
	}
}

// TestGemmaSystemMerge checks that gemma's system text waits for the next
// user turn, even when an assistant turn comes first.
func TestGemmaSystemMerge(t *testing.T) {
	tmpl, _ := ByName("gemma")
	got, err := tmpl.Render([]Message{
		{"system", "  Be brief. "},
		{"assistant", "Ready."},
		{"user", " Go "},
	}, false)
	if err != nil {
		t.Fatal(err)
	}
	want := "<start_of_turn>model\nReady.<end_of_turn>\n<start_of_turn>user\nBe brief.\n\nGo<end_of_turn>\n"
	if got != want {
		t.Fatalf("got %q\nwant %q", got, want)
	}
}

// TestDetect covers detection beyond llama.cpp's vectors: names, marker
// precedence and real templates whose outcome is a llama.cpp quirk.
func TestDetect(t *testing.T) {
	tests := []struct {
		name, jinja, want string
	}{
		{"exact name", "llama3", "llama3"},
		{"name with dash", "mistral-v7-tekken", "mistral-v7-tekken"},
		// llama.cpp: a string starting with "mistral" takes the [INST] branch
		// and, with no other marker, lands on plain llama2.
		{"mistral prefix", "mistral", "llama2"},
		{"zephyr markers",
			"{% for message in messages %}{% if message['role'] == 'user' %}{{ '<|user|>\\n' + message['content'] + '<|endoftext|>\\n' }}" +
				"{% else %}{{ '<|' + message['role'] + '|>\\n' + message['content'] + '<|endoftext|>\\n' }}{% endif %}{% endfor %}",
			"zephyr"},
		// HuggingFaceH4/zephyr-7b-beta writes eos_token, not a literal </s>
		// or <|endoftext|>, so llama.cpp's rule order picks glmedge.
		{"zephyr-7b-beta is glmedge in llama.cpp",
			"{% for message in messages %}\n{% if message['role'] == 'user' %}\n{{ '<|user|>\n' + message['content'] + eos_token }}\n" +
				"{% elif message['role'] == 'system' %}\n{{ '<|system|>\n' + message['content'] + eos_token }}\n" +
				"{% elif message['role'] == 'assistant' %}\n{{ '<|assistant|>\n'  + message['content'] + eos_token }}\n{% endif %}\n" +
				"{% if loop.last and add_generation_prompt %}\n{{ '<|assistant|>' }}\n{% endif %}\n{% endfor %}",
			"glmedge"},
		{"falcon3 literal eos",
			"{% for m in messages %}{{ '<|' + m['role'] + '|>\\n' + m['content'] + '\\n' }}{% endfor %}{% if add_generation_prompt %}<|assistant|>\\n{% endif %}{# <|user|> </s> #}",
			"falcon3"},
		{"chatml wins over [INST]", "<|im_start|>[INST]", "chatml"},
		{"phi4 needs im_sep", "<|im_start|>system<|im_sep|>", "phi4"},
		{"llama2 strip beats bos", "[INST] <<SYS>> bos_token + '[INST] ' content.strip()", "llama2-sys-strip"},
		{"exaone4 tool", "[|system|][|assistant|][|endofturn|][|tool|]", "exaone4"},
		{"exaone3", "[|system|][|assistant|][|endofturn|]", "exaone3"},
		{"granite 4 tools", "<|start_of_role|> <tools>", "granite-4.0"},
		{"deepseek3", "<｜User｜><｜Assistant｜><｜end▁of▁sentence｜>", "deepseek3"},
		{"llama4", "<|header_start|>user<|header_end|>", "llama4"},
		{"gpt-oss", "<|start|>assistant<|channel|>final", "gpt-oss"},
		{"kimi-k2", "<|im_assistant|>assistant<|im_middle|>", "kimi-k2"},
		{"smolvlm", "<|im_start|>User:<end_of_utterance>", "smolvlm"},
		{"rwkv", "{{- 'User: ' + message['content']|trim + '\\n\\n' -}}", "rwkv-world"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tmpl, err := Detect(tc.jinja)
			if err != nil {
				t.Fatal(err)
			}
			if tmpl.Name != tc.want {
				t.Fatalf("Detect = %q, want %q", tmpl.Name, tc.want)
			}
		})
	}
}

// TestDetectGGUF detects the chat template stored in a real GGUF file (the
// Phi-3 vocabulary of llama.cpp's tokenizer tests).
func TestDetectGGUF(t *testing.T) {
	path := testdata.Path(t, "vocab/ggml-vocab-phi-3.gguf")
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	jinja := ggufString(t, raw, "tokenizer.chat_template")
	tmpl, err := Detect(jinja)
	if err != nil {
		t.Fatal(err)
	}
	if tmpl.Name != "phi3" {
		t.Fatalf("Detect = %q, want phi3", tmpl.Name)
	}
}

// ggufString finds a string-valued metadata key in a GGUF v2/v3 file: key
// bytes, then type 8 (string) as u32, then a u64 length and the bytes. It is
// enough for this test and deliberately not a GGUF reader.
func ggufString(t *testing.T, raw []byte, key string) string {
	t.Helper()
	i := bytes.Index(raw, []byte(key))
	if i < 8 || binary.LittleEndian.Uint64(raw[i-8:]) != uint64(len(key)) {
		t.Fatalf("key %q not found", key)
	}
	p := i + len(key)
	if p+12 > len(raw) || binary.LittleEndian.Uint32(raw[p:]) != 8 {
		t.Fatalf("key %q is not a string", key)
	}
	n := binary.LittleEndian.Uint64(raw[p+4:])
	p += 12
	if n > uint64(len(raw)-p) {
		t.Fatalf("key %q: length %d past end of file", key, n)
	}
	return string(raw[p : p+int(n)])
}

func TestErrors(t *testing.T) {
	llama3, _ := ByName("llama3")
	llama2, _ := ByName("llama2")
	tests := []struct {
		name    string
		run     func() error
		want    error
		mention string
	}{
		{"unknown name", func() error { _, err := ByName("llama-5"); return err }, ErrUnknownTemplate, "chatml"},
		{"unknown jinja", func() error {
			_, err := Detect("{% for m in messages %}{{ m.content }}{% endfor %}")
			return err
		}, ErrUnknownTemplate, "chat.ByName"},
		{"empty jinja", func() error { _, err := Detect(" \n"); return err }, ErrUnknownTemplate, "empty"},
		{"no messages", func() error { _, err := llama3.Render(nil, true); return err }, ErrNoMessages, "llama3"},
		{"empty role", func() error { _, err := llama3.Render([]Message{{"", "x"}}, true); return err }, ErrRole, "message 0"},
		{"role with newline", func() error {
			_, err := llama3.Render([]Message{{"user", "a"}, {"user\n", "x"}}, true)
			return err
		}, ErrRole, "message 1"},
		{"upper-case role", func() error { _, err := llama3.Render([]Message{{"User", "x"}}, true); return err }, ErrRole, "User"},
		{"tool in llama2", func() error { _, err := llama2.Render([]Message{{"tool", "x"}}, true); return err }, ErrRole, "system, user, assistant"},
		{"zero template", func() error { _, err := (&Template{}).Render([]Message{{"user", "x"}}, true); return err }, ErrUnknownTemplate, "ByName"},
		{"nil template", func() error { var tm *Template; _, err := tm.Render([]Message{{"user", "x"}}, true); return err }, ErrUnknownTemplate, "nil"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.run()
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if !strings.Contains(err.Error(), tc.mention) {
				t.Fatalf("error %q does not mention %q", err, tc.mention)
			}
		})
	}
}

// TestRoles checks the role sets: verbatim formats take tool roles,
// formats that know extra roles render them, others refuse.
func TestRoles(t *testing.T) {
	tests := []struct {
		name, role string
		ok         bool
		want       string
	}{
		{"chatml", "tool", true, "<|im_start|>tool\n42<|im_end|>\n"},
		{"exaone4", "tool", true, "[|tool|]42[|endofturn|]\n"},
		{"kimi-k2", "tool", true, "<|im_system|>tool<|im_middle|>42<|im_end|>"},
		{"bailing", "tool", true, "<role>TOOL</role>42"},
		{"gemma", "tool", false, ""},
		{"mistral-v7", "tool", false, ""},
		{"vicuna", "tool", false, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name+"/"+tc.role, func(t *testing.T) {
			tmpl, err := ByName(tc.name)
			if err != nil {
				t.Fatal(err)
			}
			got, err := tmpl.Render([]Message{{tc.role, "42"}}, false)
			if tc.ok != (err == nil) {
				t.Fatalf("err = %v, want ok=%v", err, tc.ok)
			}
			if got != tc.want {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
		})
	}
	if r, _ := ByName("llama2"); strings.Join(r.Roles(), ",") != "system,user,assistant" {
		t.Errorf("llama2 Roles = %v", r.Roles())
	}
	if r, _ := ByName("chatml"); r.Roles() != nil {
		t.Errorf("chatml Roles = %v, want nil (verbatim)", r.Roles())
	}
}

// TestNames checks the name list and that every template renders the
// reference conversation and is reachable by name through Detect.
func TestNames(t *testing.T) {
	names := Names()
	if !sort.StringsAreSorted(names) {
		t.Fatal("Names not sorted")
	}
	for _, req := range []string{"llama2", "llama2-sys", "llama3", "chatml", "mistral-v1", "mistral-v3", "mistral-v7", "phi3", "gemma", "zephyr", "vicuna", "deepseek", "command-r", "chatglm4", "falcon3", "granite"} {
		if _, err := ByName(req); err != nil {
			t.Errorf("missing %s: %v", req, err)
		}
	}
	for _, n := range names {
		tmpl, err := Detect(n)
		if err != nil || tmpl.Name != n {
			t.Errorf("Detect(%q) = %v, %v", n, tmpl, err)
			continue
		}
		out, err := tmpl.Render(llamaCppConversation, true)
		if err != nil || out == "" {
			t.Errorf("%s: Render = %q, %v", n, out, err)
		}
	}
	for _, r := range detectRules {
		if _, ok := registry[r.name]; !ok {
			t.Errorf("detect rule names unknown template %q", r.name)
		}
	}
}

// TestByNameCopies checks that a caller cannot change the registry.
func TestByNameCopies(t *testing.T) {
	a, _ := ByName("chatml")
	a.Name = "changed"
	b, _ := ByName("chatml")
	if b.Name != "chatml" {
		t.Fatal("ByName returned a shared Template")
	}
}

func TestTrim(t *testing.T) {
	// C isspace: space, \t, \n, \v, \f, \r; no Unicode spaces.
	if got := trim(" \t\n\v\f\rx\u3000 "); got != "x\u3000" {
		t.Fatalf("trim = %q", got)
	}
}

func BenchmarkRender(b *testing.B) {
	tmpl, _ := ByName("llama3")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := tmpl.Render(llamaCppConversation, true); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDetect(b *testing.B) {
	// The longest vector, a Mistral v3 template with tool support.
	jinja := ""
	for _, tc := range llamaCppCases {
		if len(tc.jinja) > len(jinja) {
			jinja = tc.jinja
		}
	}
	b.SetBytes(int64(len(jinja)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Detect(jinja); err != nil {
			b.Fatal(err)
		}
	}
}

// FuzzRender feeds arbitrary templates and messages to Detect and Render:
// they must return an error or a prompt, never panic, and a prompt must
// contain every message's content for formats that keep content verbatim.
func FuzzRender(f *testing.F) {
	f.Add("<|im_start|>", "user", "hi", "assistant", "  yo ", true)
	f.Add("[INST] <<SYS>>", "system", "s", "user", "", false)
	f.Add("gigachat", "system", "", "system", "x", true)
	f.Add("bailing2", "assistant", "a", "tool", "b", true)
	f.Fuzz(func(t *testing.T, jinja, r1, c1, r2, c2 string, gen bool) {
		tmpl, err := Detect(jinja)
		if err != nil {
			if !errors.Is(err, ErrUnknownTemplate) {
				t.Fatalf("Detect error %v does not wrap ErrUnknownTemplate", err)
			}
			return
		}
		out, err := tmpl.Render([]Message{{r1, c1}, {r2, c2}}, gen)
		if err != nil {
			if !errors.Is(err, ErrRole) {
				t.Fatalf("Render error %v does not wrap ErrRole", err)
			}
			return
		}
		if tmpl.Name == "chatml" && (!strings.Contains(out, c1) || !strings.Contains(out, c2)) {
			t.Fatalf("chatml lost content: %q", out)
		}
	})
}
