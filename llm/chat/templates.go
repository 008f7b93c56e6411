package chat

import "strings"

// Role sets. A nil set means the format writes the role name verbatim.
var (
	rolesSUA      = []string{"system", "user", "assistant"}
	rolesSUAT     = []string{"system", "user", "assistant", "tool"}
	rolesSUATF    = []string{"system", "user", "assistant", "tool", "function"}
	rolesVerbatim []string
)

// registry maps llama.cpp's template names to their formatters. Formats
// that treat "any other role" as assistant or user in llama.cpp are limited
// to system/user/assistant here, so an unexpected role is an error instead
// of a silently mislabelled turn.
var registry = map[string]*Template{}

func register(name string, roles []string, render func(*strings.Builder, []Message, bool)) {
	if _, dup := registry[name]; dup {
		panic("chat: duplicate template " + name)
	}
	registry[name] = &Template{Name: name, roles: roles, render: render}
}

func init() {
	register("chatml", rolesVerbatim, renderChatML)
	register("llama2", rolesSUA, llama2(false, false, false))
	register("llama2-sys", rolesSUA, llama2(true, false, false))
	register("llama2-sys-bos", rolesSUA, llama2(true, true, false))
	register("llama2-sys-strip", rolesSUA, llama2(true, false, true))
	register("mistral-v1", rolesSUA, mistral(" ", " ", false))
	register("mistral-v3", rolesSUA, mistral("", " ", true))
	register("mistral-v3-tekken", rolesSUA, mistral("", "", false))
	register("mistral-v7", rolesSUA, mistralV7(" "))
	register("mistral-v7-tekken", rolesSUA, mistralV7(""))
	register("phi3", rolesVerbatim, tagged("<|", "|>\n", "<|end|>\n", "<|assistant|>\n", false))
	register("phi4", rolesVerbatim, tagged("<|im_start|>", "<|im_sep|>", "<|im_end|>", "<|im_start|>assistant<|im_sep|>", false))
	register("falcon3", rolesVerbatim, tagged("<|", "|>\n", "\n", "<|assistant|>\n", false))
	register("zephyr", rolesVerbatim, tagged("<|", "|>\n", "<|endoftext|>\n", "<|assistant|>\n", false))
	register("monarch", rolesVerbatim, renderMonarch)
	register("gemma", rolesSUA, renderGemma)
	register("orion", rolesSUA, renderOrion)
	register("openchat", rolesVerbatim, renderOpenChat)
	register("vicuna", rolesSUA, vicuna(false))
	register("vicuna-orca", rolesSUA, vicuna(true))
	register("deepseek", rolesSUA, renderDeepSeekCoder)
	register("deepseek2", rolesSUA, renderDeepSeek2)
	register("deepseek3", rolesSUA, renderDeepSeek3)
	register("deepseek-ocr", rolesSUA, renderContentOnly)
	register("command-r", rolesSUA, renderCommandR)
	register("llama3", rolesVerbatim, tagged("<|start_header_id|>", "<|end_header_id|>\n\n", "<|eot_id|>", "<|start_header_id|>assistant<|end_header_id|>\n\n", true))
	register("llama4", rolesVerbatim, tagged("<|header_start|>", "<|header_end|>\n\n", "<|eot|>", "<|header_start|>assistant<|header_end|>\n\n", true))
	register("chatglm3", rolesVerbatim, chatGLM("[gMASK]sop", "|>\n ", "<|assistant|>"))
	register("chatglm4", rolesVerbatim, chatGLM("[gMASK]<sop>", "|>\n", "<|assistant|>\n"))
	register("glmedge", rolesVerbatim, chatGLM("", "|>\n", "<|assistant|>"))
	register("minicpm", rolesSUA, renderMiniCPM)
	register("exaone3", rolesSUA, exaone("[|", "|]", "\n", "[|endofturn|]\n", "[|assistant|]"))
	register("exaone4", rolesSUAT, exaone("[|", "|]", "\n", "[|endofturn|]\n", "[|assistant|]"))
	register("exaone-moe", rolesSUAT, exaone("<|", "|>\n", "<|endofturn|>\n", "<|endofturn|>\n", "<|assistant|>\n"))
	register("rwkv-world", rolesSUA, renderRWKVWorld)
	register("granite", rolesVerbatim, granite(false))
	register("granite-4.0", rolesVerbatim, granite(true))
	register("gigachat", rolesSUA, renderGigaChat)
	register("megrez", rolesVerbatim, tagged("<|role_start|>", "<|role_end|>", "<|turn_end|>", "<|role_start|>assistant<|role_end|>", false))
	register("yandex", rolesSUA, renderYandex)
	register("bailing", rolesVerbatim, bailing(false, false))
	register("bailing-think", rolesVerbatim, bailing(true, false))
	register("bailing2", rolesVerbatim, bailing(false, true))
	register("smolvlm", rolesSUA, renderSmolVLM)
	register("dots1", rolesSUA, renderDots1)
	register("hunyuan-moe", rolesSUA, renderHunyuanMoE)
	register("gpt-oss", rolesVerbatim, renderGPTOSS)
	register("kimi-k2", rolesSUAT, renderKimiK2)
	register("seed_oss", rolesVerbatim, renderSeedOSS)
	register("grok-2", rolesSUA, renderGrok2)
	register("pangu-embedded", rolesSUATF, renderPangu)
	register("solar-open", rolesVerbatim, tagged("<|begin|>", "<|content|>", "<|end|>", "<|begin|>assistant", false))
}

// trim removes the bytes C's isspace accepts from both ends, as llama.cpp
// does; strings.TrimSpace would also strip Unicode spaces such as U+3000.
func trim(s string) string { return strings.Trim(s, " \t\n\v\f\r") }

// upperASCII upper-cases ASCII letters only, like ::toupper in the C locale.
func upperASCII(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'a' <= c && c <= 'z' {
			b[i] = c - 'a' + 'A'
		}
	}
	return string(b)
}

// tagged writes open+role+mid+content+end per message and gen at the end
// when asked: the shape of chatml-like formats. trimContent trims content.
func tagged(open, mid, end, gen string, trimContent bool) func(*strings.Builder, []Message, bool) {
	return func(b *strings.Builder, msgs []Message, addGen bool) {
		for _, m := range msgs {
			c := m.Content
			if trimContent {
				c = trim(c)
			}
			b.WriteString(open)
			b.WriteString(m.Role)
			b.WriteString(mid)
			b.WriteString(c)
			b.WriteString(end)
		}
		if addGen {
			b.WriteString(gen)
		}
	}
}

// renderChatML writes <|im_start|>role\ncontent<|im_end|>\n per message.
func renderChatML(b *strings.Builder, msgs []Message, addGen bool) {
	tagged("<|im_start|>", "\n", "<|im_end|>\n", "<|im_start|>assistant\n", false)(b, msgs, addGen)
}

// llama2 renders "[INST] user [/INST]assistant</s>" turns. sys wraps a
// system message in <<SYS>>; without it the system text is glued to the
// first user message with a newline. bosInside writes "<s>" before each
// later [INST]; strip trims every message. The output always ends ready for
// the reply, so addGen is ignored.
func llama2(sys, bosInside, strip bool) func(*strings.Builder, []Message, bool) {
	return func(b *strings.Builder, msgs []Message, _ bool) {
		inside := true // the first "[INST] " is written up front, without BOS
		b.WriteString("[INST] ")
		for _, m := range msgs {
			c := m.Content
			if strip {
				c = trim(c)
			}
			if !inside {
				inside = true
				if bosInside {
					b.WriteString("<s>")
				}
				b.WriteString("[INST] ")
			}
			switch m.Role {
			case "system":
				if sys {
					b.WriteString("<<SYS>>\n" + c + "\n<</SYS>>\n\n")
				} else {
					b.WriteString(c + "\n")
				}
			case "user":
				b.WriteString(c + " [/INST]")
			default:
				b.WriteString(c + "</s>")
				inside = false
			}
		}
	}
}

// mistral renders Mistral AI's v1/v3 formats: lead is the space before
// [INST] and [/INST] (v1), trail the space after [INST] and before the
// reply (not in tekken); trimReply trims assistant text (v3). The system
// message opens the first [INST] block.
func mistral(lead, trail string, trimReply bool) func(*strings.Builder, []Message, bool) {
	return func(b *strings.Builder, msgs []Message, _ bool) {
		inside := false
		for _, m := range msgs {
			if !inside {
				b.WriteString(lead + "[INST]" + trail)
				inside = true
			}
			switch m.Role {
			case "system":
				b.WriteString(m.Content + "\n\n")
			case "user":
				b.WriteString(m.Content + lead + "[/INST]")
			default:
				c := m.Content
				if trimReply {
					c = trim(c)
				}
				b.WriteString(trail + c + "</s>")
				inside = false
			}
		}
	}
}

// mistralV7 renders [SYSTEM_PROMPT]/[INST] blocks; sp is the space after
// each opening tag (absent in the tekken variant).
func mistralV7(sp string) func(*strings.Builder, []Message, bool) {
	return func(b *strings.Builder, msgs []Message, _ bool) {
		for _, m := range msgs {
			switch m.Role {
			case "system":
				b.WriteString("[SYSTEM_PROMPT]" + sp + m.Content + "[/SYSTEM_PROMPT]")
			case "user":
				b.WriteString("[INST]" + sp + m.Content + "[/INST]")
			default:
				b.WriteString(sp + m.Content + "</s>")
			}
		}
	}
}

// renderMonarch writes role\ncontent</s>\n with "<s>" before every message
// but the first (whose BOS the tokenizer adds).
func renderMonarch(b *strings.Builder, msgs []Message, addGen bool) {
	for i, m := range msgs {
		if i > 0 {
			b.WriteString("<s>")
		}
		b.WriteString(m.Role + "\n" + m.Content + "</s>\n")
	}
	if addGen {
		b.WriteString("<s>assistant\n")
	}
}

// renderGemma writes <start_of_turn>role\ncontent<end_of_turn>\n with
// "assistant" spelled "model". Gemma has no system turn: system text is
// trimmed, collected and put at the top of the next user turn. All content
// is trimmed.
func renderGemma(b *strings.Builder, msgs []Message, addGen bool) {
	system := ""
	for _, m := range msgs {
		if m.Role == "system" {
			system += trim(m.Content)
			continue
		}
		role := m.Role
		if role == "assistant" {
			role = "model"
		}
		b.WriteString("<start_of_turn>" + role + "\n")
		if system != "" && role != "model" {
			b.WriteString(system + "\n\n")
			system = ""
		}
		b.WriteString(trim(m.Content) + "<end_of_turn>\n")
	}
	if addGen {
		b.WriteString("<start_of_turn>model\n")
	}
}

// renderOrion writes "Human: ...\n\nAssistant: </s>" and "reply</s>";
// system text is put at the top of the next user turn.
func renderOrion(b *strings.Builder, msgs []Message, _ bool) {
	system := ""
	for _, m := range msgs {
		switch m.Role {
		case "system":
			system += m.Content
		case "user":
			b.WriteString("Human: ")
			if system != "" {
				b.WriteString(system + "\n\n")
				system = ""
			}
			b.WriteString(m.Content + "\n\nAssistant: </s>")
		default:
			b.WriteString(m.Content + "</s>")
		}
	}
}

// renderOpenChat writes "GPT4 Correct Role: content<|end_of_turn|>" with the
// role's first letter upper-cased; the system text stands alone.
func renderOpenChat(b *strings.Builder, msgs []Message, addGen bool) {
	for _, m := range msgs {
		if m.Role == "system" {
			b.WriteString(m.Content + "<|end_of_turn|>")
			continue
		}
		b.WriteString("GPT4 Correct " + upperASCII(m.Role[:1]) + m.Role[1:] + ": " + m.Content + "<|end_of_turn|>")
	}
	if addGen {
		b.WriteString("GPT4 Correct Assistant:")
	}
}

// vicuna writes USER:/ASSISTANT: lines; orca prefixes the system text with
// "SYSTEM: " instead of following it with a blank line.
func vicuna(orca bool) func(*strings.Builder, []Message, bool) {
	return func(b *strings.Builder, msgs []Message, addGen bool) {
		for _, m := range msgs {
			switch m.Role {
			case "system":
				if orca {
					b.WriteString("SYSTEM: " + m.Content + "\n")
				} else {
					b.WriteString(m.Content + "\n\n")
				}
			case "user":
				b.WriteString("USER: " + m.Content + "\n")
			case "assistant":
				b.WriteString("ASSISTANT: " + m.Content + "</s>\n")
			}
		}
		if addGen {
			b.WriteString("ASSISTANT:")
		}
	}
}

// renderDeepSeekCoder writes ### Instruction:/### Response: blocks, each
// reply closed by <|EOT|>.
func renderDeepSeekCoder(b *strings.Builder, msgs []Message, addGen bool) {
	for _, m := range msgs {
		switch m.Role {
		case "system":
			b.WriteString(m.Content)
		case "user":
			b.WriteString("### Instruction:\n" + m.Content + "\n")
		case "assistant":
			b.WriteString("### Response:\n" + m.Content + "\n<|EOT|>\n")
		}
	}
	if addGen {
		b.WriteString("### Response:\n")
	}
}

const deepSeekEOS = "<｜end▁of▁sentence｜>"

// renderDeepSeek2 writes "User: ...\n\n" and "Assistant: ...<eos>".
func renderDeepSeek2(b *strings.Builder, msgs []Message, addGen bool) {
	for _, m := range msgs {
		switch m.Role {
		case "system":
			b.WriteString(m.Content + "\n\n")
		case "user":
			b.WriteString("User: " + m.Content + "\n\n")
		case "assistant":
			b.WriteString("Assistant: " + m.Content + deepSeekEOS)
		}
	}
	if addGen {
		b.WriteString("Assistant:")
	}
}

// renderDeepSeek3 writes <｜User｜> and <｜Assistant｜> turns.
func renderDeepSeek3(b *strings.Builder, msgs []Message, addGen bool) {
	for _, m := range msgs {
		switch m.Role {
		case "system":
			b.WriteString(m.Content + "\n\n")
		case "user":
			b.WriteString("<｜User｜>" + m.Content)
		case "assistant":
			b.WriteString("<｜Assistant｜>" + m.Content + deepSeekEOS)
		}
	}
	if addGen {
		b.WriteString("<｜Assistant｜>")
	}
}

// renderContentOnly concatenates the contents: DeepSeek-OCR has no chat
// format.
func renderContentOnly(b *strings.Builder, msgs []Message, _ bool) {
	for _, m := range msgs {
		b.WriteString(m.Content)
	}
}

// renderCommandR writes Cohere's turn tokens around trimmed content.
func renderCommandR(b *strings.Builder, msgs []Message, addGen bool) {
	tok := map[string]string{"system": "<|SYSTEM_TOKEN|>", "user": "<|USER_TOKEN|>", "assistant": "<|CHATBOT_TOKEN|>"}
	for _, m := range msgs {
		b.WriteString("<|START_OF_TURN_TOKEN|>" + tok[m.Role] + trim(m.Content) + "<|END_OF_TURN_TOKEN|>")
	}
	if addGen {
		b.WriteString("<|START_OF_TURN_TOKEN|><|CHATBOT_TOKEN|>")
	}
}

// chatGLM writes prefix, then <|role|>+sep+content per message.
func chatGLM(prefix, sep, gen string) func(*strings.Builder, []Message, bool) {
	return func(b *strings.Builder, msgs []Message, addGen bool) {
		b.WriteString(prefix)
		for _, m := range msgs {
			b.WriteString("<|" + m.Role + sep + m.Content)
		}
		if addGen {
			b.WriteString(gen)
		}
	}
}

// renderMiniCPM writes "<用户>question<AI>answer" with trimmed content.
func renderMiniCPM(b *strings.Builder, msgs []Message, _ bool) {
	for _, m := range msgs {
		if m.Role == "user" {
			b.WriteString("<用户>" + trim(m.Content) + "<AI>")
		} else {
			b.WriteString(trim(m.Content))
		}
	}
}

// exaone writes open+role+close+trimmed content, ended by userEnd for user
// turns and end for the others.
func exaone(open, close, userEnd, end, gen string) func(*strings.Builder, []Message, bool) {
	return func(b *strings.Builder, msgs []Message, addGen bool) {
		for _, m := range msgs {
			e := end
			if m.Role == "user" {
				e = userEnd
			}
			b.WriteString(open + m.Role + close + trim(m.Content) + e)
		}
		if addGen {
			b.WriteString(gen)
		}
	}
}

// renderRWKVWorld writes "User: ...\n\n" turns; after a final user turn it
// always opens "Assistant:" ("\n\n" is the model's end-of-turn).
func renderRWKVWorld(b *strings.Builder, msgs []Message, _ bool) {
	for i, m := range msgs {
		switch m.Role {
		case "system":
			b.WriteString("System: " + trim(m.Content) + "\n\n")
		case "user":
			b.WriteString("User: " + trim(m.Content) + "\n\n")
			if i == len(msgs)-1 {
				b.WriteString("Assistant:")
			}
		case "assistant":
			b.WriteString("Assistant: " + trim(m.Content) + "\n\n")
		}
	}
}

// granite writes IBM's <|start_of_role|> turns. The pseudo-role
// assistant_tool_call adds <|tool_call|>; Granite 4.0 also renames it
// assistant.
func granite(v4 bool) func(*strings.Builder, []Message, bool) {
	return func(b *strings.Builder, msgs []Message, addGen bool) {
		for _, m := range msgs {
			role := m.Role
			if v4 && role == "assistant_tool_call" {
				role = "assistant"
			}
			b.WriteString("<|start_of_role|>" + role + "<|end_of_role|>")
			if m.Role == "assistant_tool_call" {
				b.WriteString("<|tool_call|>")
			}
			b.WriteString(m.Content + "<|end_of_text|>\n")
		}
		if addGen {
			b.WriteString("<|start_of_role|>assistant<|end_of_role|>")
		}
	}
}

// renderGigaChat writes "<s>", a leading system message, then
// role<|role_sep|>content<|message_sep|> turns; each user turn is followed
// by an empty function list. A system message after the first is dropped,
// as in llama.cpp.
func renderGigaChat(b *strings.Builder, msgs []Message, addGen bool) {
	b.WriteString("<s>")
	rest := msgs
	if msgs[0].Role == "system" {
		b.WriteString(msgs[0].Content + "<|message_sep|>")
		rest = msgs[1:]
	}
	for _, m := range rest {
		switch m.Role {
		case "user":
			b.WriteString("user<|role_sep|>" + m.Content + "<|message_sep|>available functions<|role_sep|>[]<|message_sep|>")
		case "assistant":
			b.WriteString("assistant<|role_sep|>" + m.Content + "<|message_sep|>")
		}
	}
	if addGen {
		b.WriteString("assistant<|role_sep|>")
	}
}

// renderYandex writes " Пользователь: ...\n\n" and " Ассистент: ...\n\n"
// turns ("\n\n" is the end-of-turn). It has no system turn: llama.cpp drops
// system messages.
func renderYandex(b *strings.Builder, msgs []Message, addGen bool) {
	for _, m := range msgs {
		switch m.Role {
		case "user":
			b.WriteString(" Пользователь: " + m.Content + "\n\n")
		case "assistant":
			b.WriteString(" Ассистент: " + m.Content + "\n\n")
		}
	}
	if addGen {
		b.WriteString(" Ассистент:[SEP]")
	}
}

// bailing writes <role>ROLE</role>content with user spelled HUMAN. think
// opens a <think> block after the generation prompt; v2 ends each turn
// with <|role_end|> and supplies a default system turn.
func bailing(think, v2 bool) func(*strings.Builder, []Message, bool) {
	return func(b *strings.Builder, msgs []Message, addGen bool) {
		if v2 && msgs[0].Role != "system" {
			b.WriteString("<role>SYSTEM</role>detailed thinking off<|role_end|>")
		}
		for _, m := range msgs {
			role := "HUMAN"
			if m.Role != "user" {
				role = upperASCII(m.Role)
			}
			b.WriteString("<role>" + role + "</role>" + m.Content)
			if v2 {
				b.WriteString("<|role_end|>")
			}
		}
		if addGen {
			b.WriteString("<role>ASSISTANT</role>")
			if think {
				b.WriteString("<think>")
			}
		}
	}
}

// renderSmolVLM writes "User: ...<end_of_utterance>\n" turns after a
// leading <|im_start|> (SmolVLM's BOS).
func renderSmolVLM(b *strings.Builder, msgs []Message, addGen bool) {
	b.WriteString("<|im_start|>")
	for _, m := range msgs {
		switch m.Role {
		case "system":
			b.WriteString(m.Content + "\n\n")
		case "user":
			b.WriteString("User: " + m.Content + "<end_of_utterance>\n")
		default:
			b.WriteString("Assistant: " + m.Content + "<end_of_utterance>\n")
		}
	}
	if addGen {
		b.WriteString("Assistant:")
	}
}

// renderDots1 writes dots.llm1's <|userprompt|>/<|response|> blocks.
func renderDots1(b *strings.Builder, msgs []Message, addGen bool) {
	for _, m := range msgs {
		switch m.Role {
		case "system":
			b.WriteString("<|system|>" + m.Content + "<|endofsystem|>")
		case "user":
			b.WriteString("<|userprompt|>" + m.Content + "<|endofuserprompt|>")
		default:
			b.WriteString("<|response|>" + m.Content + "<|endofresponse|>")
		}
	}
	if addGen {
		b.WriteString("<|response|>")
	}
}

// renderHunyuanMoE writes Hunyuan-A13B's <|startoftext|> turns; the user
// turn's <|extra_0|> already opens the reply.
func renderHunyuanMoE(b *strings.Builder, msgs []Message, _ bool) {
	for _, m := range msgs {
		switch m.Role {
		case "system":
			b.WriteString("<|startoftext|>" + m.Content + "<|extra_4|>")
		case "assistant":
			b.WriteString(m.Content + "<|eos|>")
		default:
			b.WriteString("<|startoftext|>" + m.Content + "<|extra_0|>")
		}
	}
}

// renderGPTOSS writes the Harmony format: <|start|>role<|message|>content,
// closed by <|return|> for assistant turns and <|end|> otherwise.
func renderGPTOSS(b *strings.Builder, msgs []Message, addGen bool) {
	for _, m := range msgs {
		b.WriteString("<|start|>" + m.Role + "<|message|>" + m.Content)
		if m.Role == "assistant" {
			b.WriteString("<|return|>")
		} else {
			b.WriteString("<|end|>")
		}
	}
	if addGen {
		b.WriteString("<|start|>assistant")
	}
}

// renderKimiK2 writes <|im_system|>/<|im_user|>/<|im_assistant|> turns; a
// tool result is a system-side turn named tool.
func renderKimiK2(b *strings.Builder, msgs []Message, addGen bool) {
	open := map[string]string{
		"system":    "<|im_system|>system<|im_middle|>",
		"user":      "<|im_user|>user<|im_middle|>",
		"assistant": "<|im_assistant|>assistant<|im_middle|>",
		"tool":      "<|im_system|>tool<|im_middle|>",
	}
	for _, m := range msgs {
		b.WriteString(open[m.Role] + m.Content + "<|im_end|>")
	}
	if addGen {
		b.WriteString("<|im_assistant|>assistant<|im_middle|>")
	}
}

// renderSeedOSS writes <seed:bos>role\ncontent<seed:eos>, trimming replies.
func renderSeedOSS(b *strings.Builder, msgs []Message, addGen bool) {
	for _, m := range msgs {
		c := m.Content
		if m.Role == "assistant" {
			c = trim(c)
		}
		b.WriteString("<seed:bos>" + m.Role + "\n" + c + "<seed:eos>")
	}
	if addGen {
		b.WriteString("<seed:bos>assistant\n")
	}
}

// renderGrok2 writes "Role: content<|separator|>\n\n" turns; system and
// user text is trimmed, replies are not.
func renderGrok2(b *strings.Builder, msgs []Message, addGen bool) {
	for _, m := range msgs {
		switch m.Role {
		case "system":
			b.WriteString("System: " + trim(m.Content) + "<|separator|>\n\n")
		case "user":
			b.WriteString("Human: " + trim(m.Content) + "<|separator|>\n\n")
		case "assistant":
			b.WriteString("Assistant: " + m.Content + "<|separator|>\n\n")
		}
	}
	if addGen {
		b.WriteString("Assistant:")
	}
}

// renderPangu writes [unused9]角色：content[unused10] turns, with an empty
// system turn first when the conversation has none.
func renderPangu(b *strings.Builder, msgs []Message, addGen bool) {
	label := map[string]string{"system": "系统", "user": "用户", "assistant": "助手", "tool": "工具", "function": "方法"}
	if msgs[0].Role != "system" {
		b.WriteString("[unused9]系统：[unused10]")
	}
	for _, m := range msgs {
		b.WriteString("[unused9]" + label[m.Role] + "：" + m.Content + "[unused10]")
	}
	if addGen {
		b.WriteString("[unused9]助手：")
	}
}
