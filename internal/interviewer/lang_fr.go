package interviewer

// french addresses the participant formally (vous), with French typography: « » and a
// no-break space before ? and :.
//
//nolint:misspell // the spell checker knows English only
var french = &templates{
	tag:             "fr",
	name:            "French",
	quoteOpen:       "«" + nbsp,
	quoteClose:      nbsp + "»",
	greeting:        "Merci de participer à cette étude sur %s. %s",
	greetingNoTitle: "Merci de participer à cette étude. %s",
	closing:         "Merci, c'est tout pour mes questions. Je vous remercie sincèrement d'avoir pris le temps de partager votre expérience.",
	probes: []string{
		"Pourriez-vous m'en dire plus" + nbsp + "? Par exemple, décrivez une situation précise liée à %s" + nbsp + ": que s'est-il passé, et comment l'avez-vous vécu" + nbsp + "?",
		"J'aimerais mieux comprendre. En pensant à %s, pourriez-vous me décrire un exemple concret tiré de votre propre expérience" + nbsp + "?",
		"Pourriez-vous développer un peu" + nbsp + "? Concernant %s, qu'est-ce qui compte le plus pour vous, et pourquoi" + nbsp + "?",
		"Merci, c'est utile. À propos de %s, pourriez-vous me donner l'exemple d'un moment où cela s'est particulièrement bien ou mal passé" + nbsp + "?",
	},
	topicQuestion:  "Parlez-moi de votre expérience concernant «" + nbsp + "%s" + nbsp + "».",
	clauseQuestion: "D'après votre propre expérience, pourriez-vous me dire %s" + nbsp + "?",
	generic: []string{
		"Quand vous pensez à %s, qu'est-ce qui vous vient à l'esprit en premier" + nbsp + "?",
		"Pourriez-vous décrire une expérience récente en lien avec ce sujet" + nbsp + "?",
		"Qu'est-ce qui fonctionne bien pour vous, et qu'est-ce qui est frustrant ou difficile" + nbsp + "?",
		"Si vous pouviez changer une seule chose, laquelle serait-ce, et pourquoi" + nbsp + "?",
		"Y a-t-il autre chose que vous aimeriez partager et dont nous n'avons pas encore parlé" + nbsp + "?",
	},
	thisTopic:   "ce sujet",
	titleQuoted: true,
	vague: []string{
		"je ne sais pas", "je sais pas", "sais pas", "aucune idée", "pas sûr", "pas sûre",
		"peut-être", "ça va", "rien", "bof", "difficile à dire", "c'est bien", "pas vraiment",
		"sans avis", "sans commentaire",
	},
	goalPrefixes: []string{
		"nous voulons", "nous souhaitons", "l'objectif est de", "objectif:", "mieux comprendre",
		"comprendre", "identifier", "découvrir", "explorer", "évaluer", "savoir", "déterminer",
		"analyser", "recueillir",
	},
	clauseWords: []string{"comment", "pourquoi", "ce que", "ce qui", "quel", "quelle", "quels", "quelles", "quand", "où", "qui", "si"},
	invitations: []string{"parlez-moi", "racontez-moi", "décrivez", "expliquez"},
}
