package sample

import "strings"

// Stopper watches streamed text for stop strings. Push returns the text
// that can be shown now: it holds back any tail that could still grow
// into a stop string, and cuts the text at the first stop string found.
type Stopper struct {
	stops   []string
	pending strings.Builder
	done    bool
}

// NewStopper returns a Stopper for the non-empty strings of stops.
func NewStopper(stops []string) *Stopper {
	s := &Stopper{}
	for _, t := range stops {
		if t != "" {
			s.stops = append(s.stops, t)
		}
	}
	return s
}

// Push adds text and returns what can be emitted, and whether a stop
// string has been reached (the emitted text then ends just before it and
// later pushes return nothing).
func (s *Stopper) Push(text string) (emit string, stopped bool) {
	if s.done {
		return "", true
	}
	s.pending.WriteString(text)
	buf := s.pending.String()
	cut := -1
	for _, t := range s.stops {
		if i := strings.Index(buf, t); i >= 0 && (cut < 0 || i < cut) {
			cut = i
		}
	}
	if cut >= 0 {
		s.done = true
		s.pending.Reset()
		return buf[:cut], true
	}
	hold := 0
	for _, t := range s.stops {
		for k := min(len(t)-1, len(buf)); k > hold; k-- {
			if strings.HasSuffix(buf, t[:k]) {
				hold = k
				break
			}
		}
	}
	s.pending.Reset()
	s.pending.WriteString(buf[len(buf)-hold:])
	return buf[:len(buf)-hold], false
}

// Flush returns the held-back text at the end of generation.
func (s *Stopper) Flush() string {
	out := s.pending.String()
	s.pending.Reset()
	return out
}
