package channels

// labelsES are the channel names a Spanish reader sees (issue 19 item 9);
// networks keep their brand names.
var labelsES = map[string]string{"website": "Sitio web", "youtube": "Descripción de YouTube"}

// LabelIn is Label in language ("en" or "es"): the consent form, the
// patient's pages and the certificate name channels in the reader's language.
func LabelIn(language, key string) string {
	if language == "es" {
		if l, ok := labelsES[key]; ok {
			return l
		}
	}
	return Label(key)
}
