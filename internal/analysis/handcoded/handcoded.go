// Package handcoded reads the hand-coded interview sets the analyzer is measured on
// (internal/analysis/testdata): each set's protocol, every participant's answers in order,
// the themes a person coded with the answers that support them, and the trap answers that
// use a theme's words without supporting it.
package handcoded

import (
	"encoding/json"
	"fmt"
	"os"
)

// Set is one hand-coded set.
type Set struct {
	Fixture  string `json:"fixture"`
	Campaign struct {
		Title      string   `json:"title"`
		Objectives string   `json:"objectives"`
		Questions  []string `json:"questions"`
	} `json:"campaign"`
	// Interviews hold each participant's answers; Answers[i] answers Questions[i].
	Interviews []struct {
		ID      string   `json:"id"`
		Answers []string `json:"answers"`
	} `json:"interviews"`
	Themes []struct {
		Key        string `json:"key"`
		Title      string `json:"title"`
		Supporting []struct {
			InterviewID string `json:"interview_id"`
			AnswerIndex int    `json:"answer_index"`
		} `json:"supporting"`
	} `json:"themes"`
	Traps []struct {
		InterviewID string `json:"interview_id"`
		AnswerIndex int    `json:"answer_index"`
		ThemeKey    string `json:"theme_key"`
		Kind        string `json:"kind"`
	} `json:"traps"`
}

// Load reads the set in a file.
func Load(path string) (*Set, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var s Set
	if err := json.Unmarshal(raw, &s); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &s, nil
}
