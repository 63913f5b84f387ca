package interviewer

// spanish addresses the participant formally (usted).
//
//nolint:misspell // the spell checker knows English only
var spanish = &templates{
	tag:             "es",
	name:            "Spanish",
	quoteOpen:       "«",
	quoteClose:      "»",
	greeting:        "Gracias por participar en este estudio sobre %s. %s",
	greetingNoTitle: "Gracias por participar en este estudio. %s",
	closing:         "Muchas gracias, esas son todas mis preguntas. Le agradezco mucho que se haya tomado el tiempo de compartir sus experiencias.",
	probes: []string{
		"¿Podría contarme un poco más? Por ejemplo, describa una situación concreta relacionada con %s: ¿qué pasó y cómo se sintió?",
		"Me gustaría entenderlo mejor. Pensando en %s, ¿podría describirme un ejemplo concreto de su propia experiencia?",
		"¿Podría ampliar un poco su respuesta? En cuanto a %s, ¿qué es lo más importante para usted y por qué?",
		"Gracias, es útil. Respecto a %s, ¿podría darme un ejemplo de un momento en que algo salió especialmente bien o mal?",
	},
	topicQuestion:  "Cuénteme su experiencia en relación con «%s».",
	clauseQuestion: "Según su propia experiencia, ¿podría contarme %s?",
	generic: []string{
		"Cuando piensa en %s, ¿qué es lo primero que le viene a la mente?",
		"¿Podría describir una experiencia reciente relacionada con este tema?",
		"¿Qué le funciona bien y qué le resulta frustrante o difícil?",
		"Si pudiera cambiar una sola cosa, ¿cuál sería y por qué?",
		"¿Hay algo más que le gustaría compartir y de lo que aún no hayamos hablado?",
	},
	thisTopic:   "este tema",
	titleQuoted: true,
	vague: []string{
		"no sé", "no se", "ni idea", "no estoy seguro", "no estoy segura", "quizás", "quizas",
		"tal vez", "está bien", "esta bien", "nada", "da igual", "difícil de decir", "sin comentarios",
	},
	goalPrefixes: []string{
		"queremos", "nos gustaría", "el objetivo es", "objetivo:", "entender mejor",
		"comprender mejor", "entender", "comprender", "identificar", "descubrir", "explorar",
		"evaluar", "conocer", "saber", "determinar", "averiguar", "analizar",
	},
	clauseWords: []string{"cómo", "como", "por qué", "qué", "cuál", "cuáles", "cuándo", "dónde", "quién", "quiénes", "si"},
	invitations: []string{"cuénteme", "describa", "hábleme", "explíqueme"},
}
