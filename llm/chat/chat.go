package chat

import (
	"errors"
	"fmt"
	"sort"
	"strings"
)

// Errors returned by this package, always wrapped with details; test with
// errors.Is.
var (
	// ErrUnknownTemplate means a name or Jinja template matches no built-in
	// template.
	ErrUnknownTemplate = errors.New("chat: unknown template")
	// ErrNoMessages means Render was given an empty conversation.
	ErrNoMessages = errors.New("chat: no messages")
	// ErrRole means a message has a role the template cannot render.
	ErrRole = errors.New("chat: unsupported role")
)

// Message is one turn of a conversation. Role is "system", "user",
// "assistant", or another role the template accepts (see Template.Roles).
type Message struct {
	Role, Content string
}

// Template is a built-in chat format. The zero value is not usable; get one
// from ByName or Detect.
type Template struct {
	// Name is llama.cpp's name for the format, e.g. "llama3" or "chatml".
	Name string

	// roles lists the roles render handles; nil means the format writes the
	// role verbatim, so any well-formed role is accepted.
	roles []string
	// render appends the prompt for msgs to b. Roles are already checked.
	render func(b *strings.Builder, msgs []Message, addGen bool)
}

// Roles returns the roles the template accepts, or nil when it writes any
// well-formed role name (lower-case ASCII letters, digits, '_' and '-')
// verbatim into the prompt.
func (t *Template) Roles() []string {
	if t.roles == nil {
		return nil
	}
	return append([]string(nil), t.roles...)
}

// Render formats msgs as a prompt. With addGenerationPrompt the prompt ends
// with the opening of an assistant turn, so the model's next tokens are its
// reply; formats whose last user turn already opens that turn ignore the
// flag, as llama.cpp does. It returns an error wrapping ErrNoMessages for an
// empty conversation and ErrRole for a role the template cannot render.
func (t *Template) Render(msgs []Message, addGenerationPrompt bool) (string, error) {
	if t == nil || t.render == nil {
		return "", fmt.Errorf("%w: nil or zero Template (use ByName or Detect)", ErrUnknownTemplate)
	}
	if len(msgs) == 0 {
		return "", fmt.Errorf("%w: %s: nothing to render", ErrNoMessages, t.Name)
	}
	size := 64
	for i, m := range msgs {
		if err := t.checkRole(m.Role); err != nil {
			return "", fmt.Errorf("%w: %s: message %d: %v", ErrRole, t.Name, i, err)
		}
		size += len(m.Role) + len(m.Content) + 64 // 64 covers the longest per-turn markup
	}
	var b strings.Builder
	b.Grow(size)
	t.render(&b, msgs, addGenerationPrompt)
	return b.String(), nil
}

func (t *Template) checkRole(role string) error {
	if t.roles == nil {
		if !wellFormedRole(role) {
			return fmt.Errorf("role %q is not a lower-case identifier", role)
		}
		return nil
	}
	for _, r := range t.roles {
		if r == role {
			return nil
		}
	}
	return fmt.Errorf("role %q not supported (want %s)", role, strings.Join(t.roles, ", "))
}

// wellFormedRole rejects roles that a verbatim format would turn into
// something else, such as a role with a newline or a special-token bracket.
func wellFormedRole(role string) bool {
	if role == "" {
		return false
	}
	for i := 0; i < len(role); i++ {
		c := role[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// ByName returns the built-in template with llama.cpp's name, e.g. "llama2",
// "llama3", "chatml", "mistral-v7", "phi3", "gemma" or "zephyr". Names lists
// all of them.
func ByName(name string) (*Template, error) {
	t, ok := registry[name]
	if !ok {
		return nil, fmt.Errorf("%w: no template named %q; known names: %s",
			ErrUnknownTemplate, name, strings.Join(Names(), ", "))
	}
	c := *t
	return &c, nil
}

// Names returns the names of all built-in templates, sorted.
func Names() []string {
	names := make([]string, 0, len(registry))
	for n := range registry {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Detect picks the built-in template for a model's Jinja chat template (the
// GGUF key tokenizer.chat_template), using llama.cpp's marker substrings in
// llama.cpp's order. A string that is exactly a template name selects that
// template. When nothing matches it returns an error wrapping
// ErrUnknownTemplate; pick a format with ByName instead.
func Detect(jinja string) (*Template, error) {
	if t, ok := registry[jinja]; ok {
		c := *t
		return &c, nil
	}
	if strings.TrimSpace(jinja) == "" {
		return nil, fmt.Errorf("%w: the chat template is empty; choose a format with chat.ByName(name), name one of: %s",
			ErrUnknownTemplate, strings.Join(Names(), ", "))
	}
	for _, r := range detectRules {
		if r.match(jinja) {
			return ByName(r.name)
		}
	}
	head := jinja
	if len(head) > 60 {
		head = head[:60] + "..."
	}
	return nil, fmt.Errorf("%w: no built-in template recognises the chat template (%d bytes, starting %q); choose a format with chat.ByName(name), name one of: %s",
		ErrUnknownTemplate, len(jinja), head, strings.Join(Names(), ", "))
}
