package vendors

import "fmt"

// Warner is implemented by drivers that can say where a device's files
// depart from what the admin asked: a time zone, language or tone scheme
// the model has no exact value for and that the driver wrote as the
// nearest one. The core shows the notes on the device (API, preview, UI);
// a driver without the capability has nothing to say. Each note is a
// Text: the API says its English, the web UI its German.
type Warner interface {
	// Warnings returns one sentence per departure for the device as Render
	// would see it (secrets are never needed); nil when every value is
	// written as asked. Pure, like Render.
	Warnings(d *Device) []Text
}

// Warnings asks v for the device's notes when it implements Warner.
func Warnings(v Vendor, d *Device) []Text {
	if w, ok := v.(Warner); ok && d != nil {
		return w.Warnings(d)
	}
	return nil
}

// FormatOffset writes a UTC offset in seconds as "+5:30", "-5:00", "+0:00".
func FormatOffset(sec int) string {
	sign := "+"
	if sec < 0 {
		sign, sec = "-", -sec
	}
	return fmt.Sprintf("%s%d:%02d", sign, sec/3600, (sec%3600)/60)
}

// ZoneWarning is the one wording of a zone a model cannot carry exactly:
// z is the zone asked for, written the value the file carries, offset the
// standard offset that value stands for and dst whether it observes
// daylight saving time. It returns a Text without Format when the two
// agree on both. Example (its String): "Asia/Kolkata is +5:30; the N870
// has no such zone: Asia/Karachi (+5:00) written, 30 minutes off".
func ZoneWarning(z Zone, model, written string, offset int, dst bool) Text {
	if z.Name == "" {
		return Text{}
	}
	var what []Text
	if d := offset - z.Offset; d != 0 {
		if d < 0 {
			d = -d
		}
		what = append(what, T("%s off", durationText(d)))
	}
	if zd := z.DST != nil; zd != dst {
		if zd {
			what = append(what, T("without daylight saving time"))
		} else {
			what = append(what, T("with daylight saving time the zone does not observe"))
		}
	}
	var diff Text
	switch len(what) {
	case 0:
		return Text{}
	case 1:
		diff = what[0]
	default:
		diff = T("%s, %s", what[0], what[1])
	}
	if z.DST != nil {
		return T("%s is %s with daylight saving time; the %s has no such zone: %s (%s) written, %s",
			z.Name, FormatOffset(z.Offset), model, written, FormatOffset(offset), diff)
	}
	return T("%s is %s; the %s has no such zone: %s (%s) written, %s",
		z.Name, FormatOffset(z.Offset), model, written, FormatOffset(offset), diff)
}

func durationText(sec int) Text {
	h, m := sec/3600, (sec%3600)/60
	switch {
	case h == 0:
		return T("%d minutes", m)
	case m == 0 && h == 1:
		return T("1 hour")
	case m == 0:
		return T("%d hours", h)
	}
	return T("%d h %d min", h, m)
}

// The kinds of value FallbackWarning words.
var (
	KindLanguage        = T("language")
	KindWebLanguage     = T("web language")
	KindHandsetLanguage = T("handset language")
	KindToneScheme      = T("tone scheme")
)

// FallbackWarning is the one wording of a language or tone scheme a model
// has no value for: kind is one of the Kind texts, asked the product's
// code (a key of Languages or ToneSchemes; its name is translated like
// the settings' names) and written the vendor value the file carries
// instead. Example (its String): "language cs (Czech): the T54W has
// none; English written".
func FallbackWarning(kind Text, asked, model, written string) Text {
	name := Languages[asked]
	if kind.Format == KindToneScheme.Format {
		name = ToneSchemes[asked]
	}
	n := Text{Format: name}
	if name == "" {
		n = T("%s", asked)
	}
	return T("%s %s (%s): the %s has none; %s written", kind, asked, n, model, written)
}
