package tokenizer

import (
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/dlclark/regexp2"
)

// Pre-tokenizer regexes, as llama.cpp applies them (llama-vocab.cpp,
// llm_tokenizer_bpe). Each list is applied in order: every regex splits each
// piece left by the previous one into its matches and the gaps between them.
const (
	reGPT2   = `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)`
	reLlama3 = `(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`
	// reLlama3Orig is the tokenizer.json form; llama.cpp maps it to the same
	// hand-written splitter.
	reLlama3Orig = `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`
	reQwen2      = `(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`
	reCRLF       = "[\r\n]"
	reCJK        = "[\u4e00-\u9fa5\u0800-\u4e00\uac00-\ud7ff]+"
	// reDeepseekL is the cased-letter class of deepseek-llm's tokenizer,
	// written with escapes because several of its characters (Greek oxia
	// forms, the Ohm and Kelvin signs) change under NFC normalisation.
	reDeepseekL = "\\s?[A-Za-z\u00b5\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u01ba\u01bc-\u01bf\u01c4-\u0293\u0295-\u02af" +
		"\u0370-\u0373\u0376\u0377\u037b-\u037d\u037f\u0386\u0388-\u038a\u038c\u038e-\u03a1\u03a3-\u03f5" +
		"\u03f7-\u0481\u048a-\u052f\u0531-\u0556\u10a0-\u10c5\u13a0-\u13f5\u13f8-\u13fd\u1c90-\u1cba\u1cbd-\u1cbf" +
		"\u1d00-\u1d2b\u1d6b-\u1d77\u1d79-\u1d9a\u1e00-\u1f15\u1f18-\u1f1d\u1f20-\u1f45\u1f48-\u1f4d\u1f50-\u1f57" +
		"\u1f59\u1f5b\u1f5d\u1f5f-\u1f7d\u1f80-\u1fb4\u1fb6-\u1fbc\u1fbe\u1fc2-\u1fc4\u1fc6-\u1fcc\u1fd0-\u1fd3" +
		"\u1fd6-\u1fdb\u1fe0-\u1fec\u1ff2-\u1ff4\u1ff6-\u1ffc\u2102\u2107\u210a-\u2113\u2115\u2119-\u211d\u2124" +
		"\u2126\u2128\u212a-\u212d\u212f-\u2134\u2139\u213c-\u213f\u2145-\u2149\u214e\u2183\u2184\u2c00-\u2c7b" +
		"\u2c7e-\u2ce4\u2ceb-\u2cee\u2cf2\u2cf3\ua640-\ua66d\ua680-\ua69b\ua722-\ua76f\ua771-\ua787\ua78b-\ua78e" +
		"\uab70-\uabbf\ufb00-\ufb06\ufb13-\ufb17\uff21-\uff3a\uff41-\uff5a\U00010400-\U0001044f\U000104b0-\U000104d3" +
		"\U000104d8-\U000104fb\U00010c80-\U00010cb2\U00010cc0-\U00010cf2\U000118a0-\U000118df\U0001e900-\U0001e943]+"
	reDeepseekP = "\\s?[!-/:-~\uff01-\uff0f\uff1a-\uff5e\u2018-\u201f\u3000-\u3002]+"
	reBloom     = " ?[^(\\s|.,!?\u2026\u3002\uff0c\u3001\u0964\u06d4\u060c)]+"
	reTekken    = `[^\r\n\p{L}\p{N}]?((?=[\p{L}])([^a-z]))*((?=[\p{L}])([^A-Z]))+|[^\r\n\p{L}\p{N}]?((?=[\p{L}])([^a-z]))+((?=[\p{L}])([^A-Z]))*|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+`
	reDeepseek3 = "[!\"#$%&'()*+,\\-./:;<=>?@\\[\\\\\\]^_`{|}~][A-Za-z]+|[^\r\n\\p{L}\\p{P}\\p{S}]?[\\p{L}\\p{M}]+| ?[\\p{P}\\p{S}]+[\r\n]*|\\s*[\r\n]+|\\s+(?!\\S)|\\s+"
)

// preSpec is what a tokenizer.ggml.pre name selects in llama.cpp.
type preSpec struct {
	exprs        []string
	ignoreMerges bool // a word that is already a token skips the merges
	keepSpaces   bool // clean_spaces = false when decoding
	addBOS       bool // llama.cpp forces add_bos for this pre-tokenizer
	noBOS        bool // llama.cpp clears the BOS id
}

var (
	exprsDefault   = []string{`[\p{P}\$\+<=>\^~\|]+`, reGPT2, `\p{N}+`, `[0-9][0-9][0-9]`}
	exprsGPT2      = []string{reGPT2}
	exprsLlama3    = []string{reLlama3}
	exprsStarcoder = []string{`\p{N}`, reGPT2}
	exprsBloom     = []string{reBloom}
)

// preSpecs maps tokenizer.ggml.pre values to llama.cpp's choices (as of early
// 2025). An absent pre falls back to "default", as llama.cpp does.
var preSpecs = map[string]preSpec{
	"default":          {exprs: exprsDefault},
	"llama3":           {exprs: exprsLlama3, ignoreMerges: true, addBOS: true},
	"llama-v3":         {exprs: exprsLlama3, ignoreMerges: true, addBOS: true},
	"llama-bpe":        {exprs: exprsLlama3, ignoreMerges: true, addBOS: true},
	"falcon3":          {exprs: exprsLlama3, ignoreMerges: true, addBOS: true},
	"deepseek-llm":     {exprs: []string{reCRLF, reDeepseekL, reDeepseekP, `\s+$`, reCJK, `\p{N}+`}, keepSpaces: true},
	"deepseek-coder":   {exprs: []string{reCRLF, `\s?\p{L}+`, `\s?\p{P}+`, reCJK, `\p{N}`}, keepSpaces: true},
	"deepseek-v3":      {exprs: []string{`\p{N}{1,3}`, "[\u4e00-\u9fa5\u3040-\u309f\u30a0-\u30ff]+", reDeepseek3}, keepSpaces: true},
	"falcon":           {exprs: []string{"[\\p{P}\\$\\+<=>\\^~\\|`]+", reGPT2, `[0-9][0-9][0-9]`}},
	"mpt":              {exprs: exprsGPT2},
	"starcoder":        {exprs: exprsStarcoder},
	"gpt-2":            {exprs: exprsGPT2},
	"phi-2":            {exprs: exprsGPT2},
	"jina-es":          {exprs: exprsGPT2},
	"jina-de":          {exprs: exprsGPT2},
	"gigachat":         {exprs: exprsGPT2},
	"jina-v1-en":       {exprs: exprsGPT2},
	"jina-v2-es":       {exprs: exprsGPT2},
	"jina-v2-de":       {exprs: exprsGPT2},
	"jina-v2-code":     {exprs: exprsGPT2},
	"roberta-bpe":      {exprs: exprsGPT2},
	"refact":           {exprs: exprsStarcoder},
	"command-r":        {exprs: exprsStarcoder, keepSpaces: true},
	"qwen2":            {exprs: []string{reQwen2}, keepSpaces: true},
	"deepseek-r1-qwen": {exprs: []string{reQwen2}, keepSpaces: true},
	"stablelm2":        {exprs: []string{reQwen2}},
	"megrez":           {exprs: []string{reQwen2}},
	"olmo":             {exprs: exprsGPT2},
	"dbrx":             {exprs: exprsLlama3},
	"smaug-bpe":        {exprs: exprsLlama3},
	"poro-chat":        {exprs: exprsBloom, keepSpaces: true},
	"chatglm-bpe":      {exprs: exprsLlama3, noBOS: true},
	"viking":           {exprs: []string{reBloom, `\p{N}`}, keepSpaces: true},
	"jais":             {exprs: exprsGPT2},
	"tekken":           {exprs: []string{reTekken}, ignoreMerges: true, addBOS: true, keepSpaces: true},
	"smollm":           {exprs: exprsStarcoder, keepSpaces: true},
	"codeshell":        {exprs: exprsStarcoder},
	"bloom":            {exprs: exprsBloom},
	"gpt3-finnish":     {exprs: exprsBloom},
	"exaone":           {exprs: exprsStarcoder},
	"minerva-7b":       {exprs: exprsStarcoder},
	"chameleon": {exprs: []string{`<sentinel:[0-9]+>`, `(IMGIMG)((A|B|C|D|E|F|G|H|I){1,4})Z`, `([\t\n]|    |  )`,
		`\p{N}`, "[\\p{P}!-/:-@\\[-`{-~]", reGPT2}, addBOS: true, keepSpaces: true},
}

// PreTokenizers returns the tokenizer.ggml.pre values this package knows,
// sorted.
func PreTokenizers() []string {
	names := make([]string, 0, len(preSpecs))
	for n := range preSpecs {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// splitKind says how one step of a pre-tokenizer runs.
type splitKind uint8

const (
	splitRegex  splitKind = iota // regexp2 over the codepoints
	splitGPT2                    // hand-written equivalent of reGPT2
	splitLlama3                  // hand-written equivalent of reLlama3
)

type splitStep struct {
	kind      splitKind
	re        *regexp2.Regexp
	collapsed bool // matched against the category-collapsed text
}

// splitter is a compiled pre-tokenizer.
type splitter struct {
	steps         []splitStep
	needCollapsed bool
	needWide      bool
}

// Sentinel runes stand in for a whole Unicode category in the collapsed text,
// as llama.cpp's bytes 0xD0..0xD5 do. They are private-use codepoints, which
// never survive collapsing themselves (they collapse to sentinelOther).
const (
	sentinelOther  = 0xE0D0
	sentinelNumber = 0xE0D1
	sentinelLetter = 0xE0D2
	sentinelPunct  = 0xE0D3
	sentinelMark   = 0xE0D4
	sentinelSymbol = 0xE0D5
)

// categoryClasses gives, per \p{..} name, the class body that matches its
// sentinel plus the ASCII members of the category (llama.cpp's k_ucat_map).
var categoryClasses = map[string]string{
	`\p{N}`:  `\uE0D10-9`,
	`\p{L}`:  `\uE0D2A-Za-z`,
	`\p{Lu}`: `\uE0D2A-Za-z`,
	`\p{Ll}`: `\uE0D2A-Za-z`,
	`\p{Lt}`: `\uE0D2A-Za-z`,
	`\p{Lm}`: `\uE0D2A-Za-z`,
	`\p{Lo}`: `\uE0D2A-Za-z`,
	`\p{P}`:  `\uE0D3!-#%-*,-/:-;?-@\[-\]_\{\}`,
	`\p{M}`:  `\uE0D4`,
	`\p{S}`:  `\uE0D5\$\+<->\^` + "`" + `\|`,
}

var (
	splitterMu    sync.Mutex
	splitterCache = map[string]*splitter{}
)

// compileSplitter compiles (and caches) the steps for a regex list.
func compileSplitter(exprs []string) (*splitter, error) {
	key := strings.Join(exprs, "\x00")
	splitterMu.Lock()
	defer splitterMu.Unlock()
	if s, ok := splitterCache[key]; ok {
		return s, nil
	}
	s := &splitter{}
	for _, e := range exprs {
		switch e {
		case reGPT2:
			s.steps = append(s.steps, splitStep{kind: splitGPT2})
			continue
		case reLlama3, reLlama3Orig:
			s.steps = append(s.steps, splitStep{kind: splitLlama3})
			continue
		}
		pat, collapsed, err := translateRegex(e)
		if err != nil {
			return nil, err
		}
		re, err := regexp2.Compile(pat, regexp2.None)
		if err != nil {
			return nil, fmt.Errorf("%w: pre-tokenizer regex %q: %v", ErrVocab, e, err)
		}
		s.steps = append(s.steps, splitStep{kind: splitRegex, re: re, collapsed: collapsed})
		if collapsed {
			s.needCollapsed = true
		} else {
			s.needWide = true
		}
	}
	splitterCache[key] = s
	return s, nil
}

// translateRegex rewrites a llama.cpp regex for regexp2. A regex that uses a
// \p{..} category runs on the collapsed text, where each category becomes a
// class of its sentinel and its ASCII members, exactly as llama.cpp rewrites
// it for std::regex. '$' becomes \z because std::regex's ECMAScript '$' does
// not match before a final newline.
func translateRegex(e string) (string, bool, error) {
	collapsed := false
	for name := range categoryClasses {
		if strings.Contains(e, name) {
			collapsed = true
			break
		}
	}
	if collapsed {
		for _, r := range e {
			if r >= 0x80 {
				return "", false, fmt.Errorf("%w: regex %q mixes categories and non-ASCII characters", ErrVocab, e)
			}
		}
	}
	var b strings.Builder
	inside := false
	for i := 0; i < len(e); i++ {
		c := e[i]
		escaped := i > 0 && e[i-1] == '\\'
		switch {
		case c == '[' && !escaped:
			inside = true
			b.WriteByte(c)
			continue
		case c == ']' && inside && !escaped:
			inside = false
			b.WriteByte(c)
			continue
		case c == '$' && !inside && !escaped:
			b.WriteString(`\z`)
			continue
		case c == '\\' && collapsed && i+2 < len(e) && e[i+1] == 'p' && e[i+2] == '{':
			if end := strings.IndexByte(e[i:], '}'); end > 0 {
				if cls, ok := categoryClasses[e[i:i+end+1]]; ok {
					if inside {
						b.WriteString(cls)
					} else {
						b.WriteString("[" + cls + "]")
					}
					i += end
					continue
				}
			}
		case c == '\\' && i+1 < len(e):
			// Copy an escape pair whole so an escaped '\' is not taken as
			// escaping the next character.
			b.WriteByte(c)
			b.WriteByte(e[i+1])
			i++
			continue
		}
		b.WriteByte(c)
	}
	return b.String(), collapsed, nil
}

// collapse maps each codepoint to itself (ASCII), a vertical tab (other
// whitespace) or its category sentinel, as llama.cpp's text_collapsed.
func collapse(cpts, dst []rune) []rune {
	dst = dst[:0]
	for _, r := range cpts {
		if r < 0x80 {
			dst = append(dst, r)
			continue
		}
		f := flagsOf(r)
		switch {
		case f.is(flagWhitespace):
			dst = append(dst, 0x0B)
		case f&flagCategories == flagNumber:
			dst = append(dst, sentinelNumber)
		case f&flagCategories == flagLetter:
			dst = append(dst, sentinelLetter)
		case f&flagCategories == flagPunct:
			dst = append(dst, sentinelPunct)
		case f&flagCategories == flagMark:
			dst = append(dst, sentinelMark)
		case f&flagCategories == flagSymbol:
			dst = append(dst, sentinelSymbol)
		default:
			dst = append(dst, sentinelOther)
		}
	}
	return dst
}

// widen maps non-ASCII whitespace to a vertical tab, as llama.cpp does
// before running std::wregex.
func widen(cpts, dst []rune) []rune {
	dst = append(dst[:0], cpts...)
	for i, r := range dst {
		if r > 0x7F && flagsOf(r).is(flagWhitespace) {
			dst[i] = 0x0B
		}
	}
	return dst
}

// splitScratch holds reusable buffers for one split.
type splitScratch struct {
	cpts, coll, wide []rune
	offs, next       []int
}

// split returns the lengths, in codepoints, of the pieces of cpts.
func (s *splitter) split(sc *splitScratch) ([]int, error) {
	cpts := sc.cpts
	if s.needCollapsed {
		sc.coll = collapse(cpts, sc.coll)
	}
	if s.needWide {
		sc.wide = widen(cpts, sc.wide)
	}
	offs := append(sc.offs[:0], len(cpts))
	next := sc.next[:0]
	for _, st := range s.steps {
		next = next[:0]
		var err error
		switch st.kind {
		case splitGPT2:
			next = splitGPT2Custom(cpts, offs, next)
		case splitLlama3:
			next = splitLlama3Custom(cpts, offs, next)
		default:
			text := sc.wide
			if st.collapsed {
				text = sc.coll
			}
			next, err = splitRegexp(st.re, text, offs, next)
			if err != nil {
				return nil, err
			}
		}
		offs, next = next, offs
	}
	sc.offs, sc.next = offs, next
	return offs, nil
}

// splitRegexp splits each chunk into its matches and the gaps between them.
func splitRegexp(re *regexp2.Regexp, text []rune, offs, out []int) ([]int, error) {
	start := 0
	for _, n := range offs {
		chunk := text[start : start+n]
		start += n
		prev := 0
		m, err := re.FindRunesMatch(chunk)
		for ; m != nil && err == nil; m, err = re.FindNextMatch(m) {
			if m.Index > prev {
				out = append(out, m.Index-prev)
			}
			if m.Length > 0 {
				out = append(out, m.Length)
			}
			prev = m.Index + m.Length
		}
		if err != nil {
			return nil, fmt.Errorf("tokenizer: pre-tokenizer regex: %w", err)
		}
		if prev < n {
			out = append(out, n-prev)
		}
	}
	return out, nil
}

// chunkCursor gives the splitters bounded access to one chunk: positions
// outside it read as codepoint -1 with zero flags, like llama.cpp's
// OUT_OF_RANGE.
type chunkCursor struct {
	cpts     []rune
	ini, end int
}

func (c *chunkCursor) cpt(p int) rune {
	if p >= c.ini && p < c.end {
		return c.cpts[p]
	}
	return -1
}

func (c *chunkCursor) flags(p int) cptFlags {
	if p >= c.ini && p < c.end {
		return flagsOf(c.cpts[p])
	}
	return 0
}

// splitGPT2Custom is the hand-written form of
// 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
// following llama.cpp's unicode_regex_split_custom_gpt2 step for step.
func splitGPT2Custom(cpts []rune, offs, out []int) []int {
	start := 0
	for _, n := range offs {
		c := chunkCursor{cpts: cpts, ini: start, end: start + n}
		start += n
		prev := c.ini
		add := func(end int) int {
			l := end - prev
			if l > 0 {
				out = append(out, l)
			}
			prev = end
			return l
		}
		for pos := c.ini; pos < c.end; {
			cpt := c.cpt(pos)
			fl := c.flags(pos)
			if cpt == '\'' && pos+1 < c.end {
				nx := c.cpt(pos + 1)
				if nx == 's' || nx == 't' || nx == 'm' || nx == 'd' {
					pos += add(pos + 2)
					continue
				}
				if pos+2 < c.end {
					nn := c.cpt(pos + 2)
					if (nx == 'r' && nn == 'e') || (nx == 'v' && nn == 'e') || (nx == 'l' && nn == 'l') {
						pos += add(pos + 3)
						continue
					}
				}
			}
			f2 := fl
			if cpt == ' ' {
				f2 = c.flags(pos + 1)
			}
			sp := 0
			if cpt == ' ' {
				sp = 1
			}
			if f2.is(flagLetter) {
				pos += sp
				for f2.is(flagLetter) {
					pos++
					f2 = c.flags(pos)
				}
				add(pos)
				continue
			}
			if f2.is(flagNumber) {
				pos += sp
				for f2.is(flagNumber) {
					pos++
					f2 = c.flags(pos)
				}
				add(pos)
				continue
			}
			if !f2.is(flagWhitespace|flagLetter|flagNumber) && f2 != 0 {
				pos += sp
				for !f2.is(flagWhitespace|flagLetter|flagNumber) && f2 != 0 {
					pos++
					f2 = c.flags(pos)
				}
				add(pos)
				continue
			}
			nws := 0
			for c.flags(pos + nws).is(flagWhitespace) {
				nws++
			}
			if nws > 1 && c.cpt(pos+nws) != -1 {
				pos += nws - 1
				add(pos)
				continue
			}
			if nws > 0 {
				pos += nws
				add(pos)
				continue
			}
			pos++
			add(pos)
		}
	}
	return out
}

// splitLlama3Custom is the hand-written form of reLlama3, following
// llama.cpp's unicode_regex_split_custom_llama3 step for step (including its
// use of the current codepoint's flags in the punctuation test).
func splitLlama3Custom(cpts []rune, offs, out []int) []int {
	start := 0
	for _, n := range offs {
		c := chunkCursor{cpts: cpts, ini: start, end: start + n}
		start += n
		prev := c.ini
		add := func(end int) int {
			l := end - prev
			if l > 0 {
				out = append(out, l)
			}
			prev = end
			return l
		}
		for pos := c.ini; pos < c.end; {
			cpt := c.cpt(pos)
			fl := c.flags(pos)
			if cpt == '\'' && pos+1 < c.end {
				nx := lowerCpt(c.cpt(pos + 1))
				if nx == 's' || nx == 't' || nx == 'm' || nx == 'd' {
					pos += add(pos + 2)
					continue
				}
				if pos+2 < c.end {
					nn := lowerCpt(c.cpt(pos + 2))
					if (nx == 'r' && nn == 'e') || (nx == 'v' && nn == 'e') || (nx == 'l' && nn == 'l') {
						pos += add(pos + 3)
						continue
					}
				}
			}
			if !(cpt == '\r' || cpt == '\n' || fl.is(flagNumber)) {
				if fl.is(flagLetter) || c.flags(pos+1).is(flagLetter) {
					pos++
					for c.flags(pos).is(flagLetter) {
						pos++
					}
					add(pos)
					continue
				}
			}
			if fl.is(flagNumber) {
				ini := pos
				for c.flags(pos).is(flagNumber) {
					pos++
					if pos-ini >= 3 {
						add(pos)
						ini = pos
					}
				}
				add(pos)
				continue
			}
			f2 := fl
			sp := 0
			if cpt == ' ' {
				f2 = c.flags(pos + 1)
				sp = 1
			}
			if !f2.is(flagWhitespace|flagLetter|flagNumber) && fl != 0 {
				pos += sp
				for !f2.is(flagWhitespace|flagLetter|flagNumber) && f2 != 0 {
					pos++
					f2 = c.flags(pos)
				}
				for r := c.cpt(pos); r == '\r' || r == '\n'; r = c.cpt(pos) {
					pos++
				}
				add(pos)
				continue
			}
			nws, lastNL := 0, 0
			for c.flags(pos + nws).is(flagWhitespace) {
				if r := c.cpt(pos + nws); r == '\r' || r == '\n' {
					lastNL = pos + nws + 1
				}
				nws++
			}
			if lastNL > 0 {
				pos = lastNL
				add(pos)
				continue
			}
			if nws > 1 && c.cpt(pos+nws) != -1 {
				pos += nws - 1
				add(pos)
				continue
			}
			if nws > 0 {
				pos += nws
				add(pos)
				continue
			}
			pos++
			add(pos)
		}
	}
	return out
}

// lowerCpt is llama.cpp's unicode_tolower (simple lowercase mapping).
func lowerCpt(r rune) rune {
	if r < 0 {
		return r
	}
	if r < 0x80 {
		if 'A' <= r && r <= 'Z' {
			return r + 32
		}
		return r
	}
	return toLower(r)
}
