package interviewer

// german addresses the participant formally (Sie), as research interviews do.
//
//nolint:misspell // the spell checker knows English only
var german = &templates{
	tag:             "de",
	name:            "German",
	quoteOpen:       "„",
	quoteClose:      "“",
	greeting:        "Vielen Dank, dass Sie an dieser Studie zum Thema %s teilnehmen. %s",
	greetingNoTitle: "Vielen Dank, dass Sie an dieser Studie teilnehmen. %s",
	closing:         "Vielen Dank, das waren alle meine Fragen. Ich weiß es sehr zu schätzen, dass Sie sich die Zeit genommen haben, Ihre Erfahrungen zu teilen.",
	probes: []string{
		"Könnten Sie mir mehr darüber erzählen? Beschreiben Sie zum Beispiel eine konkrete Situation im Zusammenhang mit %s: Was ist passiert, und wie ging es Ihnen dabei?",
		"Das würde ich gern besser verstehen. Wenn Sie an %s denken, könnten Sie mir ein konkretes Beispiel aus Ihrer eigenen Erfahrung schildern?",
		"Könnten Sie das etwas ausführen? Was wäre Ihnen bei %s am wichtigsten, und warum?",
		"Danke, das ist hilfreich. Können Sie mir bei %s ein Beispiel für einen Moment nennen, in dem es besonders gut oder schlecht lief?",
	},
	// "zum Thema „…“" and a quoted topic avoid inflecting a noun phrase we cannot parse.
	topicQuestion:  "Erzählen Sie mir von Ihren Erfahrungen zum Thema „%s“.",
	clauseQuestion: "Könnten Sie mir aus Ihrer eigenen Erfahrung erzählen, %s?",
	generic: []string{
		"Was fällt Ihnen als Erstes ein, wenn Sie an %s denken?",
		"Können Sie eine Erfahrung aus letzter Zeit beschreiben, die mit diesem Thema zu tun hat?",
		"Was funktioniert dabei gut für Sie, und was ist frustrierend oder schwierig?",
		"Wenn Sie eine Sache daran ändern könnten, welche wäre das und warum?",
		"Gibt es sonst noch etwas, das Sie mitteilen möchten und worüber wir noch nicht gesprochen haben?",
	},
	thisTopic:   "dieses Thema",
	titleQuoted: true,
	vague: []string{
		"weiß nicht", "weiss nicht", "keine ahnung", "nicht sicher", "vielleicht", "passt schon",
		"ist ok", "ist okay", "nichts", "k.a.", "egal", "schwer zu sagen", "geht so", "kein kommentar",
	},
	goalPrefixes: []string{
		"wir möchten", "wir wollen", "ziel ist es", "ziel:", "besser verstehen", "verstehen",
		"herausfinden", "erfahren", "ermitteln", "untersuchen", "erkunden", "identifizieren",
		"bewerten", "erfassen",
	},
	goalSuffixes: []string{
		"besser verstehen", "verstehen", "herausfinden", "erfahren", "ermitteln", "untersuchen",
		"erkunden", "identifizieren", "bewerten", "erfassen", "analysieren",
	},
	clauseWords: []string{"wie", "warum", "weshalb", "wieso", "was", "welche", "welcher", "welches", "wann", "wo", "wer", "ob"},
	invitations: []string{"erzählen sie", "beschreiben sie", "schildern sie", "erklären sie"},
}
