package interviewer

// english is the fallback language.
var english = &templates{
	tag:             "en",
	name:            "English",
	quoteOpen:       "“",
	quoteClose:      "”",
	greeting:        "Thanks for taking part in this research about %s. %s",
	greetingNoTitle: "Thanks for taking part in this research. %s",
	closing:         "Thank you, that's all my questions. I really appreciate you taking the time to share your experiences.",
	probes: []string{
		"Could you tell me more about that? For example, describe a specific situation related to %s: what happened, and how did you feel about it?",
		"I'd like to understand that better. Thinking about %s, could you walk me through a concrete example from your own experience?",
		"Could you say a bit more? Regarding %s, what would be the most important thing for you, and why?",
		"That's helpful to hear. When it comes to %s, could you give me an example of a moment when it went particularly well or badly?",
	},
	topicQuestion:  "Tell me about your experience with %s.",
	clauseQuestion: "From your own experience, could you tell me %s?",
	generic: []string{
		"When you think about %s, what comes to mind first?",
		"Could you describe a recent experience you have had that relates to this topic?",
		"What works well for you here, and what is frustrating or difficult?",
		"If you could change one thing about it, what would it be, and why?",
		"Is there anything else you would like to share that we have not talked about yet?",
	},
	thisTopic:   "this topic",
	titleQuoted: false,
	vague: []string{
		"i don't know", "i dont know", "don't know", "dont know", "dunno", "idk", "no idea",
		"not sure", "maybe", "it's fine", "its fine", "it's ok", "it's okay",
		"nothing", "n/a", "whatever", "no comment", "can't say", "cant say", "hard to say",
		"not really", "i guess", "no opinion", "all good",
	},
	goalPrefixes: []string{
		"we want to", "we would like to", "we'd like to", "our goal is to", "the goal is to",
		"goal:", "objective:", "aim:", "to", "better understand", "understand", "learn about",
		"learn", "explore", "find out", "identify", "discover", "assess", "evaluate",
		"investigate", "determine", "uncover", "gain insights into", "get insights into",
		"get a sense of", "measure",
	},
	clauseWords: []string{"how", "why", "what", "which", "when", "where", "who", "whether", "if"},
	invitations: []string{"tell me", "describe", "walk me through", "talk me through"},
}
