package chat

import "strings"

// detectRule names the template chosen when match reports true.
type detectRule struct {
	name  string
	match func(jinja string) bool
}

// all returns a matcher that is true when the text contains every marker.
func all(markers ...string) func(string) bool {
	return func(s string) bool {
		for _, m := range markers {
			if !strings.Contains(s, m) {
				return false
			}
		}
		return true
	}
}

// mistralFamily is llama.cpp's gate for the [INST] formats: the text starts
// with "mistral" (a name such as "mistral" selects plain llama2) or uses the
// [INST] marker.
func mistralFamily(s string) bool {
	return strings.HasPrefix(s, "mistral") || strings.Contains(s, "[INST]")
}

// officialMistral recognises Mistral AI's own v1 template (system message
// glued to the first user turn) and the tool-aware v3 templates.
func officialMistral(s string) bool {
	return mistralFamily(s) &&
		(strings.Contains(s, "' [INST] ' + system_message") || strings.Contains(s, "[AVAILABLE_TOOLS]"))
}

// and combines a family gate with more markers.
func and(gate func(string) bool, markers ...string) func(string) bool {
	rest := all(markers...)
	return func(s string) bool { return gate(s) && rest(s) }
}

// detectRules is llama.cpp's llm_chat_detect_template flattened into one
// ordered list: the first rule that matches wins. Nested branches become
// rules that repeat their parent's condition, so a template inside a family
// (im_start, [INST], <|assistant|>+<|user|>, ...) never falls through to a
// later family, exactly as in the original if/else chain.
var detectRules = []detectRule{
	{"phi4", all("<|im_start|>", "<|im_sep|>")},
	{"smolvlm", all("<|im_start|>", "<end_of_utterance>")},
	{"chatml", all("<|im_start|>")},

	{"mistral-v7", and(mistralFamily, "[SYSTEM_PROMPT]")},
	{"mistral-v1", and(officialMistral, " [INST]")},
	{"mistral-v3-tekken", and(officialMistral, `"[INST]"`)},
	{"mistral-v3", officialMistral},
	{"llama2-sys-strip", and(mistralFamily, "content.strip()")},
	{"llama2-sys-bos", and(mistralFamily, "bos_token + '[INST]")},
	{"llama2-sys", and(mistralFamily, "<<SYS>>")},
	{"llama2", mistralFamily},

	{"phi3", all("<|assistant|>", "<|end|>")},
	{"chatglm4", all("[gMASK]<sop>")},
	{"exaone-moe", all("<|assistant|>", "<|user|>", "<|tool_declare|>")},
	{"falcon3", all("<|assistant|>", "<|user|>", "</s>")},
	{"glmedge", all("<|assistant|>", "<|user|>")},
	{"glmedge", all("<|{{ item['role'] }}|>", "<|begin_of_image|>")},
	{"zephyr", all("<|user|>", "<|endoftext|>")},
	{"monarch", all("bos_token + message['role']")},
	{"gemma", all("<start_of_turn>")},
	{"orion", all(`'\n\nAssistant: ' + eos_token`)},
	{"openchat", all("GPT4 Correct ")},
	{"vicuna-orca", all("USER: ", "ASSISTANT: ", "SYSTEM: ")},
	{"vicuna", all("USER: ", "ASSISTANT: ")},
	{"deepseek", all("### Instruction:", "<|EOT|>")},
	{"command-r", all("<|START_OF_TURN_TOKEN|>", "<|USER_TOKEN|>")},
	{"llama3", all("<|start_header_id|>", "<|end_header_id|>")},
	{"chatglm3", all("[gMASK]sop")},
	{"minicpm", all("<用户>")},
	{"deepseek2", all("'Assistant: ' + message['content'] + eos_token")},
	{"deepseek3", all("<｜Assistant｜>", "<｜User｜>", "<｜end▁of▁sentence｜>")},
	{"exaone4", all("[|system|]", "[|assistant|]", "[|endofturn|]", "[|tool|]")},
	{"exaone3", all("[|system|]", "[|assistant|]", "[|endofturn|]")},
	{"rwkv-world", func(s string) bool {
		return strings.Contains(s, "rwkv-world") ||
			strings.Contains(s, `{{- 'User: ' + message['content']|trim + '\n\n' -}}`)
	}},
	{"granite-4.0", func(s string) bool {
		return strings.Contains(s, "<|start_of_role|>") &&
			(strings.Contains(s, "<tool_call>") || strings.Contains(s, "<tools>"))
	}},
	{"granite", all("<|start_of_role|>")},
	{"gigachat", all("message['role'] + additional_special_tokens[0] + message['content'] + additional_special_tokens[1]")},
	{"megrez", all("<|role_start|>")},
	{"yandex", all(" Ассистент:")},
	{"bailing", all("<role>ASSISTANT</role>", "'HUMAN'")},
	{"bailing-think", all("<role>ASSISTANT</role>", `"HUMAN"`, "<think>")},
	{"bailing2", all("<role>ASSISTANT</role>", "<role>HUMAN</role>", "<|role_end|>")},
	{"llama4", all("<|header_start|>", "<|header_end|>")},
	{"dots1", all("<|endofuserprompt|>")},
	{"hunyuan-moe", all("<|extra_0|>", "<|extra_4|>")},
	{"gpt-oss", all("<|start|>", "<|channel|>")},
	{"kimi-k2", all("<|im_assistant|>assistant<|im_middle|>")},
	{"seed_oss", all("<seed:bos>")},
	{"grok-2", all("'Assistant: '  + message['content'] + '<|separator|>")},
	{"pangu-embedded", all("[unused9]系统：[unused10]")},
	{"solar-open", all("<|begin|>", "<|end|>", "<|content|>")},
}
