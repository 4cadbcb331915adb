// Package textutils holds small text helpers: the Go example for swarm-lsp.
package textutils

import (
	"errors"
	"strings"
)

// ErrEmpty is returned when there is no text to work on.
var ErrEmpty = errors.New("empty text")

type Counter struct {
	counts map[string]int
}

func Truncate(text string, width int) (string, error) {
	if width < 3 {
		return "", errors.New("width too small")
	}
	if len(text) <= width {
		return text, nil
	}
	return text[:width-3] + "...", nil
}

func (c *Counter) Add(text string) error {
	if strings.TrimSpace(text) == "" {
		return ErrEmpty
	}
	if c.counts == nil {
		c.counts = map[string]int{}
	}
	for _, word := range strings.Fields(strings.ToLower(text)) {
		c.counts[word]++
	}
	return nil
}
