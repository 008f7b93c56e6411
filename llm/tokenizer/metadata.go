package tokenizer

import (
	"fmt"
)

// metadata is the part of gguf.Metadata the loader reads. Getters fail for
// absent keys; the loader checks Has first so absence means "default".
type metadata interface {
	Has(key string) bool
	GetString(key string) (string, error)
	GetUint(key string) (uint64, error)
	GetBool(key string) (bool, error)
	GetStrings(key string) ([]string, error)
	GetFloat32s(key string) ([]float32, error)
	GetInt32s(key string) ([]int32, error)
}

// GGUF metadata keys read by VocabFromMetadata.
const (
	keyModel       = "tokenizer.ggml.model"
	keyPre         = "tokenizer.ggml.pre"
	keyTokens      = "tokenizer.ggml.tokens"
	keyScores      = "tokenizer.ggml.scores"
	keyTypes       = "tokenizer.ggml.token_type"
	keyMerges      = "tokenizer.ggml.merges"
	keyAddBOS      = "tokenizer.ggml.add_bos_token"
	keyAddEOS      = "tokenizer.ggml.add_eos_token"
	keySpacePrefix = "tokenizer.ggml.add_space_prefix"
	keyName        = "general.name"
)

// vocabFromMetadata reads a Vocab with llama.cpp's per-model defaults
// (llama_vocab::impl::load).
func vocabFromMetadata(md metadata) (*Vocab, error) {
	v := &Vocab{BOS: NoToken, EOS: NoToken, EOT: NoToken, EOM: NoToken, UNK: NoToken, SEP: NoToken, PAD: NoToken, Mask: NoToken}
	var err error
	if v.Model, err = md.GetString(keyModel); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrVocab, err)
	}
	if md.Has(keyPre) {
		if v.Pre, err = md.GetString(keyPre); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrVocab, err)
		}
	}
	if md.Has(keyName) {
		v.Name, _ = md.GetString(keyName) // only a hint; a bad value is ignored
	}
	if v.Tokens, err = md.GetStrings(keyTokens); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrVocab, err)
	}
	if md.Has(keyScores) {
		if v.Scores, err = md.GetFloat32s(keyScores); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrVocab, err)
		}
	}
	if md.Has(keyTypes) {
		types, err := md.GetInt32s(keyTypes)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrVocab, err)
		}
		v.Types = make([]TokenType, len(types))
		for i, t := range types {
			v.Types[i] = TokenType(t)
		}
	}

	switch v.Model {
	case ModelSPM:
		v.BOS, v.EOS, v.UNK = 1, 2, 0
		v.AddSpacePrefix, v.AddBOS = true, true
	case ModelWPM:
		v.BOS, v.UNK, v.SEP, v.PAD, v.Mask = 101, 100, 102, 0, 103
		v.AddBOS, v.CleanSpaces = true, true
		v.Lowercase, v.StripAccents = true, true
	case ModelBPE:
		if v.Merges, err = md.GetStrings(keyMerges); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrVocab, err)
		}
		v.BOS, v.EOS = 11, 11
		pre := v.Pre
		if pre == "" {
			pre = "default"
		}
		spec, ok := preSpecs[pre]
		if !ok {
			return nil, fmt.Errorf("%w: unknown pre-tokenizer %q", ErrVocab, v.Pre)
		}
		v.CleanSpaces = !spec.keepSpaces
		v.IgnoreMerges = spec.ignoreMerges
		v.AddBOS = spec.addBOS
		if spec.noBOS {
			v.BOS = NoToken
		}
	default:
		return nil, fmt.Errorf("%w: unsupported tokenizer model %q", ErrVocab, v.Model)
	}
	if md.Has(keySpacePrefix) {
		if v.AddSpacePrefix, err = md.GetBool(keySpacePrefix); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrVocab, err)
		}
	}

	// Special ids: a default outside the vocabulary is disabled; a stored id
	// outside it is ignored (stories260K stores padding id 2^32-1).
	n := int32(len(v.Tokens))
	ids := []struct {
		key string
		p   *int32
	}{
		{"tokenizer.ggml.bos_token_id", &v.BOS},
		{"tokenizer.ggml.eos_token_id", &v.EOS},
		{"tokenizer.ggml.eot_token_id", &v.EOT},
		{"tokenizer.ggml.eom_token_id", &v.EOM},
		{"tokenizer.ggml.unknown_token_id", &v.UNK},
		{"tokenizer.ggml.seperator_token_id", &v.SEP}, // sic: llama.cpp's spelling
		{"tokenizer.ggml.padding_token_id", &v.PAD},
		{"tokenizer.ggml.mask_token_id", &v.Mask},
	}
	for _, k := range ids {
		if *k.p >= n {
			*k.p = NoToken
		}
		if !md.Has(k.key) {
			continue
		}
		id, err := md.GetUint(k.key)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrVocab, err)
		}
		if id < uint64(n) {
			*k.p = int32(id)
		}
	}
	if md.Has(keyAddBOS) {
		if v.AddBOS, err = md.GetBool(keyAddBOS); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrVocab, err)
		}
	}
	if md.Has(keyAddEOS) {
		if v.AddEOS, err = md.GetBool(keyAddEOS); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrVocab, err)
		}
	}
	if v.AddBOS && v.BOS == NoToken {
		return nil, fmt.Errorf("%w: add_bos_token is true but there is no BOS id", ErrVocab)
	}
	if v.AddEOS && v.EOS == NoToken {
		return nil, fmt.Errorf("%w: add_eos_token is true but there is no EOS id", ErrVocab)
	}
	return v, nil
}
