package cisco

// tones are a country's call-progress tones as MPP ToneScripts, the
// values of the Regional tab's Dial_Tone, Busy_Tone, Reorder_Tone and
// Ring_Back_Tone. MPP has no country selector: each tone is its own
// parameter (README.md, "Values").
//
// ToneScript syntax (Cisco SPA/MPP administration guides, "Scripting for
// Cadences, Call Progress Tones, and Ring Tones"): "F1@L1[,F2@L2...]"
// (frequency in Hz at level in dBm), then ";" and sections
// "D(on/off/f[,on/off/f...])": D the section's length in seconds ("*"
// forever), on and off in seconds ("*" forever), f the frequencies
// played ("1+2"). At most 127 characters, 6 frequencies, 6 segments.
type tones struct {
	Dial, Busy, Reorder, RingBack string
}

// toneTable maps the product's tone schemes (vendors.ToneSchemes, ISO
// 3166 codes) to ToneScripts. Frequencies and cadences are the national
// tones of ITU-T E.180 Supplement 2 ("Various tones used in national
// networks"): dial tone, busy tone, congestion tone (Cisco's reorder)
// and ringing tone (ring-back). Levels are Cisco's defaults (-19 dBm);
// lengths too: 10 s for dial, busy and reorder, ring-back until
// answered. "US" is Cisco's own defaults (350+440 dial, 480+620 busy and
// reorder, 440+480 ring-back), so a phone moved back gets them.
var toneTable = map[string]tones{
	"US": {Dial: "350@-19,440@-19;10(*/0/1+2)", Busy: "480@-19,620@-19;10(.5/.5/1+2)",
		Reorder: "480@-19,620@-19;10(.25/.25/1+2)", RingBack: "440@-19,480@-19;*(2/4/1+2)"},
	"GB": {Dial: "350@-19,440@-19;10(*/0/1+2)", Busy: "400@-19;10(.375/.375/1)",
		Reorder: "400@-19;10(.4/.35/1,.225/.525/1)", RingBack: "400@-19,450@-19;*(.4/.2/1+2,.4/2/1+2)"},
	"DE": {Dial: "425@-19;10(*/0/1)", Busy: "425@-19;10(.48/.48/1)",
		Reorder: "425@-19;10(.24/.24/1)", RingBack: "425@-19;*(1/4/1)"},
	"AT": {Dial: "420@-19;10(*/0/1)", Busy: "420@-19;10(.4/.4/1)",
		Reorder: "420@-19;10(.2/.2/1)", RingBack: "420@-19;*(1/5/1)"},
	"CH": {Dial: "425@-19;10(*/0/1)", Busy: "425@-19;10(.5/.5/1)",
		Reorder: "425@-19;10(.2/.2/1)", RingBack: "425@-19;*(1/4/1)"},
	"FR": {Dial: "440@-19;10(*/0/1)", Busy: "440@-19;10(.5/.5/1)",
		Reorder: "440@-19;10(.25/.25/1)", RingBack: "440@-19;*(1.5/3.5/1)"},
	"IT": {Dial: "425@-19;10(.2/.2/1,.6/1/1)", Busy: "425@-19;10(.5/.5/1)",
		Reorder: "425@-19;10(.2/.2/1)", RingBack: "425@-19;*(1/4/1)"},
	"ES": {Dial: "425@-19;10(*/0/1)", Busy: "425@-19;10(.2/.2/1)",
		Reorder: "425@-19;10(.2/.2/1,.2/.2/1,.2/.6/1)", RingBack: "425@-19;*(1.5/3/1)"},
	"NL": {Dial: "425@-19;10(*/0/1)", Busy: "425@-19;10(.5/.5/1)",
		Reorder: "425@-19;10(.25/.25/1)", RingBack: "425@-19;*(1/4/1)"},
	"BE": {Dial: "425@-19;10(*/0/1)", Busy: "425@-19;10(.5/.5/1)",
		Reorder: "425@-19;10(.167/.167/1)", RingBack: "425@-19;*(1/3/1)"},
	"PL": {Dial: "425@-19;10(*/0/1)", Busy: "425@-19;10(.5/.5/1)",
		Reorder: "425@-19;10(.5/.5/1)", RingBack: "425@-19;*(1/4/1)"},
	"CZ": {Dial: "425@-19;10(.33/.33/1,.66/.66/1)", Busy: "425@-19;10(.33/.33/1)",
		Reorder: "425@-19;10(.165/.165/1)", RingBack: "425@-19;*(1/4/1)"},
	"SE": {Dial: "425@-19;10(*/0/1)", Busy: "425@-19;10(.25/.25/1)",
		Reorder: "425@-19;10(.25/.75/1)", RingBack: "425@-19;*(1/5/1)"},
	"DK": {Dial: "425@-19;10(*/0/1)", Busy: "425@-19;10(.25/.25/1)",
		Reorder: "425@-19;10(.25/.25/1)", RingBack: "425@-19;*(1/4/1)"},
	"NO": {Dial: "425@-19;10(*/0/1)", Busy: "425@-19;10(.5/.5/1)",
		Reorder: "425@-19;10(.2/.2/1)", RingBack: "425@-19;*(1/4/1)"},
	"PT": {Dial: "425@-19;10(*/0/1)", Busy: "425@-19;10(.5/.5/1)",
		Reorder: "425@-19;10(.2/.2/1)", RingBack: "425@-19;*(1/5/1)"},
	"RU": {Dial: "425@-19;10(*/0/1)", Busy: "425@-19;10(.4/.4/1)",
		Reorder: "425@-19;10(.2/.2/1)", RingBack: "425@-19;*(.8/3.2/1)"},
	"TR": {Dial: "450@-19;10(*/0/1)", Busy: "450@-19;10(.5/.5/1)",
		Reorder: "450@-19;10(.2/.2/1,.2/.2/1,.2/.2/1,.6/.2/1)", RingBack: "450@-19;*(2/4/1)"},
	"AU": {Dial: "413@-19,438@-19;10(*/0/1+2)", Busy: "425@-19;10(.375/.375/1)",
		Reorder: "425@-19,420@-19;10(.375/.375/1,.375/.375/2)", RingBack: "413@-19,438@-19;*(.4/.2/1+2,.4/2/1+2)"},
}

// toneScripts returns the ToneScripts of a tone scheme; ok is false for
// "" and for a scheme the table lacks (the phone keeps its own tones).
func toneScripts(scheme string) (tones, bool) {
	t, ok := toneTable[scheme]
	return t, ok
}
