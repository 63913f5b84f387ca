package interviewer

// Closing is the interviewer's closing words in the campaign's language, for an interview
// the server ends itself (its question budget is spent) without asking the interviewer.
func Closing(c Campaign) string { return templatesFor(c.Language).closing }
